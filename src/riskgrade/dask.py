"""riskgrade on a Dask cluster (the optional extra ``riskgrade[dask]``; docs/scale.md).

Two entry points, each the in-process path run partition by partition:

* :func:`grade_dataframe` grades a Dask DataFrame of facts with :meth:`Ruleset.grade_table`, one
  pandas partition at a time: a lazy Dask DataFrame with the columns ``grade_table`` gives
  (``level``, ``score``, the derived values, ``fired``, ``error_code``, ``error_field``), row for row.
* :func:`assess_bag` assesses a Dask bag of registers (mappings, or paths the workers can read) and
  reduces the region counts: the :class:`~riskgrade.RegionResult` of :func:`riskgrade.assess_region`.

What travels to the workers is small: a ruleset pickles *by reference* (its ref, jurisdiction,
limits and fingerprint; each worker loads it with :func:`riskgrade.load` and checks the
fingerprint), so rulesets and plugins must be installed on every worker, as distributions.

``import riskgrade`` never imports Dask; this module does.

>>> import dask.dataframe as dd, pandas as pd, riskgrade, riskgrade.dask
>>> facts = dd.from_pandas(pd.DataFrame({"L": [3, 1], "E": [6, 2], "C": [15, 1]}), npartitions=2)
>>> out = riskgrade.dask.grade_dataframe("lec-generic", facts).compute(scheduler="synchronous")
>>> list(out["level"])
['ORANGE', 'BLUE']
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import dask.bag
import dask.dataframe
from dask.base import compute as _compute
from dask.delayed import delayed as _delayed

from riskgrade._api import assess_partition, load
from riskgrade._enterprise.region import RegionResult
from riskgrade._grade.ruleset import Ruleset

__all__ = ["assess_bag", "grade_dataframe"]


def _grade_partition(part: Any, ruleset: Ruleset) -> Any:
    out = ruleset.grade_table(part)
    out.index = part.index  # the partition's rows keep their index: joins back to the facts
    return out


def grade_dataframe(ruleset: Ruleset | str | os.PathLike[str], df: dask.dataframe.DataFrame, *,
                    jurisdiction: str | None = None) -> dask.dataframe.DataFrame:
    """Grade every row of ``df`` (a Dask DataFrame of facts, one column per input) with ``ruleset``
    (a :class:`~riskgrade.Ruleset` made by :func:`riskgrade.load`, or a ref it takes), partition by
    partition; lazy, like any Dask DataFrame. Row ``i`` of the result is
    ``ruleset.grade_table`` of row ``i`` (with the same index)."""
    rs = ruleset if isinstance(ruleset, Ruleset) else load(ruleset, jurisdiction=jurisdiction)
    meta = _grade_partition(df._meta_nonempty, rs).iloc[:0]
    map_partitions: Any = df.map_partitions
    out: dask.dataframe.DataFrame = map_partitions(_grade_partition, rs, meta=meta)
    return out


def _merge(a: RegionResult, b: RegionResult) -> RegionResult:
    return a.merge(b)


def assess_bag(bag: dask.bag.Bag, *, as_of: _dt.date | None = None, ruleset: str | None = None,
               **compute: Any) -> RegionResult:
    """Assess every register in ``bag`` (register mappings, or paths of register files on the
    workers) as of ``as_of`` (default today, decided here, once) and roll them up: each partition
    becomes a region on its worker, the regions are merged in partition order (a tree of merges),
    only the counts and each enterprise's summary travel back. ``compute`` goes to ``dask.compute``
    (e.g. ``scheduler=``). The counts equal :func:`riskgrade.assess_region` over the same registers;
    errors are named ``partition P[k]`` (or the file path) and listed partition by partition.
    """
    date = as_of or _dt.date.today()
    partitions: Any = bag.to_delayed  # dask's own functions are untyped
    delayed: Any = _delayed
    parts = [delayed(assess_partition)(p, i, as_of=date, ruleset=ruleset) for i, p in enumerate(partitions())]
    if not parts:
        return RegionResult(assess_partition([], 0, as_of=date).region, (), 0, 0)
    while len(parts) > 1:
        parts = [delayed(_merge)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    run: Any = _compute
    (result,) = run(parts[0], **compute)
    assert isinstance(result, RegionResult)
    return result
