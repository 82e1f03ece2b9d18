"""The ``riskgrade`` command line.

Exit codes (docs/platform.md): 0 ok; 1 findings (``validate`` found problems, a case failed, a
layer is looser, a record was invalid -- the others were still answered); 2 usage or unusable input
(bad options, a missing or unreadable file, an unknown or broken ruleset named for use, a facts
document that cannot be read); 3 a function, plugin or riskgrade itself failed (a bug in code, not bad
input). Error codes and their meanings: docs/errors.md.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import click

from riskgrade._api import compile_file, compile_located, list_rulesets, load, load_layer, load_screening
from riskgrade._cli.contract import (
    CRASHES,
    LOAD_OF_COMMAND,
    crash_dict,
    json_command,
    load_error_dict,
    missing_file_dict,
    problem_dict,
)
from riskgrade._cli.contract import load_error_dict as _load_error_dict
from riskgrade._cli.stream import grade_jsonl
from riskgrade._columnar.files import FORMATS as COLUMNAR_FORMATS
from riskgrade._columnar.files import grade_file
from riskgrade._compile.library import read_library
from riskgrade._core.canonical import dumps, fmt_number
from riskgrade._core.codes import describe
from riskgrade._core.i18n import problem_text
from riskgrade._core.levels import Level
from riskgrade._grade.coverage import Coverage, coverage
from riskgrade._grade.ruleset import CaseResult
from riskgrade._monitor.rules import load_monitor_ruleset
from riskgrade._source.facts import (
    DEFAULT_ID_FIELD,
    STDIN,
    FactRecord,
    function_error_dict,
    position,
    read_facts,
    record_error_dict,
    record_id,
    strip_id,
)
from riskgrade._source.yaml import load_yaml
from riskgrade._supervision.declaration import read_supervision
from riskgrade._validate.schema import SECTORS
from riskgrade.exceptions import (
    FactError,
    FunctionError,
    MonitorError,
    PluginError,
    Problem,
    RefinementError,
    RiskgradeError,
    RulesetError,
)

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_FUNCTION = 0, 1, 2, 3
#: the reader of the output went away (``riskgrade ... | head``): what a command killed by SIGPIPE gives
EXIT_PIPE = 128 + 13

_T = {
    "zh": {"ok": "通过", "fail": "失败", "cases": "个用例", "problems": "个问题", "valid": "有效",
           "level": "风险等级", "score": "分值", "record": "记录", "error": "错误", "passed": "通过",
           "failed": "失败", "want": "期望", "got": "实际", "rulesets": "个规则集", "hint": "提示",
           "case_hint": "对照标准核对规则集; 若规则集无误, 改正该用例的 want"},
    "en": {"ok": "ok", "fail": "FAIL", "cases": "cases", "problems": "problems", "valid": "valid",
           "level": "level", "score": "score", "record": "record", "error": "error", "passed": "passed",
           "failed": "failed", "want": "want", "got": "got", "rulesets": "rulesets", "hint": "hint",
           "case_hint": "check the ruleset against the standard; if the ruleset is right, correct the case's want"},
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


def _drop_output() -> None:
    """Point standard output at the null device, so that the interpreter's flush at exit (of what the
    closed pipe did not take) is not a second broken pipe."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a file descriptor (a test's captured output): nothing will be flushed to a pipe


