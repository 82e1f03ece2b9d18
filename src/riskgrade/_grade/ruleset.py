"""The compiled artefact: :class:`Ruleset` (frozen), built from the compiler's output.

The compiler (:mod:`riskgrade._compile.pipeline`) produces an :class:`Artefact`: the generated
grading source, the constants it refers to and everything a ruleset knows about itself. This
module executes that source once, registers it in :mod:`linecache` under a readable name (so
tracebacks show the generated line and pdb can step through it) and wraps it in a ``Ruleset``.
"""

from __future__ import annotations

import datetime
import linecache
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from riskgrade import _columnar
from riskgrade._compile.extension import Method
from riskgrade._compile.pipeline import Artefact
from riskgrade._compile.tables import Bands, Matrix, Table
from riskgrade._core.canonical import dumps, fmt_number
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._grade import runtime, whatif
from riskgrade._grade.assessment import Assessment, Fired, RulesetRef, Step
from riskgrade._grade.whatif import Counterfactuals
from riskgrade.exceptions import FactError, Problem

__all__ = ["CaseResult", "Ruleset", "build", "canonical", "error_problems", "fired_problems", "run_case_safely"]

_n = fmt_number


def _label(v: Any, lang: str = "en") -> str:
    if isinstance(v, dict):
        return str(v.get(lang) or v.get("en") or v.get("zh") or "")
    return "" if v is None else str(v)


@attrs.frozen
class CaseResult:
    """The outcome of one ruleset case: ``ok`` and, when not, what differed.

    ``file``/``line`` locate the case in its YAML (0 when unknown).
    """

    ruleset: str
    index: int
    note: str
    ok: bool
    expected: Mapping[str, Any]
    actual: Mapping[str, Any]
    problems: tuple[str, ...] = ()
    file: str = ""
    line: int = 0


