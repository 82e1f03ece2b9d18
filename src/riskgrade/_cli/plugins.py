"""``riskgrade plugins`` and ``riskgrade check-refinement`` (attached to the main CLI by ``_cli``)."""

from __future__ import annotations

import sys
from typing import Any

import click

from riskgrade._api import check_refinement
from riskgrade._compile.layers import read_layer
from riskgrade._compile.refine import DEFAULT_EXAMPLES
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.canonical import dumps
from riskgrade._plugins import get_plugins
from riskgrade.exceptions import RulesetError

__all__ = ["check_refinement_cmd", "plugins_cmd"]


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
def plugins_cmd(fmt: str) -> None:
    """List the installed plugins and what each contributes (layers, functions, methods, ...)."""
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
        click.echo(f"  hooks: {', '.join(it['hooks']) or '-'}")
        for lay in it["layers"]:
            if "error" in lay:
                click.echo(f"  layer: ERROR {lay['error']}")
            else:
                click.echo(f"  layer: {lay['id']} — {lay['jurisdiction']} refines {lay['refines']} "
                           f"{lay['versions']} ({lay['file']})")
        for key in ("functions", "methods", "rollup_modifiers"):
            if it[key]:
                click.echo(f"  {key.replace('_', ' ')}: {', '.join(it[key])}")


@click.command("check-refinement")
@click.option("--ruleset", "-r", "ref", required=True, help="Shipped ruleset id or a ruleset file.")
@click.option("--jurisdiction", "-j", required=True, help="GB/T 2260 code (or city/zone) whose layers to check.")
@click.option("--examples", "-n", type=click.IntRange(1, 100_000), default=None,
              help="Generated fact sets per refinement step (default: 400).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def check_refinement_cmd(ref: str, jurisdiction: str, examples: int | None, fmt: str) -> None:
    """Prove that the layers for JURISDICTION only make REF stricter.

    Runs the static check (loading the layers) and the differential check, step by step
    from the province down; exit 0 when both pass, 1 on any finding.
    """
    try:
        j = _jurisdictions.get(jurisdiction)
    except RulesetError as e:
        raise click.BadParameter(e.problems[0].message, param_hint="--jurisdiction") from None
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
        click.echo(f"check-refinement {rep.ruleset} for {j.label}")
        if rep.static_problems:
            click.echo("static: FINDING")
            for p in rep.static_problems:
                click.echo(f"  {p}")
        else:
            extra = f" ({len(rep.unproven)} change(s) not provable statically)" if rep.unproven else ""
            click.echo(f"static: ok{extra}")
            for u in rep.unproven:
                click.echo(f"  ? {u}")
        if not rep.steps and not rep.static_problems:
            click.echo("differential: no layer applies")
        for a, b, r in rep.steps:
            status = "ok" if r.ok else "FINDING"
            click.echo(f"differential {a} → {b}: {status} ({r.cases} cases, {r.examples} generated fact sets)")
            if r.counterexample is not None:
                click.echo(f"  counterexample: {r.counterexample.text()}")
    if not rep.ok:
        sys.exit(1)
