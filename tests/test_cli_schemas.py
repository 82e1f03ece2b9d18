"""The machine contract of every command under ``--format json`` (issue 16): each line a command prints
matches ``riskgrade schema KIND`` (jsonschema, draft 2020-12) on the shipped examples and on bad input; a
load error (a missing file, bad YAML, a broken ruleset, a bad register) is a JSON record on stdout with
exit 2, never plain text there; every schema rejects wrong documents.

Commands run in-process through the ``riskgrade`` group (click's runner), as the other CLI tests do.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import select
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import click
import pytest
from click.testing import CliRunner

from riskgrade._cli.doc import SCHEMA_KINDS, schema_for
from riskgrade._cli.main import main
from riskgrade._validate.commands import COMMAND_SCHEMAS

jsonschema = pytest.importorskip("jsonschema")

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: commands printing JSON Lines (one schema instance a line); the others print one document
LINES = {"validate", "test", "whatif", "monitor"}
CHEM = "examples/enterprises/chem-plant.yaml"
MONITOR = ["--ruleset", "chem-plant-monitor", "--enterprise", CHEM]


def _validator(kind: str) -> Any:
    cls = jsonschema.Draft202012Validator
    schema = schema_for(kind)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


VALIDATORS: dict[str, Any] = {}


def validator(kind: str) -> Any:
    if kind not in VALIDATORS:
        VALIDATORS[kind] = _validator(kind)
    return VALIDATORS[kind]


def run(kind: str, args: list[str], stdin: str | None = None) -> tuple[int, list[Any]]:
    """Run ``riskgrade KIND ARGS`` in-process; its exit code and its stdout parsed (every line JSON for a
    JSON Lines command, one document for the others) -- a line that is not JSON fails here."""
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        res = CliRunner().invoke(main, [kind, *args], input=stdin)
    finally:
        os.chdir(old)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    out = res.stdout
    assert out.strip(), f"nothing on stdout (stderr: {res.stderr!r})"
    if kind in LINES:
        docs = [json.loads(line) for line in out.splitlines()]
    else:
        try:
            docs = [json.loads(out)]
        except json.JSONDecodeError:  # a load error is one JSON line too
            docs = [json.loads(line) for line in out.splitlines()]
    return res.exit_code, docs


def check(kind: str, docs: list[Any]) -> None:
    v = validator(kind)
    for d in docs:
        errors = sorted(v.iter_errors(d), key=lambda e: list(e.path))
        assert not errors, f"{kind}: {json.dumps(d, ensure_ascii=False)[:300]}: {errors[0].message[:300]}"


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Files that cannot be used: YAML syntax, a broken ruleset, a bad register, a blank-line log, ..."""
    d = tmp_path_factory.mktemp("bad")
    files = {
        "syntax.yaml": "riskgrade: 1\nid: [\n",
        "broken.yaml": "riskgrade: 1\nid: broken\nversion: 1.0.0\ninputs: {L: {type: numbr}}\nrules: []\n",
        "register.yaml": "id: E-1\nname: 测试\njurisdiction: '620402'\nruleset: lec-generic\nunits: [{id: U-1, name: u}]\n"
                         "risk_points: [{id: P-1, unit: NOPE, name: p, facts: {L: 3, E: 6, C: 15}}]\n",
        "facts.jsonl": '{"id": "J-1", "L": 3, "E": 6, "C": 15}\n\n{"id": "J-3", "L": 3}\nnot json\n'
                       '{"id": 7, "L": 6, "E": 6, "C": 40}\n',
        "events.jsonl": (ROOT / "examples/events/chem-plant.jsonl").read_text(encoding="utf-8").splitlines()[0]
                        + "\n\n{oops\n",
    }
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")
    return {name: str(d / name) for name in files} | {"missing.yaml": str(d / "missing.yaml"),
                                                      "missing.jsonl": str(d / "missing.jsonl")}


