"""The ``riskgrade`` command line.

Exit codes: 0 ok; 1 findings or failures (a ruleset with problems, a failing case);
2 usage or input errors (bad options, unreadable or invalid facts); 3 a function or plugin
failed while grading (:class:`~riskgrade.exceptions.FunctionError`: a bug in code, not bad input).
Error codes and their meanings: docs/errors.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
import yaml

from riskgrade._api import compile_file, compile_located, list_rulesets, load, load_layer
from riskgrade._compile.library import read_library
from riskgrade._core.canonical import dumps, fmt_number
from riskgrade._core.codes import describe
from riskgrade._core.levels import Level
from riskgrade._monitor.rules import load_monitor_ruleset
from riskgrade._source.facts import read_facts, record_error_dict
from riskgrade._source.yaml import load_yaml
from riskgrade._validate.schema import SECTORS
from riskgrade.exceptions import FactError, FunctionError, RiskgradeError, RulesetError

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_FUNCTION = 0, 1, 2, 3

_T = {
    "zh": {"ok": "通过", "fail": "失败", "cases": "个用例", "problems": "个问题", "valid": "有效",
           "level": "风险等级", "score": "分值", "record": "记录", "error": "错误", "passed": "通过",
           "failed": "失败", "want": "期望", "got": "实际", "rulesets": "个规则集"},
    "en": {"ok": "ok", "fail": "FAIL", "cases": "cases", "problems": "problems", "valid": "valid",
           "level": "level", "score": "score", "record": "record", "error": "error", "passed": "passed",
           "failed": "failed", "want": "want", "got": "got", "rulesets": "rulesets"},
}

def fact_error_text(err: FactError, lang: str) -> str:
    """``code: field: message``, with the code explained in Chinese (from the catalogue) when ``lang`` is zh."""
    field = f"{err.field}: " if err.field else ""
    meaning = describe(err.code, "zh") if lang == "zh" else ""
    if meaning:
        return f"{err.code}({meaning}): {field}{err.message}"
    return f"{err.code}: {field}{err.message}"


_lang_option = click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                            help="Language of the output (default: zh if LANG starts with zh, else en).")


def _lang(lang: str | None) -> str:
    if lang:
        return lang
    env = os.environ.get("RISKGRADE_LANG") or os.environ.get("LANG", "")
    return "zh" if env.startswith("zh") else "en"


def styled_level(level: Level, lang: str) -> str:
    colour = {Level.RED: "red", Level.ORANGE: "bright_red", Level.YELLOW: "yellow", Level.BLUE: "blue"}[level]
    return click.style(f"{level.name} {level.label(lang)}", fg=colour, bold=level >= Level.ORANGE)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RulesetError as e:
            click.echo(str(e), err=True)
            # naming a ruleset that does not exist is a usage error; a broken ruleset is a finding
            ctx.exit(EXIT_INPUT if e.codes == ["unknown-ruleset"] else EXIT_FINDINGS)
        except FactError as e:
            lang = _lang(ctx.params.get("lang") if ctx.params else None)
            click.echo(f"{_T[lang]['error']}: {fact_error_text(e, lang)}", err=True)
            ctx.exit(EXIT_INPUT)
        except FunctionError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(EXIT_FUNCTION)
        except RiskgradeError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(EXIT_INPUT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskgrade")
def main() -> None:
    """riskgrade — grade safety risk under the dual prevention mechanism (风险分级管控与隐患排查治理).

    \b
    Exit codes:
      0  ok
      1  findings: a ruleset with problems, a failing case, a refinement finding
      2  usage or input errors: bad options, unreadable or invalid facts
      3  a function or plugin failed while grading (a bug in code, not bad input)
    """


@main.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: an array of {id, edition, effective, sector, title, version, completeness, announced}")
@click.option("--sector", "sectors", multiple=True, type=click.Choice(sorted(SECTORS)),
              help="only the rulesets of this sector (repeatable)")
@_lang_option
def list_cmd(fmt: str, sectors: tuple[str, ...], lang: str | None) -> None:
    """List the shipped rulesets (with how much of each standard they encode)."""
    lang = _lang(lang)
    items = [it for it in list_rulesets() if not sectors or it["sector"] in sectors]
    if fmt == "json":
        click.echo(dumps([{k: v for k, v in it.items() if k != "file"} for it in items], indent=2))
        return
    zh = lang == "zh"
    for it in items:
        title = it["title"]
        t = title.get(lang, "") if isinstance(title, dict) else str(title)
        comp = it.get("completeness") or {}
        done = ""
        if comp:
            total = comp.get("in_standard")
            done = f"  [{comp['encoded']}/{total if total else '?'} {'项' if zh else 'items'}]"
        click.echo(f"{it['id']:<36} {it['version']:<8} {it['sector']:<16} {it['edition']}  — {t}{done}")
        for ann in it.get("announced") or ():
            word = "已发布未编码" if zh else "announced, not encoded"
            eff = f", {'施行' if zh else 'effective'} {ann['effective']}" if ann.get("effective") else ""
            click.echo(f"{'':<36} {'':<8} {'':<16} {ann['edition']}  ({word}{eff})")


def _iter_ruleset_files(paths: tuple[str, ...]) -> Iterator[str]:
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames.sort()
                for fn in sorted(filenames):
                    if fn.endswith((".yaml", ".yml")):
                        yield os.path.join(dirpath, fn)
        else:
            yield p


def _kind(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except Exception:
        return "ruleset"  # let the real loader report the problem with its location
    if isinstance(data, dict):
        if "kind" in data and isinstance(data["kind"], str):
            return data["kind"]
        if "riskgrade" not in data and ("units" in data or "risk_points" in data):
            return "enterprise"
    return "ruleset"


def _load_any(path: str, *, until: str | None = None) -> Any:
    """Load a ruleset-language file of any kind (ruleset, layer, monitor); raises RulesetError.

    ``until`` runs a ruleset's compiler stages only up to that stage (``validate`` stops after
    ``check``: everything is checked, no grading code is generated)."""
    kind = _kind(path)
    if kind == "ruleset":
        return compile_located(load_yaml(path), until=until) if until else compile_file(path)
    if kind == "layer":
        return load_layer(path)
    if kind == "monitor":
        return load_monitor_ruleset(path)
    if kind == "library":
        return read_library(path)
    return None


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_lang_option
def validate_cmd(paths: tuple[str, ...], lang: str | None) -> None:
    """Check ruleset files (or directories of them); print every problem as file:line:col."""
    lang = _lang(lang)
    bad = 0
    n = 0
    for path in _iter_ruleset_files(paths):
        if _kind(path) not in ("ruleset", "layer", "monitor", "library"):
            continue
        n += 1
        try:
            _load_any(path, until="check")
        except RulesetError as e:
            bad += 1
            for p in e.problems:
                click.echo(str(p))
            if e.dropped:
                click.echo(f"... {e.dropped} more")
            continue
        click.echo(f"{path}: {_T[lang]['valid']}")
    if bad:
        sys.exit(EXIT_FINDINGS)


def _records(ruleset: Any, facts_path: str) -> Iterator[tuple[Any, Any]]:
    for rec in read_facts(facts_path):
        if rec.error is not None:
            yield rec, rec.error
            continue
        try:
            yield rec, ruleset.grade(rec.facts)
        except FactError as e:
            yield rec, e.at(record=rec.where)
        except FunctionError as e:
            yield rec, e
            return


def _load_ruleset(ref: str, jurisdiction: str | None) -> Any:
    return load(ref, jurisdiction=jurisdiction)


def _grading_options(fn: Any) -> Any:
    """The options shared by ``grade`` and ``explain``."""
    for deco in reversed((
        click.option("--ruleset", "-r", "ref", required=True,
                     help="Shipped ruleset id (id@edition) or a ruleset file."),
        click.option("--jurisdiction", "-j", default=None, help="GB/T 2260 code whose layers apply."),
        click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text"),
        _lang_option,
        click.argument("facts", type=click.Path(exists=True, dir_okay=False)),
    )):
        fn = deco(fn)
    return fn


def _run_records(ref: str, jurisdiction: str | None, facts: str, lang: str, *, json_errors: bool,
                 on_result: Callable[[Any, Any], None]) -> None:
    """Grade every record of FACTS: one output per record (a result, or an error record); exit 2 if
    any record was an error."""
    rs = _load_ruleset(ref, jurisdiction)
    errors = 0
    for rec, res in _records(rs, facts):
        if isinstance(res, FunctionError):  # a bug in a function or plugin, not bad input: stop, exit 3
            if json_errors:
                click.echo(dumps({**res.to_dict(), "record": rec.where}))
            else:
                click.echo(f"{rec.where}: {_T[lang]['error']}: {res}", err=True)
            sys.exit(EXIT_FUNCTION)
        if isinstance(res, FactError):
            errors += 1
            if json_errors:
                click.echo(dumps(record_error_dict(rec, res)))
            else:
                click.echo(f"{rec.where}: {_T[lang]['error']}: {fact_error_text(res, lang)}")
            continue
        on_result(rec, res)
    if errors:
        sys.exit(EXIT_INPUT)


@main.command("grade")
@_grading_options
def grade_cmd(ref: str, jurisdiction: str | None, fmt: str, lang: str | None, facts: str) -> None:
    """Grade FACTS (.yaml, .json or .jsonl); one result per input record."""
    lang = _lang(lang)

    def show(rec: Any, res: Any) -> None:
        if fmt == "json":
            click.echo(res.to_json(lang=lang))
            return
        click.echo(f"{rec.where}: {styled_level(res.level, lang)}  {_T[lang]['score']} {fmt_number(res.score)}")
        fired = {f.id for f in res.fired}
        for step in res.trace(lang):
            if step.kind == "rule" and step.name in fired:
                click.echo(f"  · {step.text}")
        click.echo(f"  ruleset {res.ruleset.id} {res.ruleset.version} {res.ruleset.fingerprint[:19]}")

    _run_records(ref, jurisdiction, facts, lang, json_errors=fmt == "json", on_result=show)


@main.command("explain")
@_grading_options
def explain_cmd(ref: str, jurisdiction: str | None, fmt: str, lang: str | None, facts: str) -> None:
    """Explain the grading of FACTS step by step, for people."""
    lang = _lang(lang)

    def show(rec: Any, res: Any) -> None:
        if fmt == "json":
            click.echo(res.to_json(trace=True, lang=lang))
            return
        click.echo(f"== {rec.where}: {styled_level(res.level, lang)}")
        for step in res.trace(lang):
            click.echo(f"  {step.text}")

    _run_records(ref, jurisdiction, facts, lang, json_errors=fmt == "json", on_result=show)


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--verbose", "-v", is_flag=True, help="Show every case, not only failures.")
@_lang_option
def test_cmd(paths: tuple[str, ...], verbose: bool, lang: str | None) -> None:
    """Run the cases of ruleset files (or directories); exit 1 on any failure."""
    lang = _lang(lang)
    t = _T[lang]
    failed = passed = broken = 0
    for path in _iter_ruleset_files(paths):
        kind = _kind(path)
        if kind not in ("ruleset", "layer"):
            continue
        try:
            obj = _load_any(path)
        except RulesetError as e:
            broken += 1
            click.echo(str(e))
            continue
        results = obj.run_cases() if hasattr(obj, "run_cases") else []
        for r in results:
            if r.ok:
                passed += 1
                if verbose:
                    click.echo(f"{click.style(t['ok'], fg='green')}  {r.ruleset} #{r.index}: {r.note}")
                continue
            failed += 1
            click.echo(f"{click.style(t['fail'], fg='red', bold=True)}  {path} {r.ruleset} #{r.index}: {r.note}")
            for p in r.problems:
                click.echo(f"      {p}")
            click.echo(f"      {t['want']}: {dumps(r.expected)}")
            click.echo(f"      {t['got']}:  {dumps(r.actual)}")
    summary = f"{passed} {t['passed']}, {failed} {t['failed']}"
    if broken:
        summary += f", {broken} {t['rulesets']} {t['error']}"
    click.echo(summary)
    if failed or broken:
        sys.exit(EXIT_FINDINGS)