class _Group(click.Group):
    """Turns the exceptions that escape a command into the documented exit codes (docs/platform.md); under
    a JSON ``--format`` an input that cannot be used is also one JSON load error on stdout."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        found = super().resolve_command(ctx, args)
        if found[0] is not None:
            ctx.meta["riskgrade.invoked"] = (found[0], list(found[2]))
        return found

    def _json_load_error(self, ctx: click.Context, e: RiskgradeError) -> None:
        name = json_command(self, ctx, ctx.meta.get("riskgrade.invoked"))
        if name is not None:
            what = "ruleset" if isinstance(e, RulesetError) else LOAD_OF_COMMAND.get(name, "file")
            click.echo(dumps(load_error_dict(e, what)))

    def _json_crash(self, ctx: click.Context, e: BaseException) -> None:
        """Under a JSON ``--format``, the exit-3 error record on stdout, after what was already printed."""
        name = json_command(self, ctx, ctx.meta.get("riskgrade.invoked"))
        if name is not None:
            click.echo(dumps({**({"kind": "error"} if name == "monitor" else {}), **crash_dict(e)}))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RefinementError as e:  # a layer would loosen the standard: a finding about the layer
            self._json_load_error(ctx, e)
            click.echo(str(e), err=True)
            ctx.exit(EXIT_FINDINGS)
        except RulesetError as e:  # unknown, or broken: either way the ruleset cannot be used
            self._json_load_error(ctx, e)
            click.echo(str(e), err=True)
            ctx.exit(EXIT_INPUT)
        except FactError as e:
            self._json_load_error(ctx, e)
            lang = _lang(ctx.params.get("lang") if ctx.params else None)
            click.echo(f"{_T[lang]['error']}: {fact_error_text(e, lang)}", err=True)
            ctx.exit(EXIT_INPUT)
        except (FunctionError, PluginError, MonitorError) as e:  # a bug in code, not bad input
            self._json_crash(ctx, e)
            click.echo(f"error: {e}", err=True)
            ctx.exit(EXIT_FUNCTION)
        except RiskgradeError as e:
            self._json_load_error(ctx, e)
            click.echo(f"error: {e}", err=True)
            ctx.exit(EXIT_INPUT)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # the output's reader closed it: no more is wanted, and nothing failed
            _drop_output()
            ctx.exit(EXIT_PIPE)
        except Exception as e:  # an internal error: say so with its type, exit 3 (never 1, a finding)
            self._json_crash(ctx, e)
            click.echo(f"internal error: {type(e).__name__}: {e}", err=True)
            ctx.exit(EXIT_FUNCTION)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskgrade")
def main() -> None:
    """riskgrade — grade safety risk under the dual prevention mechanism (风险分级管控与隐患排查治理).

    \b
    Exit codes:
      0  ok
      1  findings: validate found problems, a failing case, a looser refinement, an invalid record
      2  usage or unusable input: bad options, a missing or unreadable file, an unknown or broken ruleset
      3  a function or plugin failed while grading (a bug in code, not bad input), or an internal error
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


#: the kinds of file ``validate`` checks, each read by its own loader in :func:`_load_any`
_CHECKED = ("ruleset", "layer", "monitor", "library", "screening", "supervision", "supervision-layer")


def _kind(path: str) -> str:
    """What a YAML file is: its ``kind`` when that is one of :data:`_CHECKED`; ``enterprise`` for a register
    (``units`` or ``risk_points``, no ``riskgrade`` key: data, not checked); otherwise ``ruleset``, so that
    the ruleset loader reports what is wrong with it, located -- a file that does not parse, and a ``kind``
    misspelt (``bad-value``), which is never passed over. Read by riskgrade's own YAML reader under the
    limits (a file too large or too deep is refused at once, not parsed whole); with the cross-process
    cache on, the loader's read after this one is not a second parse."""
    try:
        data = load_yaml(path).data
    except RulesetError:
        return "ruleset"
    if isinstance(data, dict):
        kind = data.get("kind")
        if kind in _CHECKED:
            return str(kind)
        if "kind" not in data and "riskgrade" not in data and ("units" in data or "risk_points" in data):
            return "enterprise"
    return "ruleset"


