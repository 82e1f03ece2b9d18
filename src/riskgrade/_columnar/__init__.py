"""Columnar batch grading (issue 17): a table of facts in, a table of results out.

:func:`grade_table` takes a pyarrow ``Table`` (or ``RecordBatch``), a pandas or a polars
``DataFrame`` and returns a table of the same kind, one row per input row, with the columns
``level``, ``score``, each derived value, ``fired``, ``error_code`` and ``error_field``. It gives
exactly what :meth:`Ruleset.grade_many` gives for the rows as records (a null cell is an absent
fact). pyarrow and numpy come with the ``riskgrade[columnar]`` extra and are imported only when a
table is graded, so ``import riskgrade`` stays light. See docs/columnar.md.
"""

from riskgrade._columnar.table import RESULT_COLUMNS, grade_table, records

__all__ = ["RESULT_COLUMNS", "grade_table", "records"]
