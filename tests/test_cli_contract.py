"""The command line's machine contract as a hostile platform would check it (issue 16 §1): under
``--format json`` stdout holds JSON only and stderr human text only, whatever happens; exit 3 -- a function,
a plugin or riskgrade itself failed -- is a JSON error record too, on every command; ``diff --facts`` gives
a bad record an error record at its index and line and compares the rest; a missing facts or results file
is a JSON load error, not click's usage text.

Failures come from real plugin distributions: the installed test plugin riskgrade-mes (a function that
fails for 0) and two distributions written to a temporary directory and put on ``PYTHONPATH`` of a real
``riskgrade`` process -- one whose module raises on import (``plugin-error``), one whose layer cannot be
read (an exception riskgrade does not expect: ``internal-error``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import riskgrade
from riskgrade._cli.doc import schema_for
from riskgrade._cli.main import main

from .test_layers import require

jsonschema = pytest.importorskip("jsonschema")

ROOT = pathlib.Path(__file__).resolve().parent.parent
MES = str(ROOT / "tests" / "data" / "mes-test.yaml")
CHEM = "examples/enterprises/chem-plant.yaml"
#: the riskgrade under test (the worktree's or the installed one), for the child processes
SRC = str(pathlib.Path(riskgrade.__file__).resolve().parent.parent)

BROKEN = {"broken_plugin.py": 'raise RuntimeError("broken on import")\n'}
ODD = {"odd_layer_plugin.py": '''from riskgrade.hookspecs import hookimpl


class _Unreadable:
    name = "odd.yaml"

    def read_text(self, encoding="utf-8"):
        raise RuntimeError("cannot read the layer")


@hookimpl
def riskgrade_layers():
    return [_Unreadable()]
'''}


def _distribution(root: pathlib.Path, name: str, module: str, files: dict[str, str]) -> str:
    """A real distribution ``name`` with the entry point ``[riskgrade] name = module``, in ``root``."""
    root.mkdir(parents=True)
    for fn, text in files.items():
        (root / fn).write_text(text, encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[riskgrade]\n{name} = {module}\n", encoding="utf-8")
    return str(root)


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("plugins")
    return {"broken": _distribution(d / "broken", "broken", "broken_plugin", BROKEN),
            "odd": _distribution(d / "odd", "odd", "odd_layer_plugin", ODD)}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("inputs")
    mes_register = (ROOT / "tests/data/mes-enterprise.yaml").read_text(encoding="utf-8")
    crash = mes_register.replace("{M: 1, E: 6, S: 4}", "{M: 1, E: 6, S: 4, probe: 0}").replace(
        "ruleset: mes-test", f"ruleset: {json.dumps(MES)}")
    assert crash != mes_register
    texts = {
        "crash-register.yaml": crash,
        "crash.jsonl": '{"M": 5, "E": 6, "S": 8, "probe": 0}\n',
        "population.jsonl": '{"id": "A", "L": 3, "E": 6, "C": 15}\n\nnot json\n[1, 2]\n{"id": 5, "L": 6, "E": 6, '
                            '"C": 40}\n',
        "results.jsonl": "",
    }
    for name, text in texts.items():
        (d / name).write_text(text, encoding="utf-8")
    out = {name: str(d / name) for name in texts} | {"out": str(d / "out"), "missing": str(d / "missing.jsonl")}
    graded = _cli(["grade", "-r", "lec-generic", "examples/lec-job.yaml", "--format", "json"])
    pathlib.Path(out["results.jsonl"]).write_text(graded.stdout, encoding="utf-8")
    return out


def _cli(args: list[str], plugin: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``riskgrade ARGS`` in a real process (cwd: the repository), with ``plugin`` on its ``PYTHONPATH``."""
    path = os.pathsep.join([*([plugin] if plugin else []), SRC])
    env = {**os.environ, "PYTHONPATH": path, "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-c", "from riskgrade._cli import main; main()", *args], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False)