# -- the shipped examples ---------------------------------------------------------------------------------
GOOD: list[tuple[str, list[str], int]] = [
    ("validate", ["rulesets/lec-generic.yaml", "rulesets/hazchem", "--format", "json"], 0),
    ("test", ["rulesets/lec-generic.yaml", "rulesets/ls-matrix.yaml", "--format", "json"], 0),
    ("check-refinement", ["-r", "lec-generic", "-j", "620421", "-n", "10", "--format", "json"], 0),
    ("check-refinement", ["-r", "supervision", "-j", "620421", "--format", "json"], 0),
    ("list", ["--format", "json"], 0),
    ("assess", [CHEM, "--as-of", "2024-06-30", "--format", "json"], 0),
    ("region", ["examples/region", "--as-of", "2024-06-30", "--format", "json"], 0),
    ("whatif", ["-r", "lec-generic", "examples/lec-job.yaml", "--format", "json"], 0),
    ("plan", ["examples/region", "--year", "2027", "--format", "json"], 0),
    ("screen", ["-r", "hazchem-project-screening", "examples/projects/pass.yaml", "--format", "json"], 0),
    ("screen", ["-r", "hazchem-project-screening", "examples/projects/conditions.yaml", "--format", "json"], 1),
    ("screen", ["-r", "hazchem-project-screening", "examples/projects/reject.yaml", "--format", "json"], 1),
    ("diff", ["lec-generic", "lec-generic@jurisdiction=620421", "--generate", "40", "--format", "json"], 0),
    ("diff", ["lec-generic", "lec-generic", "--facts", "examples/lec-job.yaml", "--format", "json"], 0),
    ("diff", ["lec-generic", "lec-generic@jurisdiction=620421", "--facts", "examples/lec-jobs.jsonl", "--format",
              "json"], 1),  # line 5 is not JSON: its error record, the others compared
    ("monitor", [*MONITOR, "examples/events/chem-plant.jsonl"], 1),  # the example log has bad events on purpose
    ("plugins", ["--format", "json"], 0),
]


@pytest.mark.parametrize(("kind", "args", "code"), GOOD, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(GOOD)])
def test_shipped_examples_match_their_schema(kind: str, args: list[str], code: int) -> None:
    exit_code, docs = run(kind, args)
    assert exit_code == code
    check(kind, docs)
    assert not any(isinstance(d, dict) and "load" in d for d in docs), docs


def test_every_command_with_json_output_has_a_schema() -> None:
    assert set(COMMAND_SCHEMAS) == {"validate", "test", "check-refinement", "list", "assess", "region", "whatif",
                                    "plan", "screen", "diff", "monitor", "plugins", "map", "register", "card",
                                    "report", "adapt-import", "adapt-export"}
    commands = {**{n: c for n, c in main.commands.items() if not isinstance(c, click.Group)},
                **{f"{n}-{s}": sc for n, c in main.commands.items() if isinstance(c, click.Group)
                   for s, sc in c.commands.items()}}
    with_json = {n for n, c in commands.items()
                 if any(p.name == "fmt" and "json" in getattr(p.type, "choices", ()) for p in c.params)}
    # grade and explain print records (schema record), verify verifications (schema verification)
    assert with_json - {"grade", "explain", "verify"} == set(COMMAND_SCHEMAS) - {"monitor"}  # monitor: jsonl
    assert set(COMMAND_SCHEMAS) <= set(SCHEMA_KINDS)
    for kind in COMMAND_SCHEMAS:  # and riskgrade schema prints it
        res = CliRunner().invoke(main, ["schema", kind])
        assert res.exit_code == 0 and json.loads(res.stdout) == schema_for(kind)


