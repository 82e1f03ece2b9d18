"""The steps of docs/plugins.md work as written (the example plugins are installed in the test env)."""

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
GUIDE = ROOT / "docs" / "plugins.md"


def _installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("riskgrade-baiyin")
        distribution("riskgrade-jingyuan")
    except PackageNotFoundError:
        return False
    return True


needs_plugins = pytest.mark.skipif(not _installed() and os.environ.get("RISKGRADE_REQUIRE_PLUGINS") != "1",
                                   reason="example plugins not installed")


def guide_commands() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        out += [ln.strip() for ln in block.splitlines() if ln.strip().startswith("riskgrade ")]
    return out


def test_the_guide_has_commands() -> None:
    assert len(guide_commands()) >= 3


@needs_plugins
@pytest.mark.parametrize("command", guide_commands())
def test_guide_command_succeeds(command: str) -> None:
    args = shlex.split(command)[1:]
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        res = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    assert res.exit_code == 0, res.output


@needs_plugins
def test_guide_examples_run() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = "\n".join(re.findall(r"```python\n(>>>.*?)```", text, flags=re.S))
    assert examples
    parser = doctest.DocTestParser()
    test = parser.get_doctest(examples, {}, "plugins.md", str(GUIDE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def _block(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_the_pyproject_snippet_is_complete() -> None:
    import tomllib

    (snippet,) = _block("toml")
    doc = tomllib.loads(snippet)
    real = tomllib.loads((ROOT / "plugins" / "riskgrade-baiyin" / "pyproject.toml").read_text(encoding="utf-8"))
    assert doc["build-system"] == real["build-system"]
    for key in ("name", "version", "requires-python", "entry-points"):
        assert doc["project"][key] == real["project"][key], key
    assert doc["tool"] == real["tool"]


def test_the_copy_command_leaves_build_artefacts_behind(tmp_path: pathlib.Path) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    (cmd,) = [ln.strip() for b in _block("sh") for ln in b.splitlines() if ln.strip().startswith("git archive")]
    archive, extract = cmd.split("|")
    data = subprocess.run(shlex.split(archive), cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run([*shlex.split(extract), "-C", str(tmp_path)], input=data, check=True)
    copied = tmp_path / "riskgrade-mycounty"
    assert (copied / "pyproject.toml").is_file()
    assert (copied / "src" / "riskgrade_jingyuan" / "layers" / "lec-generic.yaml").is_file()
    assert not [p for p in copied.rglob("*") if p.name == "build" or p.name.endswith(".egg-info")]
