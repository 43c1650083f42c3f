"""Vectorized timestamp parsing to int64 epoch nanoseconds UTC.

Strings are laid out as a fixed-width byte matrix (one row per value, ASCII) and validated and
converted column by column, so a million timestamps cost a few dozen numpy passes, and a malformed
value only marks its own row as bad (numpy's own datetime parser fails the whole array at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

ISO_MAX_LEN: Final = 30  # "YYYY-MM-DDTHH:MM:SS.fffffffffZ"
EPOCH_NS_MAX_DIGITS: Final = 19
_INT64_MAX: Final = np.uint64(2**63 - 1)
_ISO_TEMPLATE: Final = np.frombuffer(b"0000-00-00T00:00:00", dtype=np.uint8)
_ISO_DIGIT_AT: Final = ord("0") == _ISO_TEMPLATE
# int64 nanoseconds cover 1677-09-21 .. 2262-04-11; accept whole years inside that span.
_MIN_YEAR: Final = 1678
_MAX_YEAR: Final = 2261
_DAYS_IN_MONTH: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def byte_matrix(values: Sequence[str], width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, lengths, ascii_ok): an (n, width + 1) uint8 matrix of the values, zero-padded.

    One spare column catches over-long values (their length shows as width + 1). A value that is not
    ASCII (or holds a NUL) gets ``ascii_ok`` False and an empty row.
    """
    n = len(values)
    ascii_ok = np.ones(n, dtype=bool)
    try:
        fixed = np.array(values, dtype=f"S{width + 1}") if n else np.zeros(0, dtype=f"S{width + 1}")
    except UnicodeEncodeError:  # rare: fall back to a per-value check
        ascii_ok = np.fromiter(map(str.isascii, values), dtype=bool, count=n)
        fixed = np.array(
            [v if ok else "" for v, ok in zip(values, ascii_ok, strict=True)], dtype=f"S{width + 1}"
        )
    matrix = fixed.view(np.uint8).reshape(n, width + 1)
    is_zero = matrix == 0
    lengths = np.where(is_zero.any(axis=1), is_zero.argmax(axis=1), width + 1)
    return matrix, lengths, ascii_ok


def _number(digits: np.ndarray, first: int, last: int) -> np.ndarray:
    value = np.zeros(len(digits), dtype=np.int64)
    for position in range(first, last + 1):
        value = value * 10 + digits[:, position]
    return value


def parse_iso_utc(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`` strings; returns (ns, ok). Bad rows have ns = 0, ok False."""
    matrix, lengths, ok = byte_matrix(values, ISO_MAX_LEN)
    digits = matrix - np.uint8(ord("0"))  # wraps below '0', so "is a digit" is digits < 10
    is_digit = digits < 10
    head = np.where(_ISO_DIGIT_AT, is_digit[:, :19], matrix[:, :19] == _ISO_TEMPLATE)
    ok &= head.all(axis=1) & (lengths >= 20) & (lengths <= ISO_MAX_LEN)
    fraction, ok = _iso_fraction(matrix, is_digit, digits, lengths, ok)
    year, month, day = _number(digits, 0, 3), _number(digits, 5, 6), _number(digits, 8, 9)
    hour, minute, second = _number(digits, 11, 12), _number(digits, 14, 15), _number(digits, 17, 18)
    ok &= (year >= _MIN_YEAR) & (year <= _MAX_YEAR) & (month >= 1) & (month <= 12)
    ok &= (day >= 1) & (day <= _days_in_month(year, np.clip(month, 1, 12)))
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
    return np.where(ok, seconds * 1_000_000_000 + fraction, 0), ok


def _iso_fraction(
    matrix: np.ndarray, is_digit: np.ndarray, digits: np.ndarray, lengths: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds of the optional ".f{1,9}" part and the updated ok mask (checks the closing Z too)."""
    last = np.clip(lengths - 1, 0, ISO_MAX_LEN)
    ok = ok & (matrix[np.arange(len(matrix)), last] == ord("Z"))
    has_fraction = lengths > 20
    ok &= ~has_fraction | ((matrix[:, 19] == ord(".")) & (lengths >= 22))
    fraction = np.zeros(len(matrix), dtype=np.int64)
    for k in range(9):
        position = 20 + k
        present = has_fraction & (position < last)
        ok &= ~present | is_digit[:, position]
        fraction += np.where(present, digits[:, position], 0).astype(np.int64) * 10 ** (8 - k)
    return fraction, ok


def parse_epoch_ns_digits(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse strings of 1..19 decimal digits as epoch nanoseconds; returns (ns, ok)."""
    matrix, lengths, ok = byte_matrix(values, EPOCH_NS_MAX_DIGITS)
    digits = matrix - np.uint8(ord("0"))
    present = np.arange(EPOCH_NS_MAX_DIGITS + 1) < lengths[:, None]
    ok &= ((digits < 10) | ~present).all(axis=1) & (lengths >= 1) & (lengths <= EPOCH_NS_MAX_DIGITS)
    value = np.zeros(len(matrix), dtype=np.uint64)
    for position in range(EPOCH_NS_MAX_DIGITS):
        step = value * np.uint64(10) + np.minimum(digits[:, position], 9).astype(np.uint64)
        value = np.where(present[:, position], step, value)
    ok &= value <= _INT64_MAX
    return np.where(ok, value, 0).astype(np.int64), ok


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm, vectorized)."""
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return _DAYS_IN_MONTH[month] + ((month == 2) & leap)


def format_iso_utc(ns: np.ndarray) -> np.ndarray:
    """Epoch ns -> "YYYY-MM-DDTHH:MM:SS.fffffffffZ" strings (the XNYS wire format)."""
    text = np.datetime_as_string(np.asarray(ns, dtype=np.int64).view("datetime64[ns]"), unit="ns")
    return np.strings.add(text, "Z")
