"""Decision receipts: what a regulator needs to prove later which code graded what.

A receipt names the riskgrade version, every installed plugin distribution with its version, the
ruleset (id, version, edition, jurisdiction, fingerprint, layers), the SHA-256 of the canonical JSON
of the validated inputs (and of the facts as given, when known), and ``id``: the SHA-256 of the
canonical JSON of the whole decision (the result without its receipt, plus the rest of the receipt).
Nothing in it depends on the clock or the machine, so grading the same facts with the same code gives
a byte-identical receipt; :func:`replay` re-grades a stored result and compares it byte for byte
(``riskgrade verify``, :func:`riskgrade.verify`).

>>> import riskgrade
>>> r = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15}).receipt()
>>> r["ruleset"]["id"], r["inputs_sha256"][:7], r["id"][:7]
('lec-generic', 'sha256:', 'sha256:')
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._core.provenance import RulesetRef
from riskgrade.exceptions import FactError, FunctionError

if TYPE_CHECKING:
    from riskgrade._grade.assessment import Assessment
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["POSITION_KEYS", "RECEIPT_VERSION", "VERIFY_STATUSES", "Verification", "canonical_sha256", "facts_json",
           "plugin_versions", "precheck", "receipt", "receipt_json", "replay", "riskgrade_version"]

RECEIPT_VERSION = 1
_GROUP = "riskgrade"


def canonical_sha256(data: Any) -> str:
    """``sha256:`` + the hex SHA-256 of ``dumps(data)`` (canonical JSON: sorted keys, UTF-8, compact).

    >>> canonical_sha256({"b": 1, "a": 2}) == canonical_sha256({"a": 2, "b": 1})
    True
    """
    return "sha256:" + hashlib.sha256(dumps(data).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def riskgrade_version() -> str:
    """The installed riskgrade distribution's version (``?`` when running from a bare source tree)."""
    try:
        return importlib.metadata.version("riskgrade")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "?"


@functools.lru_cache(maxsize=1)
def plugin_versions() -> tuple[tuple[str, str, str], ...]:
    """``(entry point, distribution, version)`` of every installed plugin (entry point group ``riskgrade``),
    sorted: the code that may have contributed methods, functions, layers or roll-up modifiers."""
    out = set()
    for ep in importlib.metadata.entry_points(group=_GROUP):
        dist = ep.dist
        out.add((ep.name, dist.metadata["Name"] if dist else "?", dist.version if dist else "?"))
    return tuple(sorted(out))


def receipt(a: Assessment, facts: Mapping[str, Any] | None = None, *,
            facts_sha256: str | None = None) -> dict[str, Any]:
    """The receipt of ``a`` (see the module docstring); ``facts`` as given adds ``facts_sha256`` (or
    ``facts_sha256`` itself, when only the hash of the facts is known: a replay from ``inputs``)."""
    out: dict[str, Any] = {
        "receipt": RECEIPT_VERSION,
        "riskgrade": riskgrade_version(),
        "plugins": [{"name": n, "dist": d, "version": v} for n, d, v in plugin_versions()],
        "ruleset": a.ruleset.to_dict(),
        "inputs_sha256": _sha256(facts_json(a.inputs)),
    }
    if facts is not None:
        out["facts_sha256"] = _sha256(facts_json(facts))
    elif facts_sha256 is not None:
        out["facts_sha256"] = facts_sha256
    # the canonical text of {"result": ..., "receipt": out}: keys in sorted order, the result by its JSON plan
    out["id"] = _sha256(f'{{"receipt":{dumps(out)},"result":{a.to_json()}}}')
    return out


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=256)
def _tail(ref: RulesetRef) -> str:
    # the receipt's keys after inputs_sha256 (plugins, receipt, riskgrade, ruleset), as canonical text
    # without the braces: the same for every result of one ruleset in one installation
    return dumps({"plugins": [{"name": n, "dist": d, "version": v} for n, d, v in plugin_versions()],
                  "receipt": RECEIPT_VERSION, "riskgrade": riskgrade_version(), "ruleset": ref.to_dict()})[1:-1]