def _load_any(path: str, kind: str, *, until: str | None = None) -> Any:
    """Load a ruleset-language file of the ``kind`` :func:`_kind` gave (ruleset, layer, monitor ...);
    raises RulesetError.

    ``until`` runs a ruleset's compiler stages only up to that stage (``validate`` stops after
    ``check``: everything is checked, no grading code is generated)."""
    if kind == "ruleset":
        return compile_located(load_yaml(path), until=until) if until else compile_file(path)
    if kind == "layer":
        return load_layer(path)
    if kind == "monitor":
        return load_monitor_ruleset(path)
    if kind == "library":
        return read_library(path)
    if kind == "screening":
        if until:
            return compile_located(load_yaml(path), until=until)
        return load_screening(path)
    if kind in ("supervision", "supervision-layer"):
        return read_supervision(path)
    return None


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings (unused inputs, unreachable rules ...) as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: one JSON object per file per line: {file, valid, errors: [...], warnings: [...]}")
@_lang_option
def validate_cmd(paths: tuple[str, ...], strict: bool, fmt: str, lang: str | None) -> None:
    """Check ruleset files (or directories of them); print every problem as file:line:col, with a hint.

    Exit 1 when a file has errors (or, with --strict, warnings); warnings alone print and exit 0; exit 2
    when a path does not exist (under --format json a load error in its place; the others are checked).
    """
    lang = _lang(lang)
    bad = missing = 0
    for path in _iter_ruleset_files(paths):
        if not os.path.exists(path):
            missing += 1
            _missing(path, fmt, lang)
            continue
        kind = _kind(path)
        if kind not in _CHECKED:
            continue  # an enterprise register: data
        errors: tuple[Problem, ...] = ()
        warnings: tuple[Problem, ...] = ()
        dropped = 0
        try:
            obj = _load_any(path, kind)
        except RulesetError as e:
            errors, warnings, dropped = e.problems, e.warnings, e.dropped
        else:
            rs = obj if kind == "ruleset" else getattr(obj, "ruleset", None)
            warnings = tuple(getattr(rs, "warnings", ()))
        failed = bool(errors) or (strict and bool(warnings))
        bad += failed
        if fmt == "json":
            click.echo(dumps({"file": path, "valid": not failed, "errors": [p.to_dict() for p in errors],
                              "warnings": [p.to_dict() for p in warnings], "more": dropped}))
            continue
        for p in sorted((*errors, *warnings), key=Problem.sort_key):
            click.echo(problem_text(p, lang))
        if dropped:
            click.echo(f"... {dropped} {'个问题未列出' if lang == 'zh' else 'more'}")
        if not errors:
            note = ""
            if warnings:
                n = len(warnings)
                note = f" ({n} 个警告)" if lang == "zh" else f" ({n} warning{'s' if n > 1 else ''})"
            click.echo(f"{path}: {_T[lang]['fail'] if failed else _T[lang]['valid']}{note}")
    if missing:
        sys.exit(EXIT_INPUT)
    if bad:
        sys.exit(EXIT_FINDINGS)


def _missing(path: str, fmt: str, lang: str) -> None:
    """A path that does not exist: a JSON load error on stdout, or a line on stderr."""
    if fmt == "json":
        click.echo(dumps(missing_file_dict(path)))
    else:
        click.echo(f"{path}: {_T[lang]['error']}: unreadable: "
                   f"{'文件不存在' if lang == 'zh' else 'no such file or directory'}", err=True)


def _graded_records(ruleset: Any, facts_path: str, id_field: str | None = DEFAULT_ID_FIELD,
                    ) -> Iterator[tuple[FactRecord, Any, Any, Any]]:
    """``(record, facts as graded, id, result or error)`` for every record of FACTS, in order: one each."""
    for rec in read_facts(facts_path):
        rid = record_id(rec.facts, id_field)
        if rec.error is not None:
            yield rec, None, rid, rec.error
            continue
        facts = strip_id(ruleset, rec.facts, id_field)
        try:
            yield rec, facts, rid, ruleset.grade(facts)
        except FactError as e:
            yield rec, facts, rid, e.at(record=rec.where)
        except FunctionError as e:  # a bug in code: this record fails, the others are still answered
            yield rec, facts, rid, e


def _load_ruleset(ref: str, jurisdiction: str | None) -> Any:
    return load(ref, jurisdiction=jurisdiction)


