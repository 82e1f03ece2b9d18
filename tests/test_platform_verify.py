"""``riskgrade verify`` and :func:`riskgrade.verify`: stored decisions replayed from their receipts
(docs/platform.md, "How a regulator verifies a decision later")."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

import jsonschema
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._cli.doc import schema_for

from .conftest import MINIMAL

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
VERIFICATION = jsonschema.Draft202012Validator(schema_for("verification"))
RECORD = jsonschema.Draft202012Validator(schema_for("record"))


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return res.exit_code, res.output


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.splitlines()]


def verified(results: str, *args: str) -> tuple[int, list[tuple[int, str, str | None]]]:
    """``riskgrade verify - --format json`` on ``results``: exit code and (index, status, reason) per line."""
    code, out = invoke("verify", "-", "--format", "json", *args, input=results)
    got = lines(out)
    for d in got:
        VERIFICATION.validate(d)
    return code, [(d["index"], d["status"], d["reason"]) for d in got]


def graded(*args: str) -> str:
    _, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json", *args)
    return out


def edit(out: str, index: int, change: Callable[[dict[str, Any]], None]) -> str:
    """The JSON lines ``out`` with line ``index`` changed by ``change`` (as a platform's database might)."""
    rows = out.splitlines()
    d = json.loads(rows[index])
    change(d)
    rows[index] = json.dumps(d, ensure_ascii=False)
    return "\n".join(rows) + "\n"


class TestVerifyCommand:
    def test_every_stored_result_replays_identically(self) -> None:
        code, got = verified(graded())
        assert code == 0
        assert got == [(0, "identical", None), (1, "identical", None), (2, "identical", None),
                       (3, "no-decision", "not-allowed"), (4, "no-decision", "bad-syntax"), (5, "identical", None)]

    def test_with_input_keeps_the_facts_and_replays_from_them(self) -> None:
        out = graded("--with-input")
        kept = lines(out)
        for d in kept:
            RECORD.validate(d)
        assert kept[0]["facts"] == {"L": 3, "E": 6, "C": 15} and "id" not in kept[0]["facts"]
        assert verified(out)[0] == 0
        # facts that are not the ones graded: the receipt's facts_sha256 catches it
        code, got = verified(edit(out, 0, lambda d: d["facts"].update(C=40)))
        assert code == 1 and got[0] == (0, "differs", "facts-sha256")

    def test_explain_in_chinese_replays(self) -> None:
        _, out = invoke("explain", "-r", "lec-generic", "-j", "620421", str(EXAMPLES / "lec-jobs.jsonl"),
                        "--format", "json", "--lang", "zh")
        code, got = verified(out)
        assert code == 0 and [s for _, s, _ in got].count("identical") == 4

    def test_a_changed_result_differs(self) -> None:
        code, got = verified(edit(graded(), 1, lambda d: d.update(level="RED")))
        assert code == 1
        assert got[1] == (1, "differs", "result")
        code, got = verified(edit(graded(), 2, lambda d: d["inputs"].update(C=1)))
        assert code == 1 and got[2] == (2, "differs", "inputs-sha256")

    def test_other_code_cannot_replay(self) -> None:
        def older(d: dict[str, Any]) -> None:
            d["receipt"]["riskgrade"] = "0.0.1"

        def other_plugin(d: dict[str, Any]) -> None:
            d["receipt"]["plugins"] = [*d["receipt"]["plugins"], {"name": "x", "dist": "riskgrade-x", "version": "9"}]

        def other_fingerprint(d: dict[str, Any]) -> None:
            d["receipt"]["ruleset"]["fingerprint"] = "sha256:" + "0" * 64

        for change, reason in ((older, "riskgrade-version"), (other_plugin, "plugin-versions"),
                               (other_fingerprint, "fingerprint-mismatch")):
            code, got = verified(edit(graded(), 0, change))
            assert code == 2, reason
            assert got[0] == (0, "cannot-replay", reason)

    def test_no_receipt_cannot_replay(self) -> None:
        code, got = verified(graded("--no-receipt"))
        assert code == 2 and got[0] == (0, "cannot-replay", "no-receipt")

    def test_a_ruleset_file_and_a_change_to_it(self, write_ruleset: Callable[..., str],
                                               tmp_path: pathlib.Path) -> None:
        path = write_ruleset(MINIMAL, name="tiny.yaml")
        facts = tmp_path / "f.jsonl"
        facts.write_text('{"x": 15}\n{"x": 25}\n', encoding="utf-8")
        _, out = invoke("grade", "-r", path, str(facts), "--format", "json")
        assert verified(out, "--ruleset", path) == (0, [(0, "identical", None), (1, "identical", None)])
        assert verified(out)[1][0] == (0, "cannot-replay", "unknown-ruleset")  # not shipped, not given
        pathlib.Path(path).write_text(MINIMAL.replace("to: 20", "to: 19").replace("from: 20", "from: 19"),
                                      encoding="utf-8")
        assert verified(out, "--ruleset", path)[1][0] == (0, "cannot-replay", "fingerprint-mismatch")

    def test_text_output_and_unreadable_lines(self) -> None:
        code, out = invoke("verify", "-", "--lang", "zh", input=graded().splitlines()[0] + "\n\n")
        assert code == 2
        first, second = out.splitlines()
        assert first.startswith("<stdin>:1: sha256:") and "一致" in first
        assert second.startswith("<stdin>:2:") and "(blank-line)" in second

    def test_unreadable_results_file(self, tmp_path: pathlib.Path) -> None:
        bad = tmp_path / "r.json"
        bad.write_text("[{", encoding="utf-8")
        code, out = invoke("verify", str(bad), "--format", "json")
        assert code == 2
        (d,) = lines(out)
        VERIFICATION.validate(d)
        assert (d["error"], d["load"]) == ("bad-syntax", "results")
        assert invoke("verify", "does-not-exist.jsonl")[0] == 2


class TestVerifyFunction:
    def test_replay_from_inputs_gives_the_same_receipt_id(self) -> None:
        facts = {"L": 6, "E": 3, "C": 7}
        a = riskgrade.load("lec-generic", jurisdiction="620423").grade(facts)
        stored = a.to_dict(receipt=True, facts=facts)
        v = riskgrade.verify(stored)
        assert (v.status, v.reason, v.ok, v.receipt_id) == ("identical", None, True, stored["receipt"]["id"])

    def test_statuses(self) -> None:
        stored = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15}).to_dict(receipt=True)
        assert riskgrade.verify({**stored, "score": 1}).status == "differs"
        assert riskgrade.verify({"error": "missing-fact"}).to_dict() == {
            "status": "no-decision", "reason": "missing-fact", "message": "an error record: nothing was decided",
            "receipt_id": None}
        gone = {**stored, "receipt": {**stored["receipt"], "ruleset": {**stored["ruleset"], "id": "no-such"}}}
        assert (riskgrade.verify(gone).status, riskgrade.verify(gone).reason) == ("cannot-replay", "unknown-ruleset")