def _json_only(res: subprocess.CompletedProcess[str]) -> list[Any]:
    """The documents on stdout -- one document, or JSON Lines; anything else fails -- after checking that
    stderr holds no JSON line (human text only)."""
    for line in res.stderr.splitlines():
        try:
            json.loads(line)
        except json.JSONDecodeError:
            continue
        if line.strip().startswith(("{", "[")):
            pytest.fail(f"a JSON line on stderr: {line[:200]}")
    out = res.stdout
    assert out.strip(), f"nothing on stdout (stderr: {res.stderr[:300]!r})"
    try:
        return [json.loads(out)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in out.splitlines()]


def _valid(kind: str, docs: list[Any]) -> None:
    cls = jsonschema.Draft202012Validator
    v = cls(schema_for(kind), format_checker=cls.FORMAT_CHECKER)
    for d in docs:
        errors = list(v.iter_errors(d))
        assert not errors, f"{kind}: {json.dumps(d, ensure_ascii=False)[:300]}: {errors[0].message[:300]}"


def _failures(docs: list[Any]) -> list[dict[str, Any]]:
    """Every exit-3 error record in ``docs``: a document or line of its own, or a register's error record."""
    out = []
    for d in docs:
        if not isinstance(d, dict):
            continue
        if d.get("error") in ("function-error", "plugin-error", "internal-error"):
            out.append(d)
        out += [e for e in d.get("errors") or () if e.get("code") in ("function-error", "plugin-error")]
    return out


