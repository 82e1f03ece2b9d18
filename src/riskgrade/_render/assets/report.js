/* riskgrade report: filters of the enterprise list; plain script, no modules, no requests, so the
   page works opened from disk (file://). The map's counties (<g id="county-<adcode>-<n>">) filter too. */
(function () {
  "use strict";
  var table = document.getElementById("enterprise-table");
  var form = document.getElementById("filters");
  if (!table || !form) {
    document.documentElement.setAttribute("data-ready", "1");
    return;
  }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var shown = document.getElementById("shown");

  function apply() {
    var levels = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=level]"), function (box) {
      levels[box.value] = box.checked;
    });
    var region = form.elements.region.value;
    var sector = form.elements.sector.value;
    var q = form.elements.q.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (tr) {
      var ok = levels[tr.getAttribute("data-level")] === true &&
        (!region || tr.getAttribute("data-region") === region) &&
        (!sector || (" " + tr.getAttribute("data-sectors") + " ").indexOf(" " + sector + " ") >= 0) &&
        (!q || tr.getAttribute("data-search").indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = shown.getAttribute("data-template")
      .replace("{n}", String(n)).replace("{total}", String(rows.length));
    table.setAttribute("data-shown", String(n));
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  Array.prototype.forEach.call(document.querySelectorAll("figure.map [id^='county-']"), function (g) {
    var code = g.id.split("-")[1];
    g.addEventListener("click", function () {
      form.elements.region.value = code;
      apply();
      table.scrollIntoView();
    });
  });
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