@attrs.frozen(eq=False, slots=False, repr=False)
class Ruleset:
    """A compiled, immutable ruleset. Grading is a pure function of (ruleset, facts).

    Build one with :func:`riskgrade.load`.

    >>> import riskgrade
    >>> rs = riskgrade.load("lec-generic")
    >>> rs.id, rs.grade({"L": 3, "E": 6, "C": 15}).level.zh
    ('lec-generic', '较大风险')
    """

    id: str
    version: str
    edition: str
    sector: str
    jurisdiction: str
    title: Mapping[str, str]
    effective: datetime.date
    fingerprint: str
    file: str
    ref: RulesetRef
    sources: Mapping[str, Mapping[str, Any]]
    inputs: Mapping[str, Mapping[str, Any]]
    tables: Mapping[str, Table]
    bands: Mapping[str, Bands]
    matrices: Mapping[str, Matrix]
    rules: tuple[Mapping[str, Any], ...]
    cases: tuple[Mapping[str, Any], ...]
    control_tiers: Mapping[Level, str]
    doc: Mapping[str, Any]
    layers: tuple[Any, ...]
    #: every file the ruleset was built from (YAML, CSV tables, layer files)
    files: tuple[str, ...]
    _sections: Mapping[str, Any]
    _fn: Callable[[Mapping[str, Any]], Assessment]
    _value_names: tuple[str, ...]
    _input_names: tuple[str, ...]
    _citations: tuple[Citation, ...]
    _methods: tuple[Method, ...]
    _source_code: str
    _code_name: str
    _otherwise_citation: Citation | None
    _case_lines: tuple[int, ...]
    _line_map: Mapping[int, tuple[str, int]]
    _slices: tuple[slice, slice, slice, slice]
    #: what the static checks warn about (unused inputs, unreachable rules ...): Problems of severity
    #: ``warning``, sorted by location; they never stop a load (``riskgrade validate --strict`` fails on them)
    warnings: tuple[Problem, ...] = ()

    # -- grading --------------------------------------------------------------------------------
    def grade(self, facts: Mapping[str, Any]) -> Assessment:
        """Grade one set of facts. Raises :class:`FactError` naming the field on bad input, and
        :class:`~riskgrade.exceptions.FunctionError` when a function or plugin fails.

        (Each compiled ruleset replaces this method by its generated grading function,
        so a call costs no wrapper; this definition documents it.)
        """
        return self._fn(facts)

    def grade_many(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Assessment | FactError]:
        """Grade each record; yields exactly one result per input, in order: an
        :class:`Assessment` or a :class:`FactError` whose ``record`` is the input's index."""
        fn = self._fn
        for i, facts in enumerate(records):
            try:
                yield fn(facts)
            except FactError as e:
                yield e.at(record=i)

    def grade_table(self, table: Any) -> Any:
        """Grade every row of a pyarrow ``Table``/``RecordBatch`` or a pandas/polars ``DataFrame``; a table
        of the same kind, one row per input row, with the columns ``level``, ``score``, each derived
        value, ``fired``, ``error_code`` and ``error_field`` — what :meth:`grade_many` gives for the rows
        as records (a null cell is an absent fact). Needs ``riskgrade[columnar]``; see docs/columnar.md.
        """
        return _columnar.grade_table(self, table)

    def counterfactuals(self, facts: Mapping[str, Any], target: Level | str | None = None,
                        fixed: Iterable[str] = ()) -> Counterfactuals:
        """The smallest changes to the inputs of ``facts`` (within their allowed values and ranges;
        the fields in ``fixed`` stay) that grade the record at ``target`` or lower (default: one
        level below its level), ranked by the number of fields changed, then by distance. A bounded
        search, documented in docs/authoring.md ("What would change the level").

        >>> import riskgrade
        >>> rs = riskgrade.load("lec-generic")
        >>> [o.text() for o in rs.counterfactuals({"L": 3, "E": 3, "C": 40}).options]
        ['L 3 → 1', 'E 3 → 2', 'C 40 → 15']
        """
        return whatif.counterfactuals(self, facts, target, fixed)

    def section(self, name: str) -> Any:
        """The compiled optional section ``name`` (e.g. ``rollup``), or None."""
        return self._sections.get(name)

    def provenance(self) -> list[str]:
        """Every change the ruleset's jurisdiction layers made, one line each, in the order applied.

        >>> import riskgrade
        >>> riskgrade.load("lec-generic").provenance()
        []
        """
        return [ch for lay in (self.doc.get("layers") or ()) for ch in lay.get("changes") or ()]

    def source_line(self, lineno: int) -> tuple[str, int] | None:
        """The YAML ``(file, line)`` that line ``lineno`` of the generated grading code came from."""
        return self._line_map.get(lineno)

    def __repr__(self) -> str:
        return f"<Ruleset {self.id} {self.version} ({self.edition}) {self.jurisdiction} {self.fingerprint[:12]}>"

    # -- explanation ----------------------------------------------------------------------------
    def _fired(self, a: Assessment) -> tuple[Fired, ...]:
        out = []
        values = a.values
        levels, details = a[self._slices[2]], a[self._slices[3]]
        for i, rule in enumerate(self.rules):
            lv = levels[i]
            if not lv:
                continue
            detail = self._detail(i, details[i], values, a.inputs, "en")
            out.append(Fired(rule["id"], Level(lv), self._citations[i], _label(rule.get("label"), "en"), detail))
        return tuple(out)

    def _detail(self, i: int, detail: Any, values: Mapping[str, Any], inputs: Mapping[str, Any],
                lang: str) -> str:
        """The one-line explanation of rule ``i``'s outcome, from its method's declaration."""
        rule, m = self.rules[i], self._methods[i]
        if m.explain is not None:
            return m.explain(rule, detail, values, lang)
        if m.banded:
            return self._band_detail(rule, m, detail, values, inputs, lang)
        return f"{m.name}: {'成立' if lang == 'zh' else 'holds'}" if detail else m.name

    def _band_detail(self, rule: Mapping[str, Any], m: Method, idx: Any, values: Mapping[str, Any],
                     inputs: Mapping[str, Any], lang: str) -> str:
        out, parts, op, tails = self._band_words(rule, m, lang)
        val = values.get(out, "?")
        tail = tails.get(idx)
        if tail is None:
            tail = self._band_tail(rule, out, tails, idx, lang)
        formula = ""
        if op:
            known = {**inputs, **values}
            nums = [_n(known[p]) if p in known else p for p in parts]
            formula = f" = {op.join(parts)} = {op.join(nums)}"
        return f"{out}{formula} = {_n(val)}{tail}"

    def _band_tail(self, rule: Mapping[str, Any], out: str, tails: dict[Any, str], idx: Any, lang: str) -> str:
        """Band row ``idx``'s text in a banded rule's detail (kept in ``tails``, one per row)."""
        b = self.bands[rule["bands"]]
        lab = _label(b.rows[idx].get("label"), lang)
        tail = tails[idx] = f": {b.row_text(idx, out)}" + (f" ({lab})" if lab else "")
        return tail

    def _band_words(self, rule: Mapping[str, Any], m: Method, lang: str) -> tuple[str, list[str], str, dict[Any, str]]:
        """What a banded rule's detail says whatever the record: its output's name, the formula's terms,
        the operator, and (filled as rows are met) each band row's text in ``lang``."""
        cache: dict[tuple[int, str], Any] = self.__dict__.setdefault("_band_words_cache", {})
        key = (id(rule), lang)
        hit = cache.get(key)
        if hit is None:
            out = m.score_name(rule) or "score"
            # an omitted term computed by the rule itself shows under its output name (ls: S_as)
            parts = ([str(text if k in rule else rule.get(f"{k}_as", text)) for k, text, _ in m.expression_keys(rule)]
                     if m.operator else [])
            hit = cache[key] = (out, parts, f" {m.operator} " if m.operator else "", {}), rule
        return hit[0]

    def _trace(self, a: Assessment, lang: str) -> list[Step]:
        """The steps of ``a``'s explanation (:meth:`_lines` as :class:`Step` objects)."""
        keys: list[tuple[str, str]] = []
        texts = self._lines(a, lang, keys)
        return [Step(kind, name, text) for (kind, name), text in zip(keys, texts, strict=True)]

    def _lines(self, a: Assessment, lang: str, keys: list[tuple[str, str]] | None = None) -> list[str]:
        """The lines of ``a``'s explanation (and, into ``keys`` when given, each line's kind and name). What
        is constant per ruleset and language (each input's and rule's words, citations, the band rows' text,
        the decision, where each number sits in the raw result) comes from :meth:`_words`; per record only
        the numbers are formatted, each once (an input's text serves its input line and the formulas)."""
        w = self._words(lang)
        texts: list[str] = []
        shown: dict[Any, str] = {}  # raw position -> its number's text, formatted once per record
        for key, pos, head, unit, meanings in w.inputs:
            v = a[pos]
            if v is None:
                continue
            if keys is not None:
                keys.append(key)
            if isinstance(v, list):
                texts.append(f"{head}{len(v)} {w.records}")
            else:
                t = shown[pos] = _n(v)
                texts.append(f"{head}{t}{unit}{meanings.get(v, '')}")
        if w.links:
            for s in self._link_steps(a.values, lang):
                if keys is not None:
                    keys.append((s.kind, s.name))
                texts.append(s.text)
        for key, pos, head in w.derive:
            t = shown[pos] = shown.get(pos) or _n(a[pos])
            if keys is not None:
                keys.append(key)
            texts.append(f"{head}{t}")
        levels, details = a[w.levels], a[w.details]
        results = w.results
        generic: tuple[dict[str, Any], dict[str, Any]] | None = None
        for i, (key, head, tail, band) in enumerate(w.rules):
            lv = levels[i]
            if keys is not None:
                keys.append(key)
            if band is None:
                if generic is None:
                    generic = a.values, a.inputs
                texts.append(f"{head}{self._detail(i, details[i], generic[0], generic[1], lang)} {results[lv]}{tail}")
                continue
            # a term is a raw position (a number: its text) or a literal text (no such input or value)
            rule, out, pre, terms, op, vt, tails = band
            idx = details[i]
            row = tails.get(idx) or self._band_tail(rule, out, tails, idx, lang)
            val = shown.get(vt) or (vt if vt.__class__ is str else _n(a[vt]))
            if terms is None:
                texts.append(f"{head}{pre}{val}{row} {results[lv]}{tail}")
            else:
                nums = [shown.get(p) or (p if p.__class__ is str else _n(a[p])) for p in terms]
                texts.append(f"{head}{pre}{op.join(nums)} = {val}{row} {results[lv]}{tail}")
        if keys is not None:
            keys.append(_DECISION)
            keys += w.layer_keys
        texts.append(w.decision[a.level, any(levels)])
        texts += w.layer_texts
        return texts

    def _words(self, lang: str) -> _Words:
        words: dict[str, _Words] = self.__dict__.setdefault("_explain_words", {})
        w = words.get(lang)
        if w is None:
            w = words[lang] = _Words(self, lang)
        return w

    def _link_steps(self, vals: Mapping[str, Any], lang: str) -> list[Step]:
        """One step per link (``links:``): which ruleset graded which fact, with its fingerprint, the
        level, the score and the linked values; or that the fact was not given."""
        zh = lang == "zh"
        steps = []
        for name, rec in (self.doc.get("linked") or {}).items():
            ref = rec["ruleset"]
            who = (f"{ref['id']} {ref['version']} ({ref['edition']}; {'指纹' if zh else 'fingerprint'} "
                   f"{ref['fingerprint'][:19]}…)")
            head = f"{'关联' if zh else 'link'} {name}: {who}"
            res = vals.get(name)
            if res is None:
                text = (f"{head}: 未提供 {rec['facts']}, 关联值均为空" if zh
                        else f"{head}: {rec['facts']} not given, the link's values are null")
            else:
                lv = res["level"]
                score = f"{rec['score']} = {_n(res['score'])}" if res["score"] is not None else ""
                more = "; ".join(f"{name}_{k} = {_n(v)}" for k, v in res["values"].items())
                text = (f"{head} {'评定' if zh else 'graded'} {rec['facts']} → {lv.name} {lv.label(lang)}"
                        + (f", {'得分' if zh else 'score'} {score}" if score else "") + (f"; {more}" if more else ""))
            steps.append(Step("link", name, text))
        return steps

    # -- cases ----------------------------------------------------------------------------------
    def run_cases(self) -> list[CaseResult]:
        """Run the ruleset's own ``cases``; each result says what was expected and what came out."""
        lines = self._case_lines
        return [attrs.evolve(_run_case(self, i, c), file=self.file, line=lines[i] if i < len(lines) else 0)
                for i, c in enumerate(self.cases)]

    def describe(self) -> dict[str, Any]:
        """Metadata for listings."""
        return {"id": self.id, "title": dict(self.title), "sector": self.sector, "jurisdiction": self.jurisdiction,
                "version": self.version, "edition": self.edition, "effective": self.effective.isoformat(),
                "fingerprint": self.fingerprint, "file": self.file}


