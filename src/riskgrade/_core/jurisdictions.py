"""GB/T 2260 jurisdictions: the chain province → city → county a layer refines along.

The divisions riskgrade knows by name are Gansu and Baiyin (data verified from two
region datasets, see ``reference/gb2260_gansu_baiyin.csv``). The Baiyin high-tech zone
(白银高新技术产业开发区) has no code of its own; it is a named sub-jurisdiction of the
city, written ``620400/白银高新技术产业开发区`` (the same form the region roll-up uses).
Other well-formed codes get their chain from the code's structure and show as the code,
except below a city whose divisions are all known (Baiyin): there an unlisted code such as
620432 is not a jurisdiction, and is an error rather than a county without layers.

>>> [j.code for j in chain("620421")]
['620000', '620400', '620421']
>>> get("620421").label
'620421 靖远县'
>>> [j.label for j in chain("620400/高新区")][-1]
'620400 白银高新技术产业开发区'
"""

from __future__ import annotations

import re

import attrs

from riskgrade.exceptions import Problem, RulesetError

__all__ = ["HITECH_ZONE", "Jurisdiction", "chain", "get", "known"]

#: the Baiyin high-tech zone: a named sub-jurisdiction of 620400 without a code of its own
HITECH_ZONE = "620400/白银高新技术产业开发区"

_CODE = re.compile(r"^[1-8][0-9]{5}$")


@attrs.frozen
class Jurisdiction:
    """One jurisdiction: ``code`` (GB/T 2260, or ``city/zone name``), its Chinese ``name``,
    its ``kind`` (``province``, ``city``, ``county`` or ``zone``) and its ``parent`` code."""

    code: str
    name: str
    kind: str
    parent: str | None

    @property
    def label(self) -> str:
        """``code name``, the way provenance lines name a jurisdiction (``620421 靖远县``)."""
        if self.kind == "zone":
            return f"{self.parent} {self.name}"
        return f"{self.code} {self.name}" if self.name and self.name != self.code else self.code


# 620401 市辖区 is a statistical placeholder, not a jurisdiction that issues standards; it is left out
_KNOWN: dict[str, Jurisdiction] = {j.code: j for j in (
    Jurisdiction("620000", "甘肃省", "province", None),
    Jurisdiction("620400", "白银市", "city", "620000"),
    Jurisdiction("620402", "白银区", "county", "620400"),
    Jurisdiction("620403", "平川区", "county", "620400"),
    Jurisdiction("620421", "靖远县", "county", "620400"),
    Jurisdiction("620422", "会宁县", "county", "620400"),
    Jurisdiction("620423", "景泰县", "county", "620400"),
    Jurisdiction(HITECH_ZONE, "白银高新技术产业开发区", "zone", "620400"),
)}
#: the cities whose every county-level division is in the table: any other code below them is unknown
_COMPLETE = frozenset({"620400"})
_ALIASES = {"620400/高新区": HITECH_ZONE, "620400/白银高新区": HITECH_ZONE, "620400/hitech": HITECH_ZONE}


def known() -> tuple[Jurisdiction, ...]:
    """The jurisdictions riskgrade knows by name, province first.

    >>> [j.code for j in known()][:3]
    ['620000', '620400', '620402']
    """
    return tuple(_KNOWN.values())


def _bad(code: str, message: str) -> RulesetError:
    return RulesetError([Problem("unknown-jurisdiction", message, code)])


def get(code: str) -> Jurisdiction:
    """The jurisdiction ``code``; raises :class:`RulesetError` (``unknown-jurisdiction``) if malformed.

    >>> get("620000").kind, get("110105").parent
    ('province', '110100')
    """
    code = _ALIASES.get(code, code)
    if code in _KNOWN:
        return _KNOWN[code]
    if "/" in code:
        parent, _, zone = code.partition("/")
        if not zone or not _CODE.match(parent) or get(parent).kind != "city":
            raise _bad(code, f"{code!r}: a zone is written 'citycode/zone name', e.g. {HITECH_ZONE!r}")
        return Jurisdiction(code, zone, "zone", parent)
    if not _CODE.match(code):
        raise _bad(code, f"{code!r} is not a GB/T 2260 six-digit code (e.g. 620421)")
    if code[:4] + "00" in _COMPLETE and code not in _KNOWN:
        city = _KNOWN[code[:4] + "00"]
        raise _bad(code, f"{code!r} is not a division of {city.label} (known: "
                         f"{', '.join(j.code for j in _KNOWN.values() if j.parent == city.code and j.kind != 'zone')})")
    if code.endswith("0000"):
        return Jurisdiction(code, code, "province", None)
    if code.endswith("00"):
        return Jurisdiction(code, code, "city", code[:2] + "0000")
    return Jurisdiction(code, code, "county", code[:4] + "00")


def chain(code: str) -> tuple[Jurisdiction, ...]:
    """The jurisdictions from the province down to ``code``, province first.

    >>> [j.code for j in chain("620400")]
    ['620000', '620400']
    """
    out: list[Jurisdiction] = []
    j: Jurisdiction | None = get(code)
    while j is not None:
        out.append(j)
        j = get(j.parent) if j.parent else None
    return tuple(reversed(out))
