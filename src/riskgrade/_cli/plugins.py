"""``riskgrade plugins`` and ``riskgrade check-refinement`` (attached to the main CLI by ``_cli``)."""

from __future__ import annotations

import sys
from typing import Any

import click

from riskgrade._api import check_refinement, load, load_supervision
from riskgrade._cli.main import _lang, _lang_option
from riskgrade._compile.layers import read_layer
from riskgrade._compile.refine import DEFAULT_EXAMPLES
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.canonical import dumps
from riskgrade._plugins import get_plugins
from riskgrade._source.registry import head
from riskgrade.exceptions import RefinementError, RulesetError

__all__ = ["check_refinement_cmd", "plugins_cmd"]

_T = {
    "zh": {"hooks": "钩子", "layer": "分层", "error": "错误", "refines": "细化", "functions": "函数",
           "methods": "分级方法", "rollup_modifiers": "汇总修正", "ok": "通过", "finding": "发现问题",
           "static": "静态检查", "differential": "差分检查", "none": "没有适用的分层",
           "unproven": "{n} 处改动无法静态证明", "for": "辖区",
           "step": "{status}({cases} 个用例,{examples} 组生成的事实)", "counterexample": "反例"},
    "en": {"hooks": "hooks", "layer": "layer", "error": "ERROR", "refines": "refines", "functions": "functions",
           "methods": "methods", "rollup_modifiers": "rollup modifiers", "ok": "ok", "finding": "FINDING",
           "static": "static", "differential": "differential", "none": "no layer applies",
           "unproven": "{n} change(s) not provable statically", "for": "for",
           "step": "{status} ({cases} cases, {examples} generated fact sets)", "counterexample": "counterexample"},
}