def _run_case(rs: Ruleset, i: int, case: Mapping[str, Any]) -> CaseResult:
    return run_case_safely(rs.id, i, case, lambda: _run_case_checked(rs, i, case))


def run_case_safely(ruleset_id: str, i: int, case: Mapping[str, Any], run: Callable[[], CaseResult]) -> CaseResult:
    """``run()``, or -- when the case crashes -- a failing result saying how (a broken case is a failing
    case, reported with the others)."""
    try:
        return run()
    except Exception as e:
        return CaseResult(ruleset_id, i, str(case.get("note", "")), False, dict(case.get("want") or {}),
                          {"exception": f"{type(e).__name__}: {e}"}, (f"case crashed: {type(e).__name__}: {e}",))


def error_problems(want_err: Mapping[str, Any] | None, e: FactError) -> list[str]:
    """What differs between the error a case wants (``want_error``; None: none) and ``e``."""
    if want_err is None:
        return [f"unexpected error: {e}"]
    out = []
    if e.code != want_err["code"]:
        out.append(f"error code: want {want_err['code']}, got {e.code}")
    if "field" in want_err and e.field != want_err["field"]:
        out.append(f"error field: want {want_err['field']}, got {e.field}")
    return out


def fired_problems(want: Mapping[str, Any], fired: list[str], values: Mapping[str, Any]) -> list[str]:
    """What differs between a case's ``want`` (``values``, ``fired``, ``not_fired``) and the result."""
    out = []
    for k, v in (want.get("values") or {}).items():
        if k not in values:
            out.append(f"value {k}: no such value")
        elif not _close(v, values[k]):
            out.append(f"value {k}: want {v!r}, got {values[k]!r}")
    if "fired" in want and sorted(want["fired"]) != sorted(fired):
        out.append(f"fired: want {sorted(want['fired'])}, got {sorted(fired)}")
    for rid in want.get("not_fired") or ():
        if rid in fired:
            out.append(f"rule {rid} fired but should not")
    return out


