"""Benchmark: how fast the slowest hostile documents of the fuzz corpus are rejected, before and after
the JSON fast path of the YAML budget (``_flow_bound``), in the same run.

"before" is what a ruleset loader ran until this change to reject the document: the libyaml event scan
(``_scan``); "after" is the whole of ``parse_yaml`` now (the comma count first, the scan when it does not
apply). Each figure is the best of 3 in CPU seconds; the ratio is after / before. Also timed: what libyaml
itself costs for the 2,000,000-item YAML list (events alone, tokens alone), the floor of any check that
reads the document through PyYAML.

    PYTHONPATH=src python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import yaml

from riskgrade._core.limits import get_limits
from riskgrade._source.yaml import _scan, parse_yaml
from riskgrade.exceptions import RulesetError

CASES: dict[str, Callable[[], str]] = {
    "items-600000.json": lambda: "[" + ",".join(["1"] * 600_000) + "]",
    "items-600000 strings.json": lambda: "[" + ",".join(['"a,b"'] * 600_000) + "]",
    "keys-200000.json": lambda: "{" + ",".join(f'"k{i}": {i}' for i in range(200_000)) + "}",
    "list-2000000.yaml": lambda: "- 1\n" * 2_000_000,
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def best(fn: Callable[[], object], n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.process_time()
        with contextlib.suppress(RulesetError):
            fn()
        times.append(time.process_time() - t0)
    return min(times)


def _events(text: str) -> None:
    loader = _Loader(text)
    try:
        while loader.get_event() is not None:
            pass
    finally:
        loader.dispose()


def _tokens(text: str) -> None:
    loader = _Loader(text)
    try:
        while loader.get_token() is not None:
            pass
    finally:
        loader.dispose()


def main() -> None:
    lim = get_limits()
    print(f"{'document':<28} {'before s':>9} {'after s':>9} {'ratio':>7}  error")
    for name, make in CASES.items():
        text = make()
        before = best(lambda t=text, n=name: _scan(t, n, lim))
        after = best(lambda t=text, n=name: parse_yaml(t, n, lim))
        try:
            parse_yaml(text, name, lim)
            code = "(accepted)"
        except RulesetError as err:
            code = f"{err.problems[0].code} at {err.problems[0].line}:{err.problems[0].col}"
        print(f"{name:<28} {before:>9.3f} {after:>9.3f} {after / before:>7.3f}  {code}")
    text = CASES["list-2000000.yaml"]()
    print(f"libyaml on list-2000000.yaml, all events: {best(lambda: _events(text)):.3f} s; "
          f"all tokens: {best(lambda: _tokens(text)):.3f} s; str.count('\\n- '): "
          f"{best(lambda: text.count(chr(10) + '- ')):.4f} s")


if __name__ == "__main__":
    main()