# -- exit 3 is JSON on every command ------------------------------------------------------------------------------
def _commands(f: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(schema kind, arguments) of every command with --format json, on good input."""
    out = f["out"]
    return [
        ("record", ["grade", "-r", "lec-generic", "examples/lec-job.yaml", "--format", "json"]),
        ("record", ["grade", "-r", "lec-generic", "-", "--format", "json"]),
        ("record", ["explain", "-r", "lec-generic", "examples/lec-job.yaml", "--format", "json"]),
        ("whatif", ["whatif", "-r", "lec-generic", "examples/lec-job.yaml", "--format", "json"]),
        ("verification", ["verify", f["results.jsonl"], "--format", "json"]),
        ("validate", ["validate", "rulesets/lec-generic.yaml", "--format", "json"]),
        ("test", ["test", "rulesets/lec-generic.yaml", "--format", "json"]),
        ("check-refinement", ["check-refinement", "-r", "lec-generic", "-j", "620421", "-n", "5", "--format", "json"]),
        ("diff", ["diff", "lec-generic", "lec-generic", "--facts", "examples/lec-job.yaml", "--format", "json"]),
        ("assess", ["assess", CHEM, "--as-of", "2024-06-30", "--format", "json"]),
        ("region", ["region", CHEM, "--as-of", "2024-06-30", "--format", "json"]),
        ("plan", ["plan", CHEM, "--year", "2027", "--format", "json"]),
        ("screen", ["screen", "-r", "hazchem-project-screening", "examples/projects/pass.yaml", "--format", "json"]),
        ("monitor", ["monitor", "--ruleset", "chem-plant-monitor", "--enterprise", CHEM,
                     "examples/events/chem-plant.jsonl"]),
        ("plugins", ["plugins", "--format", "json"]),
        ("map", ["map", CHEM, "--as-of", "2024-06-30", "--out", f"{out}-map.geojson", "--format", "json"]),
        ("register", ["register", CHEM, "--as-of", "2024-06-30", "--out", f"{out}-register.csv", "--format", "json"]),
        ("card", ["card", CHEM, "--as-of", "2024-06-30", "--point", "P-NH3-TANK", "--out", f"{out}-cards",
                  "--format", "json"]),
    ]


def test_every_command_with_json_output_is_in_the_plugin_failure_table(files: dict[str, str]) -> None:
    tested = {args[0] for _, args in _commands(files)}
    with_json = {name for name, cmd in main.commands.items()
                 if any(p.name == "fmt" and "json" in getattr(p.type, "choices", ()) for p in cmd.params)}
    # list, doc, adapt and report do not load plugins (report, adapt: see test_writers_record_what_they_wrote)
    assert with_json - tested <= {"list", "report"}, with_json - tested


@pytest.mark.parametrize("index", range(18))
def test_a_plugin_that_fails_is_a_json_error_record_with_exit_3(plugins: dict[str, str], files: dict[str, str],
                                                                index: int) -> None:
    kind, args = _commands(files)[index]
    res = _cli(args, plugin=plugins["broken"], stdin='{"L": 3, "E": 6, "C": 15}\n')
    assert res.returncode == 3, (args, res.stdout[:300], res.stderr[:300])
    docs = _json_only(res)
    _valid(kind, docs)
    (failure,) = _failures(docs)
    if "plugin" in failure:  # a record of its own; a register's error record names the plugin in its message
        assert (failure["error"], failure["plugin"], failure["hook"]) == ("plugin-error", "broken", "load")
    assert "broken on import" in failure["message"]
    assert not res.stderr or "broken on import" in res.stderr  # stderr, when used, says it for people


@pytest.mark.parametrize("args", [
    ["grade", "-r", "lec-generic", "-j", "620421", "examples/lec-job.yaml", "--format", "json"],
    ["whatif", "-r", "lec-generic", "-j", "620421", "examples/lec-job.yaml", "--format", "json"],
    ["diff", "lec-generic", "lec-generic@jurisdiction=620421", "--generate", "5", "--format", "json"],
    ["plugins", "--format", "json"],
], ids=["grade", "whatif", "diff", "plugins"])
def test_an_unexpected_exception_is_an_internal_error_record(plugins: dict[str, str], args: list[str]) -> None:
    res = _cli(args, plugin=plugins["odd"])
    assert res.returncode == 3, (res.stdout[:300], res.stderr[:300])
    docs = _json_only(res)
    _valid({"grade": "record"}.get(args[0], args[0]), docs)
    assert docs[-1] == {"error": "internal-error", "exception": "RuntimeError",
                        "message": "RuntimeError: cannot read the layer"}
    assert "internal error: RuntimeError: cannot read the layer" in res.stderr


@pytest.mark.parametrize("kind", ["assess", "region", "plan", "map", "register", "report"])
def test_a_function_that_fails_on_a_register_is_exit_3_with_its_error_record(files: dict[str, str],
                                                                             kind: str) -> None:
    require("riskgrade-mes")
    extra = {"assess": [], "region": [], "plan": ["--year", "2027"], "map": ["--out", f"{files['out']}-m.geojson"],
             "register": ["--out", f"{files['out']}-r.csv"], "report": ["--out", f"{files['out']}-report"]}[kind]
    others = [] if kind == "assess" else [CHEM]  # assess takes one register
    res = _cli([kind, files["crash-register.yaml"], *others, "--format", "json", *extra])
    assert res.returncode == 3, (res.stdout[:300], res.stderr[:300])
    docs = _json_only(res)
    _valid(kind, docs)
    (failure,) = _failures(docs)
    assert failure["file"] == files["crash-register.yaml"] and "mes_fail" in failure["message"]
    (doc,) = docs  # the other register is still answered
    if kind in ("map", "register", "report"):
        assert doc["enterprises"] == 1
    elif kind == "region":
        assert list(doc["enterprises"]) == ["E-620402-CHEM-01"]
    elif kind == "plan":
        assert [e["id"] for e in doc["enterprises"]] == ["E-620402-CHEM-01"]


def test_diff_a_function_that_fails_is_its_error_record(files: dict[str, str]) -> None:
    require("riskgrade-mes")
    res = _cli(["diff", MES, MES, "--facts", files["crash.jsonl"], "--format", "json"])
    assert res.returncode == 3
    docs = _json_only(res)
    _valid("diff", docs)
    assert (docs[0]["error"], docs[0]["function"], docs[0]["plugin"]) == ("function-error", "mes_fail", "mes")


# -- diff --facts: a bad record is an error record, the rest compared ----------------------------------------------
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_diff_gives_a_bad_record_an_error_record_and_compares_the_rest(files: dict[str, str], stdin: bool) -> None:
    path = files["population.jsonl"]
    text = pathlib.Path(path).read_text(encoding="utf-8")
    res = _cli(["diff", "lec-generic", "lec-generic@jurisdiction=620421", "--facts", "-" if stdin else path,
                "--format", "json"], stdin=text if stdin else None)
    assert res.returncode == 1, res.stderr  # a record could not be read: a finding, like grade
    (doc,) = _json_only(res)
    _valid("diff", [doc])
    pop = doc["population"]
    where = "<stdin>" if stdin else path
    assert [(e["index"], e["line"], e["error"], e["record"]) for e in pop["errors"]] == [
        (1, 2, "blank-line", f"{where}:2"), (2, 3, "bad-syntax", f"{where}:3"), (3, 4, "not-a-mapping", f"{where}:4")]
    assert pop["records"] + len(pop["errors"]) == len(text.splitlines())  # N in, every one accounted for
    assert sum(pop["unchanged"].values()) + pop["changed"] == 2
    text_out = _cli(["diff", "lec-generic", "lec-generic", "--facts", path, "--lang", "en"])
    assert text_out.returncode == 1 and f"{path}:3: error: bad-syntax" in text_out.stdout


def test_diff_with_good_records_has_no_errors_and_exit_0() -> None:
    res = _cli(["diff", "lec-generic", "lec-generic", "--facts", "examples/lec-job.yaml", "--format", "json"])
    assert res.returncode == 0
    (doc,) = _json_only(res)
    assert doc["population"]["errors"] == [] and doc["population"]["records"] == 1


# -- a missing input file is a JSON load error ---------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "args"), [
    ("record", ["grade", "-r", "lec-generic"]), ("record", ["explain", "-r", "lec-generic"]),
    ("verification", ["verify"]), ("whatif", ["whatif", "-r", "lec-generic"]),
], ids=["grade", "explain", "verify", "whatif"])
@pytest.mark.parametrize("suffix", [".jsonl", ".yaml"])
def test_a_missing_file_is_a_json_load_error(files: dict[str, str], kind: str, args: list[str], suffix: str) -> None:
    missing = files["missing"][: -len(".jsonl")] + suffix
    res = _cli([*args, missing, "--format", "json"])
    assert res.returncode == 2
    (doc,) = _json_only(res)
    _valid(kind, [doc])
    assert doc["error"] == "unreadable" and doc["load"] in ("facts", "results") and missing in doc["message"]
    text = _cli([*args, missing])
    assert text.returncode == 2 and text.stdout == "" and "unreadable" in text.stderr


# -- the commands that write files: a record of what was written --------------------------------------------------
def _sha(path: str) -> str:
    return "sha256:" + hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _check_written(doc: dict[str, Any]) -> None:
    for w in doc["written"]:
        assert (w["bytes"], w["sha256"]) == (os.path.getsize(w["path"]), _sha(w["path"])), w


def test_writers_record_what_they_wrote(files: dict[str, str]) -> None:
    out = files["out"]
    cases: list[tuple[str, list[str]]] = [
        ("map", ["map", CHEM, "examples/region", "--as-of", "2024-06-30", "--out", f"{out}-w.geojson"]),
        ("map", ["map", "--site", CHEM, "--as-of", "2024-06-30", "--out", f"{out}-site.svg"]),
        ("register", ["register", CHEM, "--as-of", "2024-06-30", "--out", f"{out}-w.csv"]),
        ("card", ["card", CHEM, "--as-of", "2024-06-30", "--out", f"{out}-wcards"]),
        ("report", ["report", CHEM, "examples/region", "--as-of", "2024-06-30", "--out", f"{out}-wreport"]),
        ("adapt-export", ["adapt", "export", "--to", "ministry", CHEM, "-o", f"{out}-ministry.json"]),
        ("adapt-import", ["adapt", "import", "--from", "ministry", f"{out}-ministry.json", "-o", f"{out}-back.yaml"]),
    ]
    got: dict[str, dict[str, Any]] = {}
    for kind, args in cases:
        res = _cli([*args, "--format", "json"])
        assert res.returncode == 0, (args, res.stderr[:300])
        (doc,) = _json_only(res)
        _valid(kind, [doc])
        _check_written(doc)
        got[" ".join(args[:2]) if kind == "map" else kind] = doc
    regional = got[f"map {CHEM}"]
    assert regional["enterprises"] == sum(regional["levels"].values()) > 1 and regional["errors"] == []
    assert got["map --site"]["enterprise"] == "E-620402-CHEM-01" and got["map --site"]["written"][0]["format"] == "svg"
    assert [w["path"] for w in got["register"]["written"]] == [f"{out}-w.csv", f"{out}-w-hidden-dangers.csv"]
    assert (got["register"]["risk_points"], got["register"]["hidden_dangers"]) == (7, 3)
    card = got["card"]
    assert len(card["written"]) == 2 * card["risk_points"] == 2 * sum(card["levels"].values()) == 14
    report = got["report"]
    on_disk = sorted(str(p) for p in pathlib.Path(f"{out}-wreport").rglob("*") if p.is_file())
    assert [w["path"] for w in report["written"]] == on_disk and report["index"] in on_disk
    assert report["pages"] == sum(p.endswith(".html") for p in on_disk) == report["enterprises"] + 1
    exported = json.loads(pathlib.Path(f"{out}-ministry.json").read_text(encoding="utf-8"))
    assert got["adapt-export"]["tables"] == {t: len(v) for t, v in exported.items() if isinstance(v, list)}
    assert got["adapt-import"]["risk_points"] == 7 and got["adapt-import"]["enterprise"] == "E-620402-CHEM-01"


@pytest.mark.parametrize(("kind", "args", "load", "code"), [
    ("card", ["card", "{missing}", "--out", "{out}-c"], "register", "unreadable"),
    ("card", ["card", CHEM, "--point", "NOPE", "--out", "{out}-c"], "output", "bad-output"),
    ("map", ["map", CHEM, "--out", "{out}-m.txt"], "output", "bad-output"),
    ("map", ["map", "--site", "{missing}", "--out", "{out}-s.svg"], "register", "unreadable"),
    ("register", ["register", CHEM, "--out", "{out}-r.txt"], "output", "bad-output"),
    ("adapt-export", ["adapt", "export", "--to", "ministry", "{missing}", "-o", "{out}-x.json"], "register",
     "unreadable"),
    ("adapt-export", ["adapt", "export", "--to", "ministry", CHEM, "-o", "{out}-none/x.json"], "output", "bad-output"),
    ("adapt-import", ["adapt", "import", "--from", "ministry", "{population}", "-o", "{out}-i.yaml"], "file",
     "bad-syntax"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_a_writer_that_cannot_read_or_write_is_a_json_load_error(files: dict[str, str], kind: str, args: list[str],
                                                                load: str, code: str) -> None:
    subst = {"{missing}": files["missing"][:-1], "{population}": files["population.jsonl"]}
    argv = [subst.get(a, a).replace("{out}", files["out"]) for a in args]
    res = _cli([*argv, "--format", "json"])
    assert res.returncode == 2, res.stderr
    (doc,) = _json_only(res)
    _valid(kind, [doc])
    assert (doc["load"], doc["error"]) == (load, code) and res.stderr.strip()


@pytest.mark.parametrize("kind", ["map", "register", "report"])
def test_a_register_that_fails_is_listed_and_the_others_written(files: dict[str, str], kind: str) -> None:
    suffix = {"map": "-f.geojson", "register": "-f.csv", "report": "-freport"}[kind]
    res = _cli([kind, CHEM, files["missing"][:-1], "--as-of", "2024-06-30", "--out", files["out"] + suffix,
                "--format", "json"])
    assert res.returncode == 2
    (doc,) = _json_only(res)
    _valid(kind, [doc])
    assert [(e["file"], e["code"]) for e in doc["errors"]] == [(files["missing"][:-1], "unreadable")]
    assert doc["enterprises"] == 1
    _check_written(doc)


@pytest.mark.parametrize("sub", [["export", "--to", "ministry", CHEM], ["import", "--from", "ministry", "x.json"]])
def test_adapt_json_to_stdout_is_a_usage_error(sub: list[str]) -> None:
    res = _cli(["adapt", *sub, "-o", "-", "--format", "json"])
    assert res.returncode == 2 and res.stdout == "" and "give -o FILE" in res.stderr