def _run_case_checked(rs: Ruleset, i: int, case: Mapping[str, Any]) -> CaseResult:
    note = case["note"]
    want = case.get("want")
    want_err = case.get("want_error")
    problems: list[str] = []
    try:
        a = rs.grade(case["facts"])
    except FactError as e:
        actual: dict[str, Any] = {"error": e.code, "field": e.field}
        problems += error_problems(want_err, e)
        return CaseResult(rs.id, i, note, not problems, dict(want_err or want or {}), actual, tuple(problems))
    fired = [f.id for f in a.fired]
    actual = {"level": a.level.name, "score": a.score, "values": a.values, "fired": fired}
    if want_err is not None:
        problems.append(f"want error {want_err['code']}, got level {a.level.name}")
    elif want is not None:
        if want.get("level") is not None and Level.parse(want["level"]) is not a.level:
            problems.append(f"level: want {Level.parse(want['level']).name}, got {a.level.name}")
        if "score" in want and not _close(want["score"], a.score):
            problems.append(f"score: want {want['score']}, got {a.score}")
        problems += fired_problems(want, fired, a.values)
    return CaseResult(rs.id, i, note, not problems, dict(want_err if want_err is not None else want or {}),
                      actual, tuple(problems))


def _close(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(want == got)
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, str) and isinstance(got, Level):
        return Level.parse(want) is got
    return bool(want == got)




