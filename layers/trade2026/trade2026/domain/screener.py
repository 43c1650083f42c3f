"""Screener: a small, validated JSON filter language over per-symbol fields computed on one date.

A filter is a tree of nodes:

    {"all": [node, ...]}   every child holds          {"any": [node, ...]}   at least one child holds
    {"not": node}          the child does not hold
    {"field": "return_20d", "op": ">", "value": 0.05}  a condition; op "between" takes [low, high]

Fields (N is a whole number of bars, 1..1000): ``price``, ``return_Nd``, ``volatility_Nd`` (annualized, log
returns, ddof 1), ``volume``, ``avg_volume_Nd``, ``rel_volume_Nd`` (volume / mean of the previous N),
``sma_N``, ``ema_N``, ``dist_sma_N`` (close / SMA - 1), ``rsi_N``, ``zscore_N``, ``bb_width_N``, ``atr_N``,
``atr_pct_N``, ``adx_N``, ``high_52w_proximity``, and ``score_<scanner>`` (the scanner's score with its
default parameters). A symbol whose field has no value (close-only data has no volume or ranges, too short a
history) fails every condition on it and shows ``null``.

Sort: ``[{"field": ..., "order": "desc"|"asc"}]`` (missing values last); ``limit`` caps the rows.
Everything is validated before anything is computed: unknown fields and operators are errors that list the
allowed ones. Pure numpy: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trade2026.domain import indicators as ind
from trade2026.domain import scanners as sc

OPS: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
    "==": lambda x, v: x == v,
    "!=": lambda x, v: x != v,
    "between": lambda x, v: (x >= v[0]) & (x <= v[1]),
}
FIXED_FIELDS = ("price", "volume", "high_52w_proximity")
PATTERN_FIELDS = (
    "return_Nd", "volatility_Nd", "avg_volume_Nd", "rel_volume_Nd", "sma_N", "ema_N", "dist_sma_N", "rsi_N",
    "zscore_N", "bb_width_N", "atr_N", "atr_pct_N", "adx_N",
)  # fmt: skip
MAX_N = 1000
MAX_CONDITIONS = 50
MAX_DEPTH = 6
_PATTERN = re.compile(
    r"^(return|volatility|avg_volume|rel_volume)_(\d+)d$|^(sma|ema|dist_sma|rsi|zscore|bb_width|atr|atr_pct|adx)_(\d+)$"
)


class ScreenError(ValueError):
    """An invalid screen; ``allowed`` lists what would have been accepted."""

    def __init__(self, message: str, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


def allowed_fields() -> list[str]:
    return [*FIXED_FIELDS, *PATTERN_FIELDS, *(f"score_{name}" for name in sc.SCANNERS)]


@dataclass(frozen=True)
class Screen:
    filter: Mapping[str, Any] | None
    sort: list[tuple[str, bool]]  # (field, descending)
    limit: int
    fields: tuple[str, ...]  # every field the screen reads, in first-use order


def parse(filter_: Mapping[str, Any] | None, sort: list[Mapping[str, Any]] | None, limit: int) -> Screen:
    """Validate a screen; raises ScreenError naming the bad part and the allowed values."""
    fields: list[str] = []
    if filter_ is not None:
        _check_node(filter_, fields, depth=0, path="filter", counter=[0])
    order: list[tuple[str, bool]] = []
    for i, item in enumerate(sort or []):
        if not isinstance(item, Mapping) or "field" not in item:
            raise ScreenError(f"sort[{i}] must be an object with a field (and order asc|desc)")
        direction = item.get("order", "desc")
        if direction not in ("asc", "desc"):
            raise ScreenError(f"sort[{i}].order must be asc or desc; got {direction!r}", ["asc", "desc"])
        _check_field(str(item["field"]), f"sort[{i}].field")
        order.append((str(item["field"]), direction == "desc"))
        if item["field"] not in fields:
            fields.append(str(item["field"]))
    if not 1 <= limit <= 1000:
        raise ScreenError(f"limit must be in [1, 1000]; got {limit}")
    return Screen(filter_, order, limit, tuple(fields))


def _check_node(node: Any, fields: list[str], depth: int, path: str, counter: list[int]) -> None:
    if not isinstance(node, Mapping):
        raise ScreenError(f"{path} must be an object: all, any, not or a condition (field, op, value)")
    if depth > MAX_DEPTH:
        raise ScreenError(f"{path}: filters nest at most {MAX_DEPTH} levels")
    keys = set(node)
    if keys in ({"all"}, {"any"}):
        children = node["all" if "all" in keys else "any"]
        if not isinstance(children, list) or not children:
            raise ScreenError(f"{path}.{next(iter(keys))} must be a non-empty list of filters")
        for i, child in enumerate(children):
            _check_node(child, fields, depth + 1, f"{path}.{next(iter(keys))}[{i}]", counter)
        return
    if keys == {"not"}:
        _check_node(node["not"], fields, depth + 1, f"{path}.not", counter)
        return
    if keys != {"field", "op", "value"}:
        raise ScreenError(
            f"{path}: expected one of all, any, not or a condition with exactly field, op and value; got "
            f"{sorted(keys)}",
            ["all", "any", "not", "field/op/value"],
        )
    _check_condition(node, path, counter)
    if str(node["field"]) not in fields:
        fields.append(str(node["field"]))


def _check_condition(node: Mapping[str, Any], path: str, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise ScreenError(f"a screen has at most {MAX_CONDITIONS} conditions")
    _check_field(str(node["field"]), f"{path}.field")
    op = node["op"]
    if op not in OPS:
        raise ScreenError(f"{path}.op: unknown operator {op!r}; allowed: {', '.join(OPS)}", list(OPS))
    value = node["value"]
    if op == "between":
        ok = isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
        if not ok or value[0] > value[1]:
            raise ScreenError(
                f"{path}.value: between takes [low, high] numbers with low <= high; got {value!r}"
            )
    elif not _number(value):
        raise ScreenError(f"{path}.value must be a number; got {value!r}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))


def _check_field(name: str, path: str) -> None:
    if name in FIXED_FIELDS or (name.startswith("score_") and name[6:] in sc.SCANNERS):
        return
    match = _PATTERN.match(name)
    if match:
        n = int(match.group(2) or match.group(4))
        if 1 <= n <= MAX_N and not (match.group(3) in ("rsi", "sma", "ema", "dist_sma") and n < 2):
            return
        raise ScreenError(f"{path}: N in {name!r} must be in [2, {MAX_N}] ([1, {MAX_N}] for returns)")
    raise ScreenError(
        f"{path}: unknown field {name!r}; allowed: {', '.join(allowed_fields())}", allowed_fields()
    )


# ---------------------------------------------------------------------------- computing fields
def field_values(name: str, panel: sc.Panel, row: int) -> np.ndarray:
    """(N,) values of a field on bar ``row`` (NaN where the data cannot give it)."""
    close = panel.close[: row + 1]
    ranged = panel.has_range[None, :]
    high, low = (
        np.where(ranged, panel.high[: row + 1], np.nan),
        np.where(ranged, panel.low[: row + 1], np.nan),
    )
    volume = np.where(panel.has_volume[None, :], panel.volume[: row + 1], np.nan)
    if name == "price":
        return close[row]
    if name == "volume":
        return volume[row]
    if name == "high_52w_proximity":
        return _last(sc.SCANNERS["high_52w"].compute(panel.head(row + 1), {"lookback": 252, "threshold": 1.0},
                                                     None).values["proximity"])  # fmt: skip
    if name.startswith("score_"):
        scanner = sc.SCANNERS[name[6:]]
        params = scanner.validate({})
        rows = np.array([row]) if scanner.sampled else None
        return _last(scanner.compute(panel.head(row + 1), params, rows).score)
    match = _PATTERN.match(name)
    assert match is not None
    kind, n = match.group(1) or match.group(3), int(match.group(2) or match.group(4))
    compute: dict[str, Callable[[], np.ndarray]] = {
        "return": lambda: ind.returns(close, n),
        "volatility": lambda: ind.rolling_volatility(close, n) if n >= 2 else np.full(close.shape, np.nan),
        "avg_volume": lambda: sc.rolling(volume, n, np.mean),
        "rel_volume": lambda: sc.ratio(volume, sc.lag(sc.rolling(volume, n, np.mean), 1)),
        "sma": lambda: ind.sma(close, n),
        "ema": lambda: ind.ema(close, n),
        "dist_sma": lambda: sc.ratio(close, ind.sma(close, n)) - 1.0,
        "rsi": lambda: ind.rsi(close, n),
        "zscore": lambda: ind.zscore(close, n) if n >= 2 else np.full(close.shape, np.nan),
        "bb_width": lambda: _bb_width(close, n),
        "atr": lambda: ind.atr(high, low, close, n),
        "atr_pct": lambda: sc.ratio(ind.atr(high, low, close, n), close),
        "adx": lambda: ind.adx(high, low, close, n).adx if n >= 2 else np.full(close.shape, np.nan),
    }
    return _last(compute[kind]())


def _bb_width(close: np.ndarray, n: int) -> np.ndarray:
    if n < 2:
        return np.full(close.shape, np.nan)
    bands = ind.bollinger_bands(close, n)
    return sc.ratio(bands.upper - bands.lower, bands.middle)


def _last(matrix: np.ndarray) -> np.ndarray:
    return np.asarray(matrix)[-1]


def evaluate(node: Mapping[str, Any], values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Boolean (N,) mask of the symbols that pass ``node`` (missing values fail every condition)."""
    if "all" in node:
        return np.logical_and.reduce([evaluate(child, values) for child in node["all"]])
    if "any" in node:
        return np.logical_or.reduce([evaluate(child, values) for child in node["any"]])
    if "not" in node:
        inner = evaluate(node["not"], values)
        # `not` of a condition on a missing value is still false: a missing value proves nothing.
        known = np.logical_and.reduce([np.isfinite(values[name]) for name in _fields_of(node["not"])])
        return ~inner & known
    x = values[node["field"]]
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & OPS[node["op"]](x, node["value"])