def _grading_options(fn: Any, formats: tuple[str, ...] = ("text", "json"),
                     fmt_help: str = "json: one JSON object per record per line (riskgrade schema record)") -> Any:
    """The options shared by ``grade`` and ``explain``."""
    for deco in reversed((
        click.option("--ruleset", "-r", "ref", required=True,
                     help="Shipped ruleset id (id@edition) or a ruleset file."),
        click.option("--jurisdiction", "-j", default=None, help="GB/T 2260 code whose layers apply."),
        click.option("--format", "fmt", type=click.Choice(list(formats)), default="text", help=fmt_help),
        click.option("--id-field", "id_field", default=DEFAULT_ID_FIELD, show_default=True, metavar="NAME",
                     help="the fact that names a record; echoed as id in its output (and not graded unless "
                          "the ruleset has that input)"),
        click.option("--receipt/--no-receipt", "with_receipt", default=True, show_default=True,
                     help="json: add the decision receipt (versions, fingerprint, input hash) to every result"),
        click.option("--with-input", "with_input", is_flag=True,
                     help="json: keep the facts as given (without the id field) in every result, under facts, "
                          "so that riskgrade verify can replay the decision from them later"),
        _lang_option,
        click.argument("facts", type=click.Path(dir_okay=False, allow_dash=True)),
    )):
        fn = deco(fn)
    return fn


def _kept(with_input: bool) -> Callable[[Any], dict[str, Any]]:
    """``{"facts": the facts as graded}`` for ``--with-input`` (what ``riskgrade verify`` replays), else nothing."""
    def kept(given: Any) -> dict[str, Any]:
        return {"facts": given} if with_input else {}

    return kept


def _run_records(ref: str, jurisdiction: str | None, facts: str, lang: str, *, json_out: bool,
                 id_field: str | None, on_result: Callable[[FactRecord, Any, Any, Any], None]) -> None:
    """Grade every record of FACTS: one output per record, in input order (a result, or an error record).

    Exit 0 when every record graded; 1 when a record was wrong; 3 when a function or plugin failed on a
    record (the others are still answered); 2 when the ruleset or the whole facts file cannot be used
    (under --format json that is one JSON load error on stdout)."""
    try:
        rs = _load_ruleset(ref, jurisdiction)
    except CRASHES:
        raise
    except RiskgradeError as e:
        if not json_out:
            raise
        click.echo(dumps(_load_error_dict(e, "ruleset")))
        sys.exit(EXIT_INPUT)
    errors = crashed = 0
    try:
        for rec, given, rid, res in _graded_records(rs, facts, id_field):
            if isinstance(res, FunctionError):
                crashed += 1
                if json_out:
                    click.echo(dumps({**function_error_dict(res), **position(rec, rid)}))
                else:
                    click.echo(f"{rec.where}: {_T[lang]['error']}: {res}", err=True)
            elif isinstance(res, FactError):
                errors += 1
                if json_out:
                    click.echo(dumps({**record_error_dict(rec, res), **position(rec, rid)}))
                else:
                    click.echo(f"{rec.where}: {_T[lang]['error']}: {fact_error_text(res, lang)}")
            else:
                on_result(rec, given, rid, res)
    except FactError as e:  # the whole file (a YAML or JSON document) cannot be read
        if not json_out:
            raise
        click.echo(dumps(_load_error_dict(e, "facts")))
        sys.exit(EXIT_INPUT)
    if crashed:
        sys.exit(EXIT_FUNCTION)
    if errors:
        sys.exit(EXIT_FINDINGS)


def _grade_columnar(ref: str, jurisdiction: str | None, fmt: str, facts: str, out: str | None, id_field: str,
                    lang: str) -> None:
    """``grade --format parquet|arrow|csv``: one results table (docs/columnar.md#the-command-line)."""
    if out is None and fmt != "csv":
        raise click.UsageError(f"--format {fmt} writes a file: give --out FILE")
    rs = _load_ruleset(ref, jurisdiction)
    try:
        written = grade_file(rs, facts, fmt, out, id_field=id_field or None)
    except OSError as e:
        click.echo(f"{_T[lang]['error']}: {e}", err=True)
        sys.exit(EXIT_INPUT)
    if written.errors:
        sys.exit(EXIT_FINDINGS)