def canonical(a: Assessment) -> str:
    """Canonical JSON of an assessment (used by tests and the CLI)."""
    return dumps(a.to_dict())


def build(art: Artefact) -> Ruleset:
    """Execute the generated grading source of ``art`` and wrap it in a :class:`Ruleset`."""
    name = f"<riskgrade ruleset {art.meta['id']} {art.meta['version']} {art.meta['fingerprint'][7:19]}>"
    src = art.source
    # registered like attrs registers its generated methods: tracebacks and pdb show the source
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    ns = dict(art.namespace)
    ns.update(runtime.namespace(art.locations))
    exec(compile(src, name, "exec"), ns)  # source generated from checked expression trees only
    fn = ns["grade"]
    rs = Ruleset(**art.meta, sections=art.sections, fn=fn, value_names=art.value_names,
                 input_names=art.input_names, citations=art.citations, methods=art.methods,
                 source_code=src, code_name=name, otherwise_citation=art.otherwise_citation,
                 case_lines=art.case_lines, line_map=art.line_map,
                 slices=_slices(len(art.value_names), len(art.input_names), len(art.meta["rules"])))
    # the generated function is the grading entry point itself: no wrapper call per grade
    object.__setattr__(rs, "grade", fn)
    ns["_RS"] = rs  # the generated function builds Assessments that point back at their ruleset
    return rs


def _slices(nv: int, ni: int, nr: int) -> tuple[slice, slice, slice, slice]:
    a = 3
    return (slice(a, a + nv), slice(a + nv, a + nv + ni), slice(a + nv + ni, a + nv + ni + nr),
            slice(a + nv + ni + nr, a + nv + ni + 2 * nr))


_DECISION = ("decision", "level")


