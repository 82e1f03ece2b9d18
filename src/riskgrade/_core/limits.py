"""The documented limits on the work one input may cause (``docs/limits.md``).

Every file riskgrade reads (rulesets, layers, facts, registers) and every value an expression
produces is checked against a :class:`Limits` *before* the expensive work, so that a hostile or
careless input is a coded error in well under a second, with bounded memory. The defaults fit
every shipped ruleset and realistic registers with room to spare; a legitimate large input
passes its own ``Limits`` (``riskgrade.load(..., limits=)``) or raises the process-wide default
with :func:`set_limits`.

>>> from riskgrade._core.limits import Limits, short_repr
>>> Limits().max_depth
100
>>> short_repr("x" * 1000)[:12], len(short_repr("x" * 1000)) < 100
("'xxxxxxxxxxx", True)
>>> short_repr(10 ** 5000)
'<an integer of 5001 digits>'
"""

from __future__ import annotations

import reprlib
from typing import Any

import attrs

__all__ = ["Limits", "get_limits", "set_limits", "short_repr"]


def _positive(inst: Any, attr: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Limits.{attr.name} must be a positive integer, got {value!r}")


@attrs.frozen
class Limits:
    """How much work one input may cause. Every field is a positive integer.

    Documents (rulesets, layers, facts, registers; YAML, JSON and each JSON Lines record):

    - ``max_bytes``: size of one document, in characters (error ``too-large``);
    - ``max_nodes``: values in one document, counting every value an alias expands to (``too-large``);
    - ``max_mapping_keys``: keys in one mapping (``too-large``);
    - ``max_depth``: nesting of mappings and lists (``too-deep``).

    Expressions (checked when a ruleset is compiled, and on every value grading produces):

    - ``max_expression``: characters of one expression (``expr-too-long``);
    - ``max_length``: characters of a text, or items of a list, an expression builds (``too-large``);
    - ``max_int_digits``: decimal digits of an integer fact or computed value, at most 4000 (Python's
      own limit on converting integers to text is 4300) (``too-large``);
    - ``max_exponent``: the largest exponent literal in ``x ** n`` (``expr-exponent``);
    - ``max_round_digits``: the largest ``|n|`` in ``round(x, n)`` (``too-large``).
    """

    max_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=_positive)
    max_nodes: int = attrs.field(default=250_000, validator=_positive)
    max_mapping_keys: int = attrs.field(default=20_000, validator=_positive)
    max_depth: int = attrs.field(default=100, validator=_positive)
    max_expression: int = attrs.field(default=2000, validator=_positive)
    max_length: int = attrs.field(default=100_000, validator=_positive)
    max_int_digits: int = attrs.field(default=1000, validator=[_positive, attrs.validators.le(4000)])
    max_exponent: int = attrs.field(default=8, validator=_positive)
    max_round_digits: int = attrs.field(default=100, validator=_positive)

    @property
    def max_int(self) -> int:
        """The largest integer magnitude allowed (``10 ** max_int_digits - 1``)."""
        return _max_int(self.max_int_digits)

    @property
    def max_int_bits(self) -> int:
        """A cheap bound: an integer of more bits than this certainly has too many digits."""
        return self.max_int.bit_length()


_MAX_INTS: dict[int, int] = {}


def _max_int(digits: int) -> int:
    v = _MAX_INTS.get(digits)
    if v is None:
        v = _MAX_INTS[digits] = 10**digits - 1
    return v


_DEFAULT = [Limits()]


def get_limits() -> Limits:
    """The process-wide default limits (used wherever no ``limits`` is passed)."""
    return _DEFAULT[0]


def set_limits(limits: Limits | None = None) -> Limits:
    """Make ``limits`` the process-wide default (None: back to the built-in defaults); returns the
    previous default, so that a caller can restore it.

    >>> from riskgrade._core.limits import Limits, get_limits, set_limits
    >>> old = set_limits(Limits(max_depth=10))
    >>> get_limits().max_depth
    10
    >>> set_limits(old).max_depth
    10
    """
    if limits is not None and not isinstance(limits, Limits):
        raise TypeError(f"set_limits() takes a riskgrade.Limits, not {type(limits).__name__}")
    old = _DEFAULT[0]
    _DEFAULT[0] = limits if limits is not None else Limits()
    return old


class _Repr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = 60
        self.maxlong = 40
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 3000:  # str() of it may exceed Python's int/str conversion limit
            return f"<an integer of {_digits(x)} digits>"
        return super().repr_int(x, level)


def _digits(x: int) -> int:
    """Decimal digits of ``|x|`` without converting it to text."""
    x = abs(x)
    if x == 0:
        return 1
    n = int(x.bit_length() * 0.30102999566398120) + 1  # an upper estimate, off by at most one
    return n if x >= 10 ** (n - 1) else n - 1


_REPR = _Repr()


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a few dozen characters: an error message never formats a whole huge or
    deeply nested value (nor fails on one)."""
    try:
        return _REPR.repr(value)
    except Exception:  # a value whose repr fails is still named by its type
        return f"<{type(value).__name__}>"
