"""Fast lexicographic ordering of integer keys.

``np.lexsort`` does one indirect stable sort per key (about 0.25 s for three keys on a million rows).
Here the leading keys are packed into one uint64 and sorted with numpy's fast unstable argsort; the few
rows whose packed key ties are then ordered by the remaining keys and finally by their position, so the
result equals ``np.lexsort`` (stable) exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_PACK_BITS = 64


def lexorder(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Indices that sort by ``keys[0]``, then ``keys[1]``, ...; ties keep input order (stable).

    Equivalent to ``np.lexsort(keys[::-1])``. Keys are integer arrays of equal length.
    """
    n = len(keys[0]) if keys else 0
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    packed, packed_count = _pack_leading(keys)
    if packed_count == 0:
        return np.lexsort(tuple(keys[::-1]))
    order = np.argsort(packed)
    rest = [*keys[packed_count:], np.arange(n)]
    _refine_ties(order, packed[order], rest)
    return order


def _pack_leading(keys: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Pack as many leading keys as fit into 64 bits (each offset by its minimum)."""
    packed = np.zeros(len(keys[0]), dtype=np.uint64)
    used = 0
    for count, key in enumerate(keys):
        low, high = int(key.min()), int(key.max())
        bits = (high - low).bit_length()
        if used + bits > _PACK_BITS:
            return packed, count
        offset = (key.astype(np.int64) - np.int64(low)).astype(np.uint64)
        packed = (packed << np.uint64(bits)) | offset
        used += bits
    return packed, len(keys)


def _refine_ties(order: np.ndarray, packed_sorted: np.ndarray, rest: Sequence[np.ndarray]) -> None:
    """Within each run of equal packed keys, order rows by ``rest`` (in place)."""
    tie = packed_sorted[1:] == packed_sorted[:-1]
    if not tie.any():
        return
    in_run = np.r_[tie, False] | np.r_[False, tie]
    positions = np.flatnonzero(in_run)
    run_id = np.cumsum(np.r_[True, ~tie])[positions]
    rows = order[positions]
    sub_order = np.lexsort((*[key[rows] for key in reversed(rest)], run_id))
    order[positions] = rows[sub_order]


def run_starts(*sorted_keys: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal key tuples in already-sorted keys."""
    n = len(sorted_keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in sorted_keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)