# -- load errors: JSON on stdout, exit 2, for every command ---------------------------------------------------
LOAD_ERRORS: list[tuple[str, Callable[[dict[str, str]], list[str]], str]] = [
    ("validate", lambda b: [b["missing.yaml"], "rulesets/lec-generic.yaml", "--format", "json"], "file"),
    ("test", lambda b: [b["missing.yaml"], "--format", "json"], "file"),
    ("test", lambda b: [b["syntax.yaml"], "--format", "json"], "ruleset"),
    ("test", lambda b: [b["broken.yaml"], "--format", "json"], "ruleset"),
    ("check-refinement", lambda b: ["-r", b["missing.yaml"], "-j", "620421", "--format", "json"], "ruleset"),
    ("check-refinement", lambda b: ["-r", b["broken.yaml"], "-j", "620421", "--format", "json"], "ruleset"),
    ("check-refinement", lambda b: ["-r", "no-such-ruleset", "-j", "620421", "--format", "json"], "ruleset"),
    ("whatif", lambda b: ["-r", "lec-generic", b["missing.yaml"], "--format", "json"], "facts"),
    ("whatif", lambda b: ["-r", "lec-generic", b["syntax.yaml"], "--format", "json"], "facts"),
    ("whatif", lambda b: ["-r", b["broken.yaml"], "examples/lec-job.yaml", "--format", "json"], "ruleset"),
    ("whatif", lambda b: ["-r", b["syntax.yaml"], "examples/lec-job.yaml", "--format", "json"], "ruleset"),
    ("screen", lambda b: ["-r", "hazchem-project-screening", b["missing.yaml"], "--format", "json"], "project"),
    ("screen", lambda b: ["-r", "hazchem-project-screening", b["syntax.yaml"], "--format", "json"], "project"),
    ("screen", lambda b: ["-r", b["broken.yaml"], "examples/projects/pass.yaml", "--format", "json"], "ruleset"),
    ("diff", lambda b: ["lec-generic", b["syntax.yaml"], "--format", "json"], "ruleset"),
    ("diff", lambda b: [b["broken.yaml"], "lec-generic", "--format", "json"], "ruleset"),
    ("diff", lambda b: ["lec-generic", "lec-generic", "--facts", b["missing.jsonl"], "--format", "json"], "facts"),
    ("diff", lambda b: ["lec-generic", "lec-generic", "--facts", b["syntax.yaml"], "--format", "json"], "facts"),
    ("card", lambda b: [b["missing.yaml"], "--out", b["missing.yaml"] + ".d", "--format", "json"], "register"),
    ("card", lambda b: [b["register.yaml"], "--out", b["missing.yaml"] + ".d", "--format", "json"], "register"),
    ("map", lambda b: ["--site", b["syntax.yaml"], "--out", b["missing.yaml"] + ".svg", "--format", "json"],
     "register"),
    ("map", lambda b: [CHEM, "--out", b["missing.yaml"] + ".pdf", "--format", "json"], "output"),
    ("register", lambda b: [CHEM, "--out", b["missing.yaml"] + ".ods", "--format", "json"], "output"),
    ("monitor", lambda b: ["--ruleset", b["broken.yaml"], "--enterprise", CHEM, "examples/events/chem-plant.jsonl"],
     "monitor"),
    ("monitor", lambda b: [*MONITOR[:2], "--enterprise", b["missing.yaml"], "examples/events/chem-plant.jsonl"],
     "monitor"),
    ("monitor", lambda b: [*MONITOR[:2], "--enterprise", b["register.yaml"], "examples/events/chem-plant.jsonl"],
     "monitor"),
    ("monitor", lambda b: [*MONITOR, b["missing.jsonl"]], "monitor"),
]


@pytest.mark.parametrize(("kind", "args", "what"), LOAD_ERRORS,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(LOAD_ERRORS)])
def test_a_load_error_is_a_json_record_on_stdout(bad: dict[str, str], kind: str,
                                                 args: Callable[[dict[str, str]], list[str]], what: str) -> None:
    exit_code, docs = run(kind, args(bad))
    assert exit_code == 2
    check(kind, docs)
    loads = [d for d in docs if isinstance(d, dict) and "load" in d]
    assert len(loads) == 1 and loads[0]["load"] == what, docs
    assert loads[0]["error"] and loads[0]["message"]


def test_validate_reports_a_missing_path_in_its_place(bad: dict[str, str]) -> None:
    exit_code, docs = run("validate", ["rulesets/lec-generic.yaml", bad["missing.yaml"], bad["syntax.yaml"],
                                       "--format", "json"])
    assert exit_code == 2  # a path that does not exist outranks the finding in the other file
    check("validate", docs)
    assert [d.get("load") for d in docs] == [None, "file", None]
    assert [d.get("valid") for d in docs] == [True, None, False]
    assert docs[2]["errors"][0]["code"] == "yaml-syntax"


