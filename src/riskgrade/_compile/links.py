"""Links between rulesets: a rule may use the result of another ruleset for the same subject.

A ruleset declares what it takes from another one::

    links:
      mhi:                                # the link's name: a value in expressions
        ruleset: hazchem-gb18218          # a shipped id (or id@edition), or a .yaml path beside the ruleset
        facts: tank_farm                  # the fact (a mapping) that holds the linked ruleset's facts
        optional: true                    # without that fact, every value of the link is null
        values: [R, major_hazard_grade]   # linked values to name here: mhi_R, mhi_major_hazard_grade

and may then use ``mhi_level`` (a level), ``mhi_score`` and ``mhi_<value>`` in its expressions.
The link is a document transform, like ``include:``: the fact ``tank_farm`` becomes an input of
type ``record``, and ``mhi``, ``mhi_level``, ``mhi_score``, ``mhi_<value>`` become derived values
computed by the functions ``link`` and ``link_value`` (so they show in ``Assessment.values``, with
the linked result's ruleset reference under ``mhi``). The linked ruleset is compiled by the
*loader* the front door passes in (this module stays pure); a chain of links that comes back to a
ruleset being compiled is the problem ``link-cycle``, showing the path ``a -> b -> a``. The
fingerprint and ``Ruleset.files`` cover the linked ruleset's fingerprint and files. A fact error
inside the linked facts is re-located under the link's fact: ``tank_farm.substances[0].Q``.
"""

from __future__ import annotations

import ast
import copy
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from riskgrade._compile.expr import Compiler, Function
from riskgrade._source import registry
from riskgrade._source.yaml import Located, Routed
from riskgrade.exceptions import FactError, Problem, RulesetError

__all__ = ["LinkLoader", "Linked", "apply_links"]

#: ``loader(path, chain)``: the compiled ruleset at ``path``; ``chain`` is the (file, id) of every
#: ruleset whose compilation is under way, outermost first (the loader passes it on to the compiler)
LinkLoader = Callable[[str, tuple[tuple[str, str], ...]], Any]

#: the parts of a linked result besides its values
PARTS = ("level", "score")


@attrs.frozen
class Linked:
    """What :func:`apply_links` produced: the document with the links' inputs and derived values, its
    locations, the linked rulesets' files, the functions ``link``/``link_value``, and the problems."""

    located: Located
    doc: dict[str, Any]
    files: tuple[str, ...] = ()
    functions: Mapping[str, Function] = attrs.field(factory=dict)
    problems: tuple[Problem, ...] = ()


