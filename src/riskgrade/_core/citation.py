"""The one citation type: where a decision comes from, in rulesets, layers, roll-ups and warnings.

>>> c = Citation("gb18218", title="危险化学品重大危险源辨识", number="GB 18218-2018", clause="4.2")
>>> c.text("zh")
'危险化学品重大危险源辨识 GB 18218-2018 4.2 [条款直接规定]'
>>> Citation("local-choice", basis="local", status="unverified").text("en")
'local-choice [local choice] [unverified]'
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["BASES", "STATUSES", "Citation"]


@attrs.frozen
class Citation:
    """Where a decision comes from.

    ``basis`` is the kind of the citation: ``clause`` (a clause that says it directly),
    ``derived`` (a reading derived from a principle of the standard) or ``local`` (a
    local configuration choice). ``status`` is the source's verification status.
    ``layer`` names the jurisdiction layer that introduced or changed the decision.
    """

    source: str
    title: str = ""
    number: str = ""
    clause: str = ""
    basis: str = "clause"
    status: str = "verified"
    layer: str = ""
    #: a short explanation of the reading (e.g. why a roll-up modifier exists); empty for most
    note: str = ""

    def text(self, lang: str = "en") -> str:
        parts = [p for p in (self.title, self.number) if p]
        s = " ".join(parts) or self.source
        if self.clause:
            s += f" {self.clause}" if lang == "zh" else f", {self.clause}"
        zh = 0 if lang == "zh" else 1
        s += f" [{BASES[self.basis][zh] if self.basis in BASES else self.basis}]"
        if self.status != "verified":
            s += f" [{STATUSES[self.status][zh] if self.status in STATUSES else self.status}]"
        if self.layer:
            s += f" [{self.layer}]"
        return s

    def to_dict(self) -> dict[str, Any]:
        d = {"source": self.source, "title": self.title, "number": self.number, "clause": self.clause,
             "basis": self.basis, "status": self.status, "layer": self.layer}
        if self.note:
            d["note"] = self.note
        return d


#: the kinds of citation, with how each is shown (zh, en)
BASES = {"clause": ("条款直接规定", "stated by clause"), "derived": ("据原则推导", "derived from principle"),
         "local": ("本地配置", "local choice")}
#: verification statuses other than ``verified``, with how each is shown (zh, en)
STATUSES = {"unverified": ("未核实", "unverified"), "partial": ("部分核实", "partly verified"),
            "superseded": ("已被替代", "superseded")}
