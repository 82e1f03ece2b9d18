"""The commands and examples of docs/authoring.md work as written (run from the root of a checkout)."""

from __future__ import annotations

import doctest
import os
import pathlib
import re
import shlex

import pytest
from click.testing import CliRunner

from riskgrade._cli.main import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "authoring.md"


def guide_commands() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        out += [ln.strip() for ln in block.splitlines() if ln.strip().startswith("riskgrade ")]
    return out


def test_the_guide_has_its_sections_and_commands() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for heading in ("## Testing", "## Documenting", "## Editor support"):
        assert heading in text
    assert "# yaml-language-server: $schema=" in text
    commands = guide_commands()
    for cmd in ("riskgrade test", "riskgrade doc", "riskgrade schema"):
        assert any(c.startswith(cmd) for c in commands), cmd


@pytest.mark.parametrize("command", guide_commands())
def test_guide_command_succeeds(command: str, tmp_path: pathlib.Path) -> None:
    args = shlex.split(command)[1:]
    if "--out" in args:  # write into a temporary directory, not into the checkout
        i = args.index("--out") + 1
        args[i] = str(tmp_path / os.path.basename(args[i]))
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        res = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    assert res.exit_code == 0, res.output
    if "--out" in args:
        assert pathlib.Path(args[args.index("--out") + 1]).stat().st_size > 0


def test_the_shown_outputs_are_real() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        for cmd in ("riskgrade test rulesets/lec-generic.yaml",
                    "riskgrade test rulesets/hazchem/hazchem-enterprise-2018.yaml"):
            out = CliRunner().invoke(main, shlex.split(cmd)[1:], catch_exceptions=False).output
            assert f"```sh\n{cmd}\n```\n\n```text\n{out}```" in text, cmd
    finally:
        os.chdir(old)


def test_guide_examples_run() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = "\n".join(re.findall(r"```python\n(>>>.*?)```", text, flags=re.S))
    assert examples
    test = doctest.DocTestParser().get_doctest(examples, {}, "authoring.md", str(GUIDE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
