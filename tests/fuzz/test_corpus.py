"""The hostile corpus (``tests/corpus/`` and large files generated here) fed to every loader.

Each (file, loader) pair is one case: a typed ``riskgrade`` error or a result, in bounded time and
memory, and the same bytes when loaded again. The file is copied under the name each loader expects
(``.yaml``, ``.json``, ``.jsonl``), so that every loader reads every file.
"""

from __future__ import annotations

import hashlib
import pathlib
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import riskgrade
from riskgrade._api import load_layer
from riskgrade._core.canonical import dumps
from riskgrade._monitor.events import read_events
from riskgrade._source.facts import read_facts

from ._harness import MAX_SECONDS, case, long_run

CORPUS = pathlib.Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")


def _laughs(levels: int) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for i in range(levels - 1):
        lines.append(f"b{i}: &b{i} [{', '.join([f'*{prev}'] * 9)}]")
        prev = f"b{i}"
    return "\n".join(lines) + "\n"


#: the large cases, generated rather than committed
GENERATED: dict[str, Callable[[], str]] = {
    "deep-100000.json": lambda: "[" * 100_000 + "]" * 100_000,
    "deep-100000.yaml": lambda: "[" * 100_000 + "]" * 100_000 + "\n",
    "deep-objects-100000.json": lambda: '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "keys-200000.yaml": lambda: "".join(f"k{i}: {i}\n" for i in range(200_000)),
    "keys-200000.json": lambda: "{" + ", ".join(f'"k{i}": {i}' for i in range(200_000)) + "}",
    "keys-200000-flow.yaml": lambda: "{" + ", ".join(f"k{i}: {i}" for i in range(200_000)) + "}\n",
    "long-line.jsonl": lambda: '{"L": "' + "x" * 9_000_000 + '"}\n{"L": 3, "E": 6, "C": 15}\n',
    "too-large.yaml": lambda: "L: '" + "x" * 9_000_000 + "'\n",
    "billion-laughs-12.yaml": lambda: _laughs(12),
    "items-600000.json": lambda: "[" + ",".join(["1"] * 600_000) + "]",
}
if long_run():
    # 900,000 lines of garbage: a minute of streaming loaders (about 30 us a line), so the long run only
    GENERATED["too-large-lines.yaml"] = lambda: "L: 3\n" + "# padding\n" * 900_000


class _Digest:
    """The output of a stream, kept as a count and a hash (holding 900,000 lines would measure the harness)."""

    def __init__(self) -> None:
        self.n = 0
        self.h = hashlib.sha256()

    def add(self, line: str) -> None:
        self.n += 1
        self.h.update(line.encode("utf-8", "surrogatepass") + b"\n")

    def text(self) -> str:
        return f"{self.n} records, sha256 {self.h.hexdigest()}"


def _facts(path: str) -> str:
    """Read the facts and grade every record that reads with lec-generic, as ``riskgrade grade`` does."""
    rs = riskgrade.load("lec-generic")
    out = _Digest()
    for rec in read_facts(path):
        if rec.error is not None:
            out.add(f"{rec.where} {dumps(rec.error.to_dict())}")
            continue
        for o in rs.grade_many(rec.facts if isinstance(rec.facts, list) else [rec.facts]):
            out.add(f"{rec.where} " + (o.to_json() if isinstance(o, riskgrade.Assessment) else dumps(o.to_dict())))
    return out.text()


def _events(path: str) -> str:
    out = _Digest()
    with open(path, "rb") as fh:
        for e in read_events(fh):
            out.add(repr(e) if isinstance(e, riskgrade.Event) else f"{e.code} {e.record} {e}")
    return out.text()


def _register(path: str) -> str:
    return repr(riskgrade.load_enterprise(path))


#: loader name -> (suffix the file is copied to, what loading gives as text)
LOADERS: dict[str, tuple[str, Callable[[str], str]]] = {
    "ruleset": (".yaml", lambda p: riskgrade.load(p).fingerprint),
    "layer": (".yaml", lambda p: repr(load_layer(p))),
    "monitor": (".yaml", lambda p: repr(riskgrade.load_monitor_ruleset(p))),
    "facts.yaml": (".yaml", _facts),
    "facts.json": (".json", _facts),
    "facts.jsonl": (".jsonl", _facts),
    "register.yaml": (".yaml", _register),
    "register.json": (".json", _register),
    "events": (".jsonl", _events),
}


#: streaming loaders read a record per line, so their work is linear in the lines by design: they get
#: this much time per line on top of the per-case bound (docs/fuzzing.md gives the measured rate)
PER_LINE = 100e-6
STREAMING = {"facts.jsonl", "events"}


def _feed(name: str, src: pathlib.Path, tmp: pathlib.Path) -> None:
    lines = src.read_bytes().count(b"\n")
    for loader, (suffix, load) in LOADERS.items():
        path = tmp / f"{pathlib.Path(name).stem}-{loader.replace('.', '-')}{suffix}"
        shutil.copyfile(src, path)

        def go(p: str = str(path), load: Callable[[str], str] = load) -> tuple[str, Any]:
            return load(p), lambda: load(p)

        bound = MAX_SECONDS + (PER_LINE * lines if loader in STREAMING else 0.0)
        case("corpus", f"{name} as {loader}", go, max_seconds=bound)


def test_the_corpus_is_here() -> None:
    assert len(FILES) >= 40 and "billion-laughs.yaml" in FILES


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, tmp_path: pathlib.Path) -> None:
    _feed(name, CORPUS / name, tmp_path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pathlib.Path]:
    d = tmp_path_factory.mktemp("generated-corpus")
    for name, make in GENERATED.items():
        (d / name).write_text(make(), encoding="utf-8")
    yield d


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_corpus_file(name: str, generated: pathlib.Path, tmp_path: pathlib.Path) -> None:
    _feed(name, generated / name, tmp_path)