def _grade_jsonl(ref: str, jurisdiction: str | None, facts: str, lang: str, with_receipt: bool,
                 id_field: str | None) -> None:
    """``grade --format json`` on JSON Lines: the same lines as :func:`_run_records`, fast (``_cli.stream``)."""
    try:
        rs = _load_ruleset(ref, jurisdiction)
    except CRASHES:
        raise
    except RiskgradeError as e:
        click.echo(dumps(_load_error_dict(e, "ruleset")))
        sys.exit(EXIT_INPUT)
    try:
        counts = grade_jsonl(rs, facts, lang=lang, receipt=with_receipt, id_field=id_field)
    except FactError as e:  # the file cannot be opened
        click.echo(dumps(_load_error_dict(e, "facts")))
        sys.exit(EXIT_INPUT)
    if counts.crashed:
        sys.exit(EXIT_FUNCTION)
    if counts.errors:
        sys.exit(EXIT_FINDINGS)


@main.command("grade")
@functools.partial(_grading_options, formats=("text", "json", *COLUMNAR_FORMATS),
                   fmt_help="json: one JSON object per record per line (riskgrade schema record); parquet, arrow "
                            "(IPC file), csv: one table of results, one row per record (--out FILE; csv may go "
                            "to stdout), read from .parquet/.arrow/.csv or any facts file")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, allow_dash=True),
              help="parquet/arrow/csv: the file to write the results table to")
def grade_cmd(ref: str, jurisdiction: str | None, fmt: str, id_field: str, with_receipt: bool, with_input: bool,
              lang: str | None, facts: str, out: str | None) -> None:
    """Grade FACTS (.yaml, .json or .jsonl; - for JSON Lines on stdin, streamed); one output per input record.

    With --format parquet|arrow|csv FACTS may also be a .parquet, .arrow (IPC) or .csv table."""
    lang = _lang(lang)
    if fmt in COLUMNAR_FORMATS:
        _grade_columnar(ref, jurisdiction, fmt, facts, out, id_field, lang)
        return
    if out is not None:
        raise click.UsageError("--out is for --format parquet, arrow or csv")
    if fmt == "json" and not with_input and (facts == STDIN or facts.endswith(".jsonl")):
        _grade_jsonl(ref, jurisdiction, facts, lang, with_receipt, id_field)
        return
    kept = _kept(with_input)

    def show(rec: FactRecord, given: Any, rid: Any, res: Any) -> None:
        if fmt == "json":
            click.echo(dumps({**res.to_dict(lang=lang, receipt=with_receipt, facts=given), **position(rec, rid),
                              **kept(given)}))
            return
        click.echo(f"{rec.where}: {styled_level(res.level, lang)}  {_T[lang]['score']} {fmt_number(res.score)}")
        fired = {f.id for f in res.fired}
        for step in res.trace(lang):
            if step.kind == "rule" and step.name in fired:
                click.echo(f"  · {step.text}")
        click.echo(f"  ruleset {res.ruleset.id} {res.ruleset.version} {res.ruleset.fingerprint[:19]}")

    _run_records(ref, jurisdiction, facts, lang, json_out=fmt == "json", id_field=id_field, on_result=show)


@main.command("explain")
@_grading_options
def explain_cmd(ref: str, jurisdiction: str | None, fmt: str, id_field: str, with_receipt: bool,
                with_input: bool, lang: str | None, facts: str) -> None:
    """Explain the grading of FACTS step by step, for people (- reads JSON Lines from stdin)."""
    lang = _lang(lang)
    kept = _kept(with_input)

    def show(rec: FactRecord, given: Any, rid: Any, res: Any) -> None:
        if fmt == "json":
            click.echo(dumps({**res.to_dict(trace=True, lang=lang, receipt=with_receipt, facts=given),
                              **position(rec, rid), **kept(given)}))
            return
        click.echo(f"== {rec.where}: {styled_level(res.level, lang)}")
        for step in res.trace(lang):
            click.echo(f"  {step.text}")

    _run_records(ref, jurisdiction, facts, lang, json_out=fmt == "json", id_field=id_field, on_result=show)


_TT = {
    "zh": {"coverage": "覆盖率", "no_cases": "没有用例(覆盖率按 0% 计)", "below": "覆盖率低于", "cases_n": "个用例", "rule": "规则", "band_row": "分档行", "criterion": "判定项",
           "low": "个规则集覆盖率不足", "none": "个规则集没有用例"},
    "en": {"coverage": "coverage", "no_cases": "has no cases (counts as 0% coverage)", "below": "coverage below", "cases_n": "cases", "rule": "rule", "band_row": "band row",
           "criterion": "criterion", "low": "rulesets below the minimum coverage", "none": "rulesets without cases"},
}