@pytest.mark.parametrize("register", ["missing.yaml", "syntax.yaml", "register.yaml"])
def test_assess_region_plan_name_the_register_that_failed(bad: dict[str, str], register: str) -> None:
    path = bad[register]
    for kind, args in (("assess", [path]), ("region", [path]), ("plan", [path, "--year", "2027"])):
        exit_code, docs = run(kind, [*args, "--format", "json"])
        assert exit_code == 2, kind
        check(kind, docs)
        (doc,) = docs
        assert [e["file"] for e in doc["errors"]] == [path], (kind, doc)
    exit_code, docs = run("assess", [CHEM, "--ruleset", bad["broken.yaml"], "--format", "json"])
    assert exit_code == 2 and docs[0]["errors"][0]["code"] == "missing-key"  # the broken ruleset's first problem
    check("assess", docs)


# -- whatif: index, line, id, blank lines, stdin ----------------------------------------------------------------
def test_whatif_lines_carry_position_and_id(bad: dict[str, str]) -> None:
    exit_code, docs = run("whatif", ["-r", "lec-generic", bad["facts.jsonl"], "--format", "json", "--limit", "1"])
    assert exit_code == 1  # invalid records are findings; the others are answered
    check("whatif", docs)
    assert [(d["index"], d["line"], d.get("id")) for d in docs] == [(0, 1, "J-1"), (1, 2, None), (2, 3, "J-3"),
                                                                    (3, 4, None), (4, 5, 7)]
    assert [d.get("error") for d in docs] == [None, "blank-line", "missing-fact", "bad-syntax", None]
    assert docs[0]["level"] == "ORANGE" and len(docs[0]["options"]) == 1
    # the id is not a fact: the answer is the same as without it
    _, plain = run("whatif", ["-r", "lec-generic", "-", "--format", "json", "--limit", "1"],
                   stdin='{"L": 3, "E": 6, "C": 15}\n')
    assert {k: v for k, v in docs[0].items() if k not in ("id", "record")} == \
           {k: v for k, v in plain[0].items() if k != "record"}
    _, named = run("whatif", ["-r", "lec-generic", bad["facts.jsonl"], "--format", "json", "--id-field", "L"])
    assert named[0]["id"] == 3 and "error" not in named[0]  # L names the record and, an input, is still graded


def _read_line(stream: Any, timeout: float = 120.0) -> bytes:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s: the command does not stream"
    return stream.readline()  # type: ignore[no-any-return]


def test_whatif_streams_stdin() -> None:
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "whatif", "-r", "lec-generic", "-",
           "--format", "json", "--limit", "1"]
    with subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          env={**os.environ, "LANG": "C.UTF-8"}) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(b'{"id": "A", "L": 3, "E": 6, "C": 15}\n')
            proc.stdin.flush()
            first = json.loads(_read_line(proc.stdout))  # answered while stdin is still open
            assert (first["index"], first["line"], first["id"], first["record"]) == (0, 1, "A", "<stdin>:1")
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            second = json.loads(_read_line(proc.stdout))
            assert (second["index"], second["error"]) == (1, "blank-line")
            proc.stdin.close()
            assert proc.stdout.read() == b""
            assert proc.wait(timeout=120) == 1
        finally:
            if proc.poll() is None:
                proc.kill()
    check("whatif", [first, second])


# -- monitor: a blank line is an error record, not JSON is bad-syntax (as grade says) ----------------------------
def test_monitor_blank_and_bad_lines_are_error_records(bad: dict[str, str]) -> None:
    exit_code, docs = run("monitor", [*MONITOR, bad["events.jsonl"]])
    assert exit_code == 1
    check("monitor", docs)
    errors = [(d["line"], d["error"]) for d in docs if d["kind"] == "error"]
    assert errors == [(2, "blank-line"), (3, "bad-syntax")]
    lines = bad["events.jsonl"]
    _, graded = run("grade", ["-r", "lec-generic", lines, "--format", "json"])
    assert [g.get("error") for g in graded[1:]] == ["blank-line", "bad-syntax"]  # one code for one thing


