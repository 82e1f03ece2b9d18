"""Print the fuzz figures at the end of the run (and write them to ``RISKGRADE_FUZZ_REPORT``)."""

from __future__ import annotations

import json
import os
from typing import Any

from ._harness import FIGURES, as_dict, report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fuzz figures")
    for line in report():
        terminalreporter.write_line(line)
    path = os.environ.get("RISKGRADE_FUZZ_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(as_dict(), fh, indent=2, ensure_ascii=False)