@attrs.frozen
class _Tested:
    """What ``riskgrade test`` found for one file: its cases (after ``-k``), their coverage, the
    problems (no cases, uncovered items, coverage below the minimum), or why it did not load."""

    path: str
    ruleset: Any = None
    results: tuple[CaseResult, ...] = ()
    coverage: Coverage | None = None
    problems: tuple[Problem, ...] = ()
    broken: RulesetError | None = None
    missing: bool = False

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)


def _matches(pattern: str, case: Any, result: CaseResult) -> bool:
    want = case.get("want") or {}
    names = [str(case.get("note", "")), *map(str, want.get("fired") or ()), *map(str, want.get("not_fired") or ()),
             *map(str, result.actual.get("fired") or ())]
    p = pattern.lower()
    return any(p in n.lower() for n in names)


def _item_locations(rs: Any, path: str) -> dict[str, tuple[str, int, int]]:
    """``uncovered item → (file, line)`` for the rules, band rows and criteria, from the file tested and
    the YAML files the ruleset was built from (a layer's rules are in the layer, its bands in the base)."""
    out: dict[str, tuple[str, int, int]] = {}
    for file in dict.fromkeys((path, *(f for f in rs.files if f.endswith((".yaml", ".yml"))))):
        for k, v in _item_locations_in(rs, file).items():
            out.setdefault(k, v)
    return out


def _item_locations_in(rs: Any, path: str) -> dict[str, tuple[str, int, int]]:
    try:
        located = load_yaml(path)
    except RulesetError:
        return {}
    data = located.data if isinstance(located.data, dict) else {}
    out: dict[str, tuple[str, int, int]] = {}
    raw = data.get("rules")
    rules: list[Any] = raw if isinstance(raw, list) else []
    index = {r.get("id"): i for i, r in enumerate(rules) if isinstance(r, dict)}
    for i, rule in enumerate(rs.rules):
        rid = rule["id"]
        j = index.get(rid)
        if j is None:
            continue
        out[f"rule {rid}"] = (path, *located.where(("rules", j)))
        for k, c in enumerate(rule.get("criteria") or ()) if rule.get("method") == "composite" else ():
            if k < len(rules[j].get("criteria") or ()):
                out[f"rule {rid} criterion {c['id']}"] = (path, *located.where(("rules", j, "criteria", k)))
        m = rs._methods[i]
        b = rs.bands.get(str(rule.get("bands", ""))) if m.banded else None
        if b is not None and isinstance((data.get("bands") or {}).get(rule["bands"]), dict):
            var = m.score_name(rule) or "score"
            for k in range(len(b.rows)):
                out[f"rule {rid} band row {b.row_text(k, var)}"] = (
                    path, *located.where(("bands", rule["bands"], "rows", k)))
    return out


def _not_found(path: str) -> _Tested:
    """A path given to ``test`` that does not exist: it cannot load (exit 2), and says so in its place."""
    p = Problem("unreadable", "no such file or directory", path, 0, 0, message_zh="文件不存在")
    return _Tested(path, broken=RulesetError([p]), missing=True)


