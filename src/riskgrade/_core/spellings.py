"""One spelling table for the words registers, roll-ups and events share.

Grades 一级…四级 (major hazard installations, safety standardisation), accident severities
(国务院令第493号), hidden-danger grades and statuses: each accepted spelling maps to one key.

>>> GRADES["三级"], GRADES[3], GRADES["3"]
(3, 3, 3)
>>> ACCIDENT_SPELLINGS["一般事故"], ACCIDENT_SPELLINGS["较大"], ACCIDENT_SPELLINGS["major"]
('general', 'larger', 'major')
>>> HIDDEN_DANGER_GRADES["重大事故隐患"], HIDDEN_DANGER_STATUSES["已验收"]
('major', 'verified')
>>> tier_cascade("department")
('department', 'team', 'post')
"""

from __future__ import annotations

__all__ = ["ACCIDENT_GRADES", "ACCIDENT_SPELLINGS", "CONTROL_TIERS", "GRADES", "GRADE_ZH", "HIDDEN_DANGER_GRADES",
           "HIDDEN_DANGER_STATUSES", "accident_rank", "tier_cascade"]

#: control tiers (管控层级), highest first: key → (zh, en)
CONTROL_TIERS: dict[str, tuple[str, str]] = {
    "company": ("公司(厂)级", "company"), "department": ("车间(部室)级", "department"),
    "team": ("班组级", "team"), "post": ("岗位级", "post"),
}


def tier_cascade(top: str) -> tuple[str, ...]:
    """The tiers that control a risk whose highest control tier is ``top``: that tier and every tier
    below it (上级负责管控的风险，下级必须同时负责管控)."""
    order = tuple(CONTROL_TIERS)
    return order[order.index(top):]

#: accident grades of 国务院令第493号, lowest first (key, Chinese name)
ACCIDENT_GRADES: tuple[tuple[str, str], ...] = (
    ("general", "一般"), ("larger", "较大"), ("major", "重大"), ("extraordinary", "特别重大"),
)
#: every accepted spelling of an accident grade → its key (``general``, ``一般``, ``一般事故`` …)
ACCIDENT_SPELLINGS: dict[str, str] = {
    **{k: k for k, _ in ACCIDENT_GRADES},
    **{zh: k for k, zh in ACCIDENT_GRADES},
    **{zh + "事故": k for k, zh in ACCIDENT_GRADES},
}
_ACCIDENT_RANK = {k: i for i, (k, _) in enumerate(ACCIDENT_GRADES)}

#: grades 一级 (highest) … 四级: every accepted spelling (text, digit text, integer) → 1..4
GRADES: dict[str | int, int] = {
    **{zh: n for n, zh in enumerate(("一级", "二级", "三级", "四级"), start=1)},
    **{str(n): n for n in range(1, 5)},
    **{n: n for n in range(1, 5)},
}
#: 1..4 → 一级…四级
GRADE_ZH: dict[int, str] = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

#: hidden-danger grades: every accepted spelling → ``general`` | ``major``
HIDDEN_DANGER_GRADES: dict[str, str] = {
    "general": "general", "一般": "general", "一般隐患": "general", "一般事故隐患": "general",
    "major": "major", "重大": "major", "重大隐患": "major", "重大事故隐患": "major",
}
#: hidden-danger statuses: every accepted spelling → ``open`` | ``rectified`` | ``verified``
HIDDEN_DANGER_STATUSES: dict[str, str] = {
    "open": "open", "未整改": "open", "整改中": "open", "rectified": "rectified", "已整改": "rectified",
    "verified": "verified", "已验收": "verified", "closed": "verified",
}


def accident_rank(grade: str) -> int:
    """0 for ``general`` … 3 for ``extraordinary`` (the key, not a spelling)."""
    return _ACCIDENT_RANK[grade]