def facts_json(facts: Mapping[str, Any]) -> str:
    """``dumps(dict(facts))``: for a dict with text keys (what a JSON reader gives) each value is written
    by :func:`~riskgrade._core.canonical.json_scalar`, in sorted key order, as the canonical dumper writes
    a dict; the same bytes.

    >>> facts_json({"L": 3, "C": 1.5, "id": "红"}) == dumps({"L": 3, "C": 1.5, "id": "红"})
    True
    """
    if facts.__class__ is dict and all(k.__class__ is str for k in facts):
        return "{" + ",".join([f"{json_scalar(k)}:{json_scalar(v)}" for k, v in sorted(facts.items())]) + "}"
    return dumps(dict(facts))


def receipt_json(a: Assessment, result_json: str, inputs_json: str, facts: Mapping[str, Any] | None = None) -> str:
    """``dumps(receipt(a, facts))`` from texts already written: ``result_json`` is ``a.to_json()`` and
    ``inputs_json`` the text of its ``inputs`` (``dumps(a.inputs)``), so no part of the result is
    serialised again; the SHA-256 of the inputs and the receipt ``id`` hash those texts.

    >>> import riskgrade
    >>> a = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15})
    >>> receipt_json(a, a.to_json(), dumps(a.inputs), {"L": 3, "E": 6, "C": 15}) == dumps(
    ...     receipt(a, {"L": 3, "E": 6, "C": 15}))
    True
    """
    rest = f'"inputs_sha256":"{_sha256(inputs_json)}",{_tail(a.ruleset)}}}'
    if facts is not None:  # facts_sha256 sorts before id, id before inputs_sha256
        first = f'"facts_sha256":"{_sha256(facts_json(facts))}",'
        rid = _sha256(f'{{"receipt":{{{first}{rest},"result":{result_json}}}')
        return f'{{{first}"id":"{rid}",{rest}'
    rid = _sha256(f'{{"receipt":{{{rest},"result":{result_json}}}')
    return f'{{"id":"{rid}",{rest}'


# -- replay: the regulator's check ------------------------------------------------------------------
#: the keys of an output line that say where the record came from (and the facts kept with
#: ``--with-input``): not part of the decision, left out when a replay is compared
POSITION_KEYS = ("index", "line", "record", "id", "facts")
#: what :func:`replay` can say of a stored line
VERIFY_STATUSES = ("identical", "differs", "cannot-replay", "no-decision")