def _test_file(path: str, kind: str, pattern: str | None, min_coverage: float | None, lang: str) -> _Tested:
    try:
        obj = _load_any(path, kind)
    except RulesetError as e:
        return _Tested(path, broken=e)
    rs = obj if kind == "ruleset" else obj.ruleset
    results = list(obj.run_cases())
    if kind == "layer":  # a layer's refined ruleset keeps the layer's cases only: they are in this file
        results = [attrs.evolve(r, file=path) for r in results]
    picked = [i for i, r in enumerate(results) if pattern is None or _matches(pattern, rs.cases[i], r)]
    cov = coverage(rs, picked)
    problems: list[Problem] = []
    if not rs.cases:
        problems.append(Problem("no-cases", f"{rs.id} {_TT['en']['no_cases']}", path, 1, 1,
                                message_zh=f"{rs.id} {_TT['zh']['no_cases']}",
                                hint="add 'cases:' with the standard's examples and boundary cases "
                                     "(note, facts, want)",
                                hint_zh="加上 'cases:', 写入标准的例题和边界用例(note、facts、want)"))
    elif picked:
        where = _item_locations(rs, path)
        for item in cov.uncovered_items:
            file, line, col = where.get(item, (path, 0, 0))
            problems.append(Problem("uncovered", _item_text(item, lang), file, line, col,
                                    hint="add a case whose facts exercise it", hint_zh="加一个覆盖它的用例"))
    if min_coverage is not None and cov.percent < min_coverage:
        problems.append(Problem("low-coverage", f"{rs.id}: {_TT['en']['coverage']} {cov.percent:g}% < {min_coverage:g}%",
                                path, 1, 1,
                                message_zh=f"{rs.id}: {_TT['zh']['coverage']} {cov.percent:g}% < {min_coverage:g}%",
                                hint="add cases for the uncovered items listed above",
                                hint_zh="为上面列出的未覆盖项补充用例"))
    return _Tested(path, rs, tuple(results[i] for i in picked), cov, tuple(problems))


def _item_text(item: str, lang: str) -> str:
    if lang != "zh":
        return item
    tt = _TT["zh"]
    return (item.replace("rule ", f"{tt['rule']} ", 1).replace(" band row ", f" {tt['band_row']} ")
            .replace(" criterion ", f" {tt['criterion']} "))


def _case_dict(r: CaseResult) -> dict[str, Any]:
    return {"index": r.index, "note": r.note, "ok": r.ok, "file": r.file, "line": r.line,
            "want": dict(r.expected), "got": dict(r.actual), "problems": list(r.problems)}


def _json_record(t: _Tested) -> dict[str, Any]:
    if t.missing:
        return missing_file_dict(t.path)
    if t.broken is not None:
        return load_error_dict(t.broken, "ruleset", file=t.path)
    assert t.coverage is not None
    return {"file": t.path, "ruleset": t.ruleset.id, "version": t.ruleset.version, "edition": t.ruleset.edition,
            "cases": [_case_dict(r) for r in t.results], "coverage": t.coverage.to_dict(),
            "problems": [problem_dict(p) for p in t.problems]}


def _junit(tested: list[_Tested], min_coverage: float | None) -> str:
    """A JUnit XML report: one ``testsuite`` per file, one ``testcase`` per case, plus a ``coverage``
    testcase that fails below ``--min-coverage`` or when the ruleset has no cases."""
    root = ET.Element("testsuites", name="riskgrade")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for t in tested:
        suite = ET.SubElement(root, "testsuite", name=t.ruleset.id if t.ruleset else t.path, file=t.path)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if t.broken is not None:
            tc = ET.SubElement(suite, "testcase", classname=t.path, name="load", file=t.path)
            err = ET.SubElement(tc, "error", message=t.broken.problems[0].message if t.broken.problems else "error",
                                type="RulesetError")
            err.text = str(t.broken)
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            assert t.coverage is not None
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="coverage", value=f"{t.coverage.percent:g}")
            ET.SubElement(props, "property", name="version", value=str(t.ruleset.version))
            for r in t.results:
                tc = ET.SubElement(suite, "testcase", classname=t.ruleset.id, name=f"#{r.index} {r.note}",
                                   file=r.file, line=str(r.line))
                counts["tests"] += 1
                if not r.ok:
                    counts["failures"] += 1
                    f = ET.SubElement(tc, "failure", message="; ".join(r.problems) or "failed", type="CaseFailure")
                    f.text = (f"{r.file}:{r.line}\n" + "\n".join(r.problems)
                              + f"\nwant: {dumps(r.expected)}\ngot: {dumps(r.actual)}")
            tc = ET.SubElement(suite, "testcase", classname=t.ruleset.id, name="coverage", file=t.path)
            counts["tests"] += 1
            failing = [p for p in t.problems if p.code in ("no-cases", "low-coverage")]
            if failing:
                counts["failures"] += 1
                f = ET.SubElement(tc, "failure", message="; ".join(p.message for p in failing), type="Coverage")
                f.text = "\n".join(str(p) for p in t.problems)
            elif t.problems:
                out = ET.SubElement(tc, "system-out")
                out.text = "\n".join(str(p) for p in t.problems)
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              help="json: one JSON object per ruleset file per line (JSON lines); junit: a JUnit XML report")
@click.option("-k", "pattern", metavar="PATTERN", default=None,
              help="only the cases whose note, or a rule they name or fire, contains PATTERN (case-insensitive)")
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), default=None, metavar="N",
              help="fail (exit 1) when a ruleset's coverage is below N percent")