def _fields_of(node: Mapping[str, Any]) -> list[str]:
    if "all" in node or "any" in node:
        return [f for child in node.get("all", node.get("any", [])) for f in _fields_of(child)]
    if "not" in node:
        return _fields_of(node["not"])
    return [node["field"]]


def run(screen: Screen, panel: sc.Panel, row: int) -> dict[str, Any]:
    """Filter, sort and limit the panel's symbols on bar ``row``; each row carries the fields' values."""
    values = {name: field_values(name, panel, row) for name in screen.fields}
    present = np.isfinite(panel.close[row])
    mask = present & (evaluate(screen.filter, values) if screen.filter is not None else True)
    chosen = np.nonzero(mask)[0]
    for name, descending in reversed(screen.sort):  # stable sorts, last key first
        keys = values[name][chosen]
        order = np.argsort(np.where(np.isfinite(keys), -keys if descending else keys, np.inf), kind="stable")
        chosen = chosen[order]
    rows = [
        {"symbol": panel.symbols[j], "values": {n: _json(values[n][j]) for n in screen.fields}}
        for j in chosen[: screen.limit]
    ]
    missing = {
        n: [panel.symbols[j] for j in np.nonzero(~np.isfinite(values[n]) & present)[0]] for n in screen.fields
    }
    return {
        "as_of": str(panel.dates[row]),
        "universe": len(panel.symbols),
        "matched": len(chosen),
        "rows": rows,
        "missing": {n: s for n, s in missing.items() if s},
        "not_trading": [panel.symbols[j] for j in np.nonzero(~present)[0]],
    }


def _json(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