@attrs.frozen
class Verification:
    """What replaying one stored result found: ``status`` (``identical``: the same bytes again;
    ``differs``: the same code and ruleset give another result, or the kept input is not the one
    graded; ``cannot-replay``: the code or ruleset named by the receipt is not here; ``no-decision``:
    the line is an error record, there was nothing to decide), a ``reason`` code (None when identical),
    a ``message`` and the receipt ``id`` (None without a receipt)."""

    status: str
    reason: str | None
    message: str
    receipt_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when identical (or when the line was not a decision)."""
        return self.status in ("identical", "no-decision")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "message": self.message, "receipt_id": self.receipt_id}


def precheck(stored: Mapping[str, Any]) -> Verification | None:
    """What can be said of ``stored`` without a ruleset: an error record (``no-decision``), a result
    without a usable receipt (``cannot-replay``, ``no-receipt``); None when a replay is needed."""
    if "error" in stored:
        return Verification("no-decision", str(stored["error"]), "an error record: nothing was decided")
    r = stored.get("receipt")
    if not isinstance(r, Mapping) or not isinstance(r.get("ruleset"), Mapping) or not isinstance(r.get("id"), str):
        return Verification("cannot-replay", "no-receipt", "the result has no receipt (graded with --no-receipt)")
    return None


def replay(rs: Ruleset, stored: Mapping[str, Any]) -> Verification:
    """Re-grade the stored result line ``stored`` (``riskgrade grade --format json``, with its receipt)
    with ``rs`` and compare byte for byte.

    Before grading, the receipt must name this riskgrade version, these plugin distributions and
    versions, and ``rs``'s fingerprint (otherwise ``cannot-replay``). The input is the kept ``facts``
    (``--with-input``; their SHA-256 must equal ``facts_sha256``) or else the result's ``inputs``
    (whose SHA-256 must equal ``inputs_sha256``). The new result, with its receipt, must equal the stored
    one without its position keys, as canonical JSON; a ``trace`` is compared in the language (en or zh)
    it was written in.

    >>> import riskgrade
    >>> rs = riskgrade.load("lec-generic")
    >>> stored = rs.grade({"L": 3, "E": 6, "C": 15}).to_dict(receipt=True)
    >>> replay(rs, stored).status
    'identical'
    >>> replay(rs, {**stored, "score": 271}).reason
    'result'
    """
    early = precheck(stored)
    if early is not None:
        return early
    r = stored["receipt"]
    rid = r.get("id")

    def say(status: str, reason: str | None, message: str) -> Verification:
        return Verification(status, reason, message, rid)

    if r.get("riskgrade") != riskgrade_version():
        return say("cannot-replay", "riskgrade-version",
                   f"graded by riskgrade {r.get('riskgrade')}; this is riskgrade {riskgrade_version()}")
    here = [{"name": n, "dist": d, "version": v} for n, d, v in plugin_versions()]
    if r.get("plugins") != here:
        then = {(p.get("dist"), p.get("version")) for p in r.get("plugins") or () if isinstance(p, Mapping)}
        now = {(p["dist"], p["version"]) for p in here}
        diff = [f"-{d} {v}" for d, v in sorted(then - now, key=str)] + [f"+{d} {v}" for d, v in sorted(now - then)]
        return say("cannot-replay", "plugin-versions",
                   f"the plugins installed differ from the receipt's: {', '.join(diff) or 'their order'}")
    ref = r.get("ruleset")
    fingerprint = ref.get("fingerprint") if isinstance(ref, Mapping) else None
    if fingerprint != rs.fingerprint:
        return say("cannot-replay", "fingerprint-mismatch",
                   f"the receipt names fingerprint {fingerprint}; {rs.id} now loads as {rs.fingerprint}")
    facts = stored.get("facts")
    kept_hash = r.get("facts_sha256")
    if facts is not None:
        if not isinstance(facts, Mapping):
            return say("differs", "facts-sha256", "the kept facts are not a JSON object")
        if kept_hash is not None and canonical_sha256(dict(facts)) != kept_hash:
            return say("differs", "facts-sha256", "the kept facts are not the ones graded (their SHA-256 differs "
                                                  "from the receipt's facts_sha256)")
        given: Mapping[str, Any] = facts
    else:
        inputs = stored.get("inputs")
        if not isinstance(inputs, Mapping) or canonical_sha256(dict(inputs)) != r.get("inputs_sha256"):
            return say("differs", "inputs-sha256", "the result's inputs are not the ones graded (their SHA-256 "
                                                   "differs from the receipt's inputs_sha256)")
        given = inputs
    try:
        a = rs.grade(given)
    except (FactError, FunctionError) as e:
        return say("differs", "not-gradable", f"the input no longer grades: {e}")
    want = dumps({k: v for k, v in stored.items() if k not in POSITION_KEYS})
    langs = ("en", "zh") if "trace" in stored else ("en",)
    for lang in langs:
        again = a.to_dict(trace="trace" in stored, lang=lang)
        again["receipt"] = receipt(a, facts if facts is not None and kept_hash is not None else None,
                                   facts_sha256=None if facts is not None else kept_hash)
        if dumps(again) == want:
            return say("identical", None, "the same code and ruleset give the same bytes")
    keys = sorted(k for k in {*again, *(k for k in stored if k not in POSITION_KEYS)}
                  if again.get(k) != stored.get(k))
    return say("differs", "result", f"the replayed result differs in: {', '.join(keys)}")