@click.option("--verbose", "-v", is_flag=True, help="Show every case, not only failures.")
@_lang_option
def test_cmd(paths: tuple[str, ...], fmt: str, pattern: str | None, min_coverage: float | None, verbose: bool,
             lang: str | None) -> None:
    """Run the cases of ruleset and layer files (or directories) and report their coverage.

    Exit 1 when a case fails, a ruleset has no cases or (with --min-coverage) covers less than N
    percent of its rules, band rows and criteria; exit 2 when a file does not load.
    """
    lang = _lang(lang)
    tested = [_not_found(path) if not os.path.exists(path) else _test_file(path, kind, pattern, min_coverage, lang)
              for path in _iter_ruleset_files(paths)
              if not os.path.exists(path) or (kind := _kind(path)) in ("ruleset", "layer", "screening")]
    failed = sum(t.failed for t in tested)
    broken = sum(t.broken is not None for t in tested)
    low = sum(any(p.code == "low-coverage" for p in t.problems) for t in tested)
    empty = sum(any(p.code == "no-cases" for p in t.problems) for t in tested)
    if fmt == "json":
        for t in tested:
            click.echo(dumps(_json_record(t)))
    elif fmt == "junit":
        click.echo(_junit(tested, min_coverage))
    else:
        _test_text(tested, verbose, lang)
        t_ = _T[lang]
        passed = sum(len(t.results) for t in tested) - failed
        summary = f"{passed} {t_['passed']}, {failed} {t_['failed']}"
        if broken:
            summary += f", {broken} {t_['rulesets']} {t_['error']}"
        if empty:
            summary += f", {empty} {_TT[lang]['none']}"
        if low:
            summary += f", {low} {_TT[lang]['low']} ({min_coverage:g}%)"
        click.echo(summary)
    if broken:  # a file that does not load: its cases could not run at all (not a failed case)
        sys.exit(EXIT_INPUT)
    if failed or low or empty:
        sys.exit(EXIT_FINDINGS)


def _test_text(tested: list[_Tested], verbose: bool, lang: str) -> None:
    t = _T[lang]
    tt = _TT[lang]
    for item in tested:
        if item.broken is not None:
            for p in item.broken.problems:
                click.echo(problem_text(p, lang))
            continue
        for r in item.results:
            where = f"{r.file}:{r.line}" if r.line else r.file
            if r.ok:
                if verbose:
                    click.echo(f"{click.style(t['ok'], fg='green')}  {where}: {r.ruleset} #{r.index}: {r.note}")
                continue
            click.echo(f"{click.style(t['fail'], fg='red', bold=True)}  {where}: {r.ruleset} #{r.index}: {r.note}")
            for msg in r.problems:
                click.echo(f"      {msg}")
            click.echo(f"      {t['want']}: {dumps(r.expected)}")
            click.echo(f"      {t['got']}:  {dumps(r.actual)}")
            click.echo(f"      {t['hint']}: {t['case_hint']}")
        cov = item.coverage
        assert cov is not None
        rs = item.ruleset
        click.echo(f"{item.path}: {rs.id} {rs.version}: {len(item.results)} {tt['cases_n']}, {tt['coverage']} "
                   f"{cov.percent:g}% ({cov.covered}/{cov.total})")
        for p in item.problems:
            click.echo(f"  {_problem_text(p, lang)}")


def _problem_text(p: Problem, lang: str) -> str:
    """``file:line:col: code: message`` in ``lang`` (the code explained in Chinese when no Chinese
    message was written), and its hint."""
    return problem_text(p, lang).replace("\n", "\n  ")