def _find(ref: str, base_dir: str) -> str | None:
    """The file a link names: a ``.yaml`` (``.yml``, any case) file beside the linking ruleset or below it,
    or a shipped id (``id@edition``) -- never a path elsewhere, nor anything in the current directory,
    so that a ruleset grades the same from wherever it is run."""
    parts = ref.replace("\\", "/").split("/")
    if ref.lower().endswith((".yaml", ".yml")):
        if os.path.isabs(ref) or ".." in parts:
            return None
        return os.path.abspath(os.path.join(base_dir, ref))
    if len(parts) > 1 or os.path.isabs(ref):
        return None
    try:
        return os.path.abspath(registry.find_shipped(ref))
    except RulesetError:
        return None


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def apply_links(located: Located, doc: dict[str, Any], base_dir: str, loader: LinkLoader | None,
                chain: tuple[tuple[str, str], ...]) -> Linked:
    """Resolve and compile (through ``loader``) every ``links:`` entry of ``doc``; a copy of ``doc``
    with the links' inputs and derived values, or the located problems."""
    links = doc.get("links") or {}
    if not links:
        return Linked(located, doc)
    me = (os.path.abspath(located.file) if located.file else "<string>", str(doc.get("id")))
    here = (*chain, me)
    out = copy.deepcopy(doc)
    inputs = out.setdefault("inputs", {})
    derive = out.setdefault("derive", {})
    problems: list[Problem] = []
    routes: list[tuple[tuple[Any, ...], Located, tuple[Any, ...]]] = []
    files: list[str] = []
    targets: dict[str, tuple[Any, str, tuple[str, ...]]] = {}
    records: dict[str, Any] = {}
    for name, spec in links.items():
        where = ("links", name)
        path = _find(str(spec["ruleset"]), base_dir)
        if path is None or not os.path.exists(path):
            problems.append(located.problem((*where, "ruleset"), "unknown-ruleset",
                                            f"link {name!r}: no ruleset {spec['ruleset']!r} (a shipped id or "
                                            "id@edition, or a .yaml file beside this ruleset)"))
            continue
        seen = [f for f, _ in here]
        if path in seen:
            k = seen.index(path)
            cycle = " -> ".join([i for _, i in here[k:]] + [here[k][1]])
            problems.append(located.problem((*where, "ruleset"), "link-cycle",
                                            f"link {name!r}: rulesets link each other in a cycle: {cycle}"))
            continue
        if loader is None:
            problems.append(located.problem((*where, "ruleset"), "link-unavailable",
                                            f"link {name!r}: this compilation has no loader for linked rulesets "
                                            "(load the ruleset with riskgrade.load)"))
            continue
        try:
            rs = loader(path, here)
        except RulesetError as e:
            problems += list(e.problems)
            continue
        facts = spec["facts"]
        names = [name, f"{name}_level", f"{name}_score", *(f"{name}_{v}" for v in spec.get("values") or ())]
        clash = [n for n in [facts, *names] if n in inputs or n in derive]
        if clash:
            problems.append(located.problem(where, "duplicate-name",
                                            f"link {name!r} defines {clash[0]!r}, which is already an input or a "
                                            "derived value", key=True))
            continue
        linked_values = tuple(rs._value_names)
        wanted = tuple(spec.get("values") or ())
        bad = [v for v in wanted if v not in linked_values]
        for j, v in enumerate(wanted):
            if v in bad:
                problems.append(located.problem((*where, "values", j), "unknown-name",
                                                f"link {name!r}: ruleset {rs.id!r} has no value {v!r}; it has: "
                                                f"{', '.join(linked_values)}"))
        if bad:
            continue
        files += [f for f in rs.files if f not in files]
        title = rs.title
        inputs[facts] = {"type": "record", "required": not spec.get("optional", False),
                         "label": spec.get("label") or _label(f"{title.get('zh', rs.id)}的事实(关联 {name})",
                                                              f"the facts of {title.get('en', rs.id)} (link {name})")}
        derive[name] = {"expr": f"link({name!r}, {facts})",
                        "label": _label(f"关联规则集 {rs.id} 的评定结果", f"the result of linked ruleset {rs.id}")}
        derive[f"{name}_level"] = {"expr": f"link_value({name}, 'level')",
                                   "label": _label(f"{rs.id} 的风险等级", f"the risk level by {rs.id}")}
        score_name = str(rs.doc.get("score") or "score")
        derive[f"{name}_score"] = {"expr": f"link_value({name}, 'score')",
                                   "label": _label(f"{rs.id} 的得分 {score_name}", f"the score {score_name} by {rs.id}")}
        linked_derive = rs.doc.get("derive") or {}
        for v in wanted:
            lab = linked_derive.get(v, {}).get("label") if isinstance(linked_derive.get(v), dict) else None
            zh = lab.get("zh", v) if isinstance(lab, dict) else str(lab or v)
            en = lab.get("en", v) if isinstance(lab, dict) else str(lab or v)
            derive[f"{name}_{v}"] = {"expr": f"link_value({name}, {v!r})",
                                     "label": _label(f"{rs.id}: {zh}", f"{rs.id}: {en}")}
        routes += [(("inputs", facts), located, (*where, "facts"))]
        routes += [(("derive", n), located, where) for n in names]
        targets[name] = (rs, facts, wanted)
        records[name] = {"ruleset": rs.ref.to_dict(), "file": os.path.basename(rs.file), "facts": facts,
                         "optional": bool(spec.get("optional", False)), "score": score_name, "names": names,
                         "values": list(wanted)}
    if problems:
        return Linked(located, doc, problems=tuple(problems))
    # what the links resolved to: covered by the fingerprint (the linked rulesets' fingerprints)
    out["linked"] = records
    routed = (located.with_routes(routes) if isinstance(located, Routed)
              else Routed(located.data, located.file, located.marks, tuple(routes)))
    return Linked(routed, out, tuple(files), _functions(targets))


def _functions(targets: Mapping[str, tuple[Any, str, tuple[str, ...]]]) -> dict[str, Function]:
    """``link(name, facts)``: the linked ruleset's result for ``facts`` (None without facts);
    ``link_value(result, part)``: its ``level``, ``score`` or one of its linked values."""

    def link(name: str, facts: Any) -> dict[str, Any] | None:
        if facts is None:
            return None
        rs, key, wanted = targets[name]
        try:
            a = rs.grade(facts)
        except FactError as e:
            raise e.at(prefix=key) if e.field else FactError(e.message, field=key, code=e.code,
                                                              value=e.value) from None
        values = a.values
        return {"ruleset": a.ruleset.to_dict(), "level": a.level, "score": a.score,
                "values": {v: values[v] for v in wanted}}

    def link_value(result: Mapping[str, Any] | None, part: str) -> Any:
        if result is None:
            return None
        return result[part] if part in PARTS else result["values"][part]

    def static_link(args: list[ast.expr], comp: Compiler) -> str | None:
        a0 = args[0]
        if not (isinstance(a0, ast.Constant) and a0.value in targets):
            return f"the first argument names a link: {', '.join(sorted(targets))}"
        return None

    def static_value(args: list[ast.expr], comp: Compiler) -> str | None:
        a0, a1 = args
        if not (isinstance(a0, ast.Name) and a0.id in targets):
            return f"the first argument is a link: {', '.join(sorted(targets))}"
        allowed = (*PARTS, *targets[a0.id][2])
        if not (isinstance(a1, ast.Constant) and a1.value in allowed):
            return f"link {a0.id!r} gives: {', '.join(allowed)} (list more under its 'values:')"
        return None

    return {
        "link": Function("link", link, (2, 2), "link(name, facts): the result of a linked ruleset", static_link),
        "link_value": Function("link_value", link_value, (2, 2),
                               "link_value(link, part): 'level', 'score' or a linked value (null without facts)",
                               static_value),
    }