# -- every schema rejects what it must --------------------------------------------------------------------------
def _wrong(kind: str, doc: Any) -> list[Any]:
    """Wrong documents made from a right one of ``kind``."""
    d = copy.deepcopy(doc)
    edits: dict[str, Callable[[Any], None]] = {
        "validate": lambda x: x.pop("valid"),
        "test": lambda x: x["coverage"].__setitem__("percent", 150),
        "check-refinement": lambda x: x.__setitem__("ok", "yes"),
        "list": lambda x: x[0].__setitem__("title", 5),
        "assess": lambda x: x.__setitem__("level", "PURPLE"),
        "region": lambda x: x.__setitem__("schema", "riskgrade.region/0"),
        "whatif": lambda x: x.pop("index"),
        "plan": lambda x: x["enterprises"][0].__setitem__("months", [13]),
        "screen": lambda x: x.__setitem__("decision", "maybe"),
        "diff": lambda x: x["changes"].append({"kind": "rule", "op": "moved", "name": "x"}),
        "monitor": lambda x: x.pop("warning") if "warning" in x else x.__setitem__("kind", "alarm"),
        "plugins": lambda x: x[0].__setitem__("hooks", "riskgrade_layers"),
        "map": lambda x: x["written"][0].__setitem__("sha256", "md5:0"),
        "register": lambda x: x["levels"].pop("RED"),
        "card": lambda x: x.__setitem__("written", []),
        "report": lambda x: x.__setitem__("pages", -1),
        "adapt-export": lambda x: x["gaps"].append({"table": "t", "field": "f", "count": 0}),
        "adapt-import": lambda x: x.__setitem__("from", "province"),
    }
    edits[kind](d)
    return [d, {}, *([] if kind in ("list", "plugins") else [[]]), "text", None, 1, {"error": "unreadable", "load": "nowhere", "message": "m"},
            {"error": "unreadable", "load": "file", "message": "m", "extra": 1}]


@pytest.mark.parametrize(("kind", "args", "code"), [g for g in GOOD if g[0] not in ("screen",) or "pass" not in g[1][2]],
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(GOOD) if g[0] != "screen" or "pass" not in g[1][2]])
def test_every_schema_rejects_wrong_documents(kind: str, args: list[str], code: int) -> None:
    _, docs = run(kind, args)
    v = validator(kind)
    doc = next(d for d in docs if not (kind == "monitor" and d["kind"] != "warning_raised"))
    for wrong in _wrong(kind, doc):
        assert not v.is_valid(wrong), f"{kind} accepts {json.dumps(wrong, ensure_ascii=False)[:200]}"


def test_the_load_error_schema_is_strict() -> None:
    v = validator("test")
    assert v.is_valid({"error": "unreadable", "load": "file", "file": "x.yaml", "message": "cannot read x.yaml"})
    for wrong in ({"error": "unreadable", "load": "file"}, {"error": "Unreadable!", "load": "file", "message": "m"},
                  {"error": "unreadable", "load": "file", "message": "m", "problems": [{"code": "x"}]}):
        assert not v.is_valid(wrong), wrong


# -- the commands that write files ---------------------------------------------------------------------------------
WRITERS: list[tuple[str, list[str]]] = [
    ("map", ["map", CHEM, "--as-of", "2024-06-30", "--out", "{out}/map.geojson"]),
    ("map", ["map", "--site", CHEM, "--as-of", "2024-06-30", "--out", "{out}/site.svg"]),
    ("register", ["register", CHEM, "--as-of", "2024-06-30", "--out", "{out}/register.csv"]),
    ("card", ["card", CHEM, "--as-of", "2024-06-30", "--point", "P-NH3-TANK", "--out", "{out}/cards"]),
    ("report", ["report", CHEM, "--as-of", "2024-06-30", "--out", "{out}/report"]),
    ("adapt-export", ["adapt", "export", "--to", "ministry", CHEM, "-o", "{out}/ministry.json"]),
    ("adapt-import", ["adapt", "import", "--from", "ministry", "{out}/ministry.json", "-o", "{out}/back.yaml"]),
]


def test_writers_match_their_schema_and_it_rejects_wrong_documents(tmp_path: pathlib.Path) -> None:
    for kind, args in WRITERS:
        old = os.getcwd()
        os.chdir(ROOT)
        try:
            res = CliRunner().invoke(main, [*(a.replace("{out}", str(tmp_path)) for a in args), "--format", "json"])
        finally:
            os.chdir(old)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)
        doc = json.loads(res.stdout)
        check(kind, [doc])
        v = validator(kind)
        for wrong in _wrong(kind, doc):
            assert not v.is_valid(wrong), f"{kind} accepts {json.dumps(wrong, ensure_ascii=False)[:200]}"