def _contributions(plugins: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {i.name: {"layers": [], "functions": [], "methods": [], "rollup_modifiers": []}
                                      for i in plugins.info()}
    for name, src in plugins.layers():
        try:
            lay = read_layer(src, name)
            out[name]["layers"].append({"id": lay.id, "jurisdiction": lay.name, "refines": lay.ruleset,
                                        "versions": lay.versions, "file": lay.file})
        except RulesetError as e:
            out[name]["layers"].append({"error": str(e)})
    for hook, key in (("riskgrade_functions", "functions"), ("riskgrade_methods", "methods"),
                      ("riskgrade_rollup_modifiers", "rollup_modifiers")):
        for name, res in plugins.each(hook):
            names = res.keys() if hasattr(res, "keys") else [getattr(o, "name", str(o)) for o in res]
            out[name][key] = sorted(str(n) for n in names)
    return out


@click.command("plugins")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_lang_option
def plugins_cmd(fmt: str, lang: str | None) -> None:
    """List the installed plugins and what each contributes (layers, functions, methods, ...)."""
    t = _T[_lang(lang)]
    plugins = get_plugins()
    contrib = _contributions(plugins)
    items = []
    for info in plugins.info():
        items.append({"name": info.name, "distribution": info.dist, "version": info.version,
                      "module": info.module, "hooks": list(info.hooks), **contrib[info.name]})
    if fmt == "json":
        click.echo(dumps(items, indent=2))
        return
    for it in items:
        click.echo(f"{it['name']}  ({it['distribution']} {it['version']}, {it['module']})")
        click.echo(f"  {t['hooks']}: {', '.join(it['hooks']) or '-'}")
        for lay in it["layers"]:
            if "error" in lay:
                click.echo(f"  {t['layer']}: {t['error']} {lay['error']}")
            else:
                click.echo(f"  {t['layer']}: {lay['id']} — {lay['jurisdiction']} {t['refines']} {lay['refines']} "
                           f"{lay['versions']} ({lay['file']})")
        for key in ("functions", "methods", "rollup_modifiers"):
            if it[key]:
                click.echo(f"  {t[key]}: {', '.join(it[key])}")


@click.command("check-refinement")
@click.option("--ruleset", "-r", "ref", required=True, help="Shipped ruleset id or a ruleset file.")
@click.option("--jurisdiction", "-j", required=True, help="GB/T 2260 code (or city/zone) whose layers to check.")
@click.option("--examples", "-n", type=click.IntRange(1, 100_000), default=None,
              help="Generated fact sets per refinement step (default: 400).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_lang_option
def check_refinement_cmd(ref: str, jurisdiction: str, examples: int | None, fmt: str, lang: str | None) -> None:
    """Prove that the layers for JURISDICTION only make REF stricter.

    Runs the static check (loading the layers) and the differential check, step by step
    from the province down; exit 0 when both pass, 1 on any finding. REF ``supervision`` checks the
    supervision layers (docs/supervision.md) down to JURISDICTION; a ``kind: supervision-layer`` file
    is checked on top of them.
    """
    t = _T[_lang(lang)]
    try:
        j = _jurisdictions.get(jurisdiction)
    except RulesetError as e:
        raise click.BadParameter(e.problems[0].message, param_hint="--jurisdiction") from None
    if ref == "supervision" or str((head(ref) or {}).get("kind", "")).startswith("supervision"):
        _check_supervision(ref, j.code, j.label, fmt, t, _lang(lang))
        return
    load(ref)  # the ruleset named for use must load (else exit 2, a JSON load error under --format json)
    rep = check_refinement(ref, j.code, max_examples=examples or DEFAULT_EXAMPLES)
    if fmt == "json":
        click.echo(dumps({
            "ruleset": rep.ruleset, "jurisdiction": rep.jurisdiction, "ok": rep.ok,
            "static": {"ok": not rep.static_problems, "problems": list(rep.static_problems),
                       "unproven": list(rep.unproven)},
            "differential": [{"from": a, "to": b, "ok": r.ok, "cases": r.cases, "examples": r.examples,
                              "counterexample": None if r.counterexample is None else {
                                  "facts": dict(r.counterexample.facts),
                                  "base_level": r.counterexample.base_level.name,
                                  "refined_level": r.counterexample.refined_level.name
                                  if r.counterexample.refined_level else None,
                                  "refined_error": r.counterexample.refined_error,
                                  "found_by": r.counterexample.found_by}}
                             for a, b, r in rep.steps]}, indent=2))
    else:
        click.echo(f"check-refinement {rep.ruleset} {t['for']} {j.label}")
        if rep.static_problems:
            click.echo(f"{t['static']}: {t['finding']}")
            for p in rep.static_problems:
                click.echo(f"  {p}")
        else:
            extra = f" ({t['unproven'].format(n=len(rep.unproven))})" if rep.unproven else ""
            click.echo(f"{t['static']}: {t['ok']}{extra}")
            for u in rep.unproven:
                click.echo(f"  ? {u}")
        if not rep.steps and not rep.static_problems:
            click.echo(f"{t['differential']}: {t['none']}")
        for a, b, r in rep.steps:
            status = t["ok"] if r.ok else t["finding"]
            click.echo(f"{t['differential']} {a} → {b}: "
                       + t["step"].format(status=status, cases=r.cases, examples=r.examples))
            if r.counterexample is not None:
                click.echo(f"  {t['counterexample']}: {r.counterexample.text()}")
    if not rep.ok:
        sys.exit(1)


def _check_supervision(ref: str, code: str, label: str, fmt: str, t: dict[str, str], lang: str) -> None:
    """check-refinement for supervision: the layers down to ``code`` (and the file ``ref``) load stricter-only."""
    problems: list[str] = []
    layers: tuple[str, ...] = ()
    try:
        layers = load_supervision(code, layers=() if ref == "supervision" else (ref,)).layers
    except RefinementError as e:
        problems = [p.text(lang) for p in e.problems]
    if fmt == "json":
        click.echo(dumps({"ruleset": ref, "jurisdiction": code, "ok": not problems, "layers": list(layers),
                          "static": {"ok": not problems, "problems": problems, "unproven": []},
                          "differential": []}, indent=2))
    else:
        click.echo(f"check-refinement {ref} {t['for']} {label}")
        click.echo(f"{t['static']}: {t['finding'] if problems else t['ok']}")
        for p in problems:
            click.echo(f"  {p}")
    if problems:
        sys.exit(1)
