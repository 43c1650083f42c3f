"""Vectorized timestamp parsing against numpy's own datetime parser, and the fast lexicographic sort."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.domain.marketdata.ordering import lexorder
from trade2026.domain.marketdata.timeparse import format_iso_utc, parse_epoch_ns_digits, parse_iso_utc


def test_iso_parsing_equals_numpy_on_random_timestamps_of_every_fraction_length() -> None:
    # Given random instants 1970..2250 written with 0 to 9 fractional digits
    rng = np.random.default_rng(7)
    ns = rng.integers(0, 8_800_000_000_000_000_000, 3_000)
    texts = []
    for value, digits in zip(ns.tolist(), rng.integers(0, 10, len(ns)).tolist(), strict=True):
        whole = str(np.datetime64(value, "ns").astype("datetime64[s]"))
        fraction = f"{value % 1_000_000_000:09d}"[:digits]
        texts.append(f"{whole}.{fraction}Z" if digits else f"{whole}Z")
    # When parsed
    parsed, ok = parse_iso_utc(texts)
    # Then every one is valid and equals numpy's reading of the same text (without the Z)
    expected = np.array([t[:-1] for t in texts], dtype="datetime64[ns]").astype(np.int64)
    assert ok.all()
    assert np.array_equal(parsed, expected)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-02T14:30:00",  # no Z
        "2024-01-02 14:30:00Z",  # space
        "2024-01-02T14:30:00.Z",  # empty fraction
        "2024-01-02T14:30:00.1234567890Z",  # 10 digits
        "2024-01-02T14:30:00.123Zjunk",
        "2024-01-02T24:00:00Z",
        "2024-01-02T23:60:00Z",
        "2024-01-02T23:59:60Z",  # leap seconds are not accepted
        "2023-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "1500-01-01T00:00:00Z",  # outside int64 nanoseconds
        "2024-1-02T14:30:00Z",
        "\uff12\uff10\uff12\uff14-01-02T14:30:00Z",  # fullwidth (non-ASCII) digits
        "",
        "x" * 10_000,
    ],
)
def test_malformed_iso_timestamps_are_flagged_one_by_one(text: str) -> None:
    # Given a malformed timestamp between two good ones
    values = ["2024-02-29T00:00:00Z", text, "2024-01-02T14:30:00.5Z"]
    # When parsed
    parsed, ok = parse_iso_utc(values)
    # Then only the malformed one is flagged, and the good ones are still parsed
    assert ok.tolist() == [True, False, True]
    assert parsed[2] == 1_704_205_800_500_000_000


def test_epoch_ns_digit_strings() -> None:
    # Given digit strings, the int64 limit and malformed ones
    values = ["0", "1704205800397486354", "9223372036854775807", "9223372036854775808", "-1", "1e9", "", " 1"]
    # When parsed
    parsed, ok = parse_epoch_ns_digits(values)
    # Then only plain digit strings within int64 are accepted
    assert ok.tolist() == [True, True, True, False, False, False, False, False]
    assert parsed[:3].tolist() == [0, 1704205800397486354, 9223372036854775807]


def test_format_iso_utc_round_trips() -> None:
    # Given instants / When formatted and parsed back / Then they are unchanged
    ns = np.array([0, 1, 1_704_205_800_123_456_789])
    parsed, ok = parse_iso_utc(format_iso_utc(ns).tolist())
    assert ok.all() and np.array_equal(parsed, ns)


@pytest.mark.parametrize("seed", range(20))
def test_lexorder_equals_numpy_lexsort(seed: int) -> None:
    # Given integer keys of mixed ranges (some too wide to pack together, many ties)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    keys = [
        rng.integers(0, 4, n),
        rng.integers(-(2**62), 2**62, n) if seed % 2 else rng.integers(0, 30, n),
        rng.integers(0, 3, n),
    ]
    # When ordered / Then the order equals numpy's stable lexsort
    assert np.array_equal(lexorder(keys), np.lexsort(keys[::-1]))