class _Words:
    """The words of a ruleset's explanation in one language that are the same for every record, and where
    in the raw result (the Assessment's tuple) each number they show sits."""

    __slots__ = ("decision", "derive", "details", "inputs", "layer_keys", "layer_texts", "levels", "links", "records",
                 "results", "rules")

    def __init__(self, rs: Ruleset, lang: str) -> None:
        zh = lang == "zh"
        # a name given twice shows its last value, as dict(zip()) gives it (values over inputs, as in formulas)
        vs, ins = rs._slices[0].start, rs._slices[1].start
        input_pos = {n: ins + i for i, n in enumerate(rs._input_names)}
        value_pos = {n: vs + i for i, n in enumerate(rs._value_names)}
        known_pos = {**input_pos, **value_pos}
        self.levels, self.details = rs._slices[2], rs._slices[3]
        self.records = "条记录" if zh else "records"
        self.inputs: list[tuple[tuple[str, str], int, str, str, dict[Any, str]]] = []
        for name, spec in rs.inputs.items():
            if spec.get("type") == "record":  # a linked ruleset's facts: see its link step
                continue
            lab = _label(spec.get("label"), lang)
            unit = f" {spec['unit']}" if spec.get("unit") else ""
            meanings: dict[Any, str] = {}  # a value's meaning in the input's table (none: no table)
            if spec.get("table"):
                for key, row in rs.tables[spec["table"]].index.items():
                    meaning = next((str(row[c]) for c in (("zh",) if zh else ("en",)) + ("description_zh", "label")
                                    if row.get(c)), "")
                    meanings[key] = f" — {meaning}" if meaning else ""
            self.inputs.append((("input", name), input_pos[name],
                                f"{'输入' if zh else 'input'} {name}{f' ({lab})' if lab else ''} = ", unit, meanings))
        self.links = bool(rs.doc.get("linked"))
        made_by_links = {n for rec in (rs.doc.get("linked") or {}).values() for n in rec["names"]}
        self.derive = [(("derive", name), value_pos[name], f"{'计算' if zh else 'derive'} {name} = "
                        f"{' '.join(str(spec if not isinstance(spec, dict) else spec['expr']).split())} = ")
                       for name, spec in (rs.doc.get("derive") or {}).items() if name not in made_by_links]
        self.rules: list[tuple[tuple[str, str], str, str, Any]] = []
        for i, rule in enumerate(rs.rules):
            lab = _label(rule.get("label"), lang)
            m = rs._methods[i]
            band = None
            if m.explain is None and m.banded:
                # (rule, output, text before the numbers, each term's raw position or its literal text,
                # operator, the output's raw position (or "?": no such value), the band rows' texts)
                out, parts, op, tails = rs._band_words(rule, m, lang)
                terms = [known_pos.get(p, p) for p in parts] if op else None
                pre = f"{out} = {op.join(parts)} = " if op else f"{out} = "
                band = (rule, out, pre, terms, op, value_pos.get(out, "?"), tails)
            self.rules.append((("rule", rule["id"]), f"{'规则' if zh else 'rule'} {rule['id']}{f' ({lab})' if lab else ''}: ",
                               f"; {'依据' if zh else 'cite'}: {rs._citations[i].text(lang)}", band))
        self.results = {0: "→ 未触发" if zh else "→ not fired"}
        self.results.update({lv.value: f"→ {lv.name} {lv.label(lang)}" for lv in Level})
        fired = "取已触发规则的最高等级" if zh else "the highest level among fired rules"
        cite = rs._otherwise_citation.text(lang) if rs._otherwise_citation else ""
        default = (f"无规则触发, 采用默认等级; 依据: {cite}" if zh
                   else f"no rule fired, the default level applies; cite: {cite}")
        self.decision = {(lv, any_fired): f"{'结论' if zh else 'result'}: {lv.name} "
                                          f"{lv.label(lang)} ({fired if any_fired else default})"
                         for lv in Level for any_fired in (True, False)}
        layers = [(("layer", str(change.get("layer", ""))), f"{'辖区细化' if zh else 'layer'}: {line}")
                  for change in (rs.doc.get("layers") or ()) for line in change.get("changes") or ()]
        self.layer_keys = [k for k, _ in layers]
        self.layer_texts = [t for _, t in layers]
