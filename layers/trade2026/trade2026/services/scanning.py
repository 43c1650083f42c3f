"""Scanners, the screener and the time machine: requests, validation, lake bars -> domain -> responses.

The domain (``trade2026.domain.scanners``, ``screener``, ``timemachine``) is pure; this module turns requests
into domain calls over a ``Panel`` of daily bars, maps domain errors to HTTP errors (unknown scanner 404 naming
the known ones, bad parameters or filters 422 naming the allowed values, impossible windows 400) and runs saved
screens on a schedule. Bars come from a ``PanelLoader`` (the lake in Lambda, demo data in unit tests).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trade2026.domain import scanners as sc
from trade2026.domain import screener
from trade2026.domain import timemachine as tm
from trade2026.errors import BadRequest, NotFound, Unprocessable

MAX_UNIVERSE = 200
ColumnsReader = Callable[[str], Mapping[str, np.ndarray]]  # symbol -> columns (ts ns, open, ..., volume)
PanelLoader = Callable[[Sequence[str] | None], sc.Panel]  # None: every daily symbol


# ---------------------------------------------------------------------------- settings
class ScanningSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    screens_table: str = Field(alias="SCREENS_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field(alias="LAKE_DATABASE")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")


@cache
def scanning_settings() -> ScanningSettings:
    import os

    return ScanningSettings.model_validate(dict(os.environ))


# ---------------------------------------------------------------------------- requests
Symbols = list[str] | None
SYMBOLS_FIELD = Field(None, min_length=1, max_length=MAX_UNIVERSE, description="default: every daily symbol")


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: Symbols = SYMBOLS_FIELD
    as_of: str | None = Field(
        None, description="YYYY-MM-DD: the scan uses bars up to this date (default: latest)"
    )
    params: dict[str, float] = Field(default_factory=dict, description="see GET /v1/scanners")
    limit: int = Field(50, ge=1, le=500)
    study: bool = Field(True, description="add the forward-return study of the scanner's past hits")
    horizons: list[int] = Field([1, 5, 20], min_length=1, max_length=6)
    study_start: str | None = Field(None, description="YYYY-MM-DD: first date of the study")


class ScreenDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: Symbols = SYMBOLS_FIELD
    filter: dict[str, Any] | None = Field(
        None, description='{"all": [{"field": "return_20d", "op": ">", "value": 0.05}, {"any": [...]}]}'
    )
    sort: list[dict[str, str]] = Field(
        default_factory=list, description='[{"field": "rsi_14", "order": "asc"}]'
    )
    limit: int = Field(50, ge=1, le=1000)


class ScreenerRequest(ScreenDefinition):
    as_of: str | None = Field(None, description="YYYY-MM-DD (default: latest)")


class SavedScreenRequest(ScreenDefinition):
    name: str = Field(min_length=1, max_length=100)
    schedule: Literal["daily"] | None = Field(
        None, description="daily: run after the close, emit ScreenCompleted"
    )


class TimeMachineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32)
    end: str | None = Field(None, description="YYYY-MM-DD: the query window ends on the last bar <= end")
    window: int = Field(60, ge=tm.MIN_WINDOW, le=1000)
    k: int = Field(10, ge=1, le=100)
    symbols: Symbols = Field(None, max_length=MAX_UNIVERSE, description="search these (default: the symbol)")
    all_symbols: bool = Field(False, description="search every daily symbol")
    metric: Literal["euclidean", "dtw"] = "euclidean"
    band: float = Field(0.1, gt=0, le=1, description="DTW Sakoe-Chiba band, a fraction of the window")
    exclusion: int | None = Field(None, ge=0, description="bars around a match where no other match starts")
    horizons: list[int] = Field([1, 5, 20], min_length=1, max_length=6)
    paths: bool = Field(True, description="include the z-normalized paths for overlays")


# ---------------------------------------------------------------------------- helpers
def _row(panel: sc.Panel, as_of: str | None) -> int:
    if as_of is not None:
        _check_date(as_of, "as_of")
    row = panel.row_of(as_of)
    if row < 0:
        first = str(panel.dates[0]) if len(panel.dates) else "none"
        raise BadRequest(f"no bars on or before {as_of}: the data starts {first}")
    return row


def _check_date(text: str, name: str) -> np.datetime64:
    try:
        return np.datetime64(text, "D")
    except ValueError:
        raise BadRequest(f"{name}: bad date {text!r}; use YYYY-MM-DD") from None


def _horizons(horizons: Sequence[int]) -> list[int]:
    bad = [h for h in horizons if not 1 <= h <= 252]
    if bad:
        raise Unprocessable(f"horizons must be between 1 and 252 bars; got {bad}")
    return sorted(set(horizons))


def scanner_or_404(name: str) -> sc.Scanner:
    scanner = sc.get_scanner(name)
    if scanner is None:
        known = ", ".join(sc.SCANNERS)
        raise NotFound(f"Unknown scanner {name!r}; known: {known}", details={"known": list(sc.SCANNERS)})
    return scanner


def catalogue() -> dict[str, Any]:
    return {"scanners": sc.describe_scanners(), "screener_fields": screener.allowed_fields(),
            "screener_ops": list(screener.OPS)}  # fmt: skip


# ---------------------------------------------------------------------------- scanners
def run_scan(name: str, request: ScanRequest, load: PanelLoader) -> dict[str, Any]:
    scanner = scanner_or_404(name)
    try:
        params = scanner.validate(request.params)
    except sc.ScannerError as exc:
        raise Unprocessable(str(exc), details={"params": scanner.describe()["params"]}) from None
    horizons = _horizons(request.horizons)
    panel = load(request.symbols)
    row = _row(panel, request.as_of)
    started = time.perf_counter()
    signal = sc.compute(scanner, panel, params) if request.study else None
    result = sc.scan(scanner, panel, params, row, request.limit, signal=signal)
    short = [s for s in result["skipped"] if s["reason"].startswith("not enough history")]
    if result["scored"] == 0 and short:
        longest = max(int(np.isfinite(panel.close[: row + 1, j]).sum()) for j in range(len(panel.symbols)))
        raise BadRequest(
            f"{scanner.name}: the window is longer than the history: it needs {scanner.min_bars(params)} bars, "
            f"the longest history up to {panel.dates[row]} has {longest}"
        )
    if signal is not None:
        start = (
            0
            if request.study_start is None
            else panel.row_of(_check_date(request.study_start, "study_start")) + 1
        )
        result["study"] = sc.study(signal, panel, horizons, start=start, until=row)
        result["study"]["note"] = (
            f"hits on every bar up to {panel.dates[row]} (data <= that bar); forward returns counted only when "
            "known by as_of"
            + (f"; the signal is evaluated every {params['step']} bars" if scanner.sampled else "")
        )
    result["elapsed_ms"] = round(1000 * (time.perf_counter() - started), 1)
    return result


# ---------------------------------------------------------------------------- screener
def parse_screen(definition: ScreenDefinition) -> screener.Screen:
    try:
        return screener.parse(definition.filter, list(definition.sort), definition.limit)
    except screener.ScreenError as exc:
        raise Unprocessable(str(exc), details={"allowed": exc.allowed} if exc.allowed else None) from None


def run_screen(definition: ScreenDefinition, as_of: str | None, load: PanelLoader) -> dict[str, Any]:
    screen = parse_screen(definition)
    panel = load(definition.symbols)
    return screener.run(screen, panel, _row(panel, as_of))


def new_screen_id() -> str:
    return uuid.uuid4().hex


def screen_completed_event(user: str, screen_id: str, name: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The detail of a ScreenCompleted event (``id`` lets consumers drop a retried duplicate)."""
    return {
        "id": f"{screen_id}:{result['as_of']}",
        "user": user,
        "screen_id": screen_id,
        "name": name,
        "as_of": result["as_of"],
        "matched": result["matched"],
        "symbols": [row["symbol"] for row in result["rows"]][:100],
    }


# ---------------------------------------------------------------------------- time machine
def find_matches(request: TimeMachineRequest, load: PanelLoader) -> dict[str, Any]:
    horizons = _horizons(request.horizons)
    wanted = None if request.all_symbols else list(dict.fromkeys([request.symbol, *(request.symbols or [])]))
    panel = load(wanted)
    if request.symbol not in panel.symbols:
        raise BadRequest(
            f"Unknown symbol {request.symbol!r}: GET /v1/marketdata/symbols lists the known ones"
        )
    target = panel.symbols.index(request.symbol)
    series, positions = _series(panel)
    own, own_positions = series[target], positions[target]
    if request.end is not None:
        end_day = _check_date(request.end, "end")
        end = int(np.searchsorted(panel.dates[own_positions], end_day, side="right")) - 1
    else:
        end = len(own) - 1
    m = request.window
    if end + 1 < m:
        raise BadRequest(
            f"window of {m} bars is longer than the history of {request.symbol}: {max(end + 1, 0)} bars up to "
            f"{request.end or 'the latest bar'}"
        )
    query_start = end - m + 1
    end_row = own_positions[end]  # the query's last bar on the panel calendar
    # Matches end early enough that their longest forward return was known at the query's last bar.
    longest = max(horizons)
    last_start = [int(np.searchsorted(pos, end_row, side="right")) - longest - m for pos in positions]
    started = time.perf_counter()
    try:
        result = tm.search(
            own[query_start : end + 1], series, request.k, exclusion=request.exclusion,
            excluded=[(target, query_start)], last_start=last_start, metric=request.metric, band=request.band,
        )  # fmt: skip
    except tm.TimeMachineError as exc:
        raise BadRequest(str(exc)) from None
    elapsed = time.perf_counter() - started
    return _time_machine_response(
        request, panel, series, positions, target, query_start, result, horizons, elapsed
    )


def _series(panel: sc.Panel) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each symbol's closes without the calendar's gaps, and their row numbers on the panel."""
    series, positions = [], []
    for j in range(len(panel.symbols)):
        rows = np.nonzero(np.isfinite(panel.close[:, j]))[0]
        series.append(panel.close[rows, j])
        positions.append(rows)
    return series, positions


def _time_machine_response(request: TimeMachineRequest, panel: sc.Panel, series: list[np.ndarray],
                           positions: list[np.ndarray], target: int, query_start: int, result: tm.SearchResult,
                           horizons: list[int], elapsed: float) -> dict[str, Any]:  # fmt: skip
    m = request.window

    def day(j: int, index: int) -> str:
        return str(panel.dates[positions[j][index]])

    matches = []
    for rank, match in enumerate(result.matches, 1):
        window = series[match.series][match.start : match.start + m]
        forward = tm.forward_returns(series[match.series], match.end(m), horizons)
        matches.append({
            "rank": rank,
            "symbol": panel.symbols[match.series],
            "start": day(match.series, match.start),
            "end": day(match.series, match.end(m)),
            "distance": match.distance,
            "forward_returns": {str(h): v for h, v in forward.items()},
            **({"path": np.round(tm.znorm(window), 6).tolist()} if request.paths else {}),
        })  # fmt: skip
    query = series[target][query_start : query_start + m]
    return {
        "query": {
            "symbol": request.symbol,
            "start": day(target, query_start),
            "end": day(target, query_start + m - 1),
            "window": m,
            **({"path": np.round(tm.znorm(query), 6).tolist()} if request.paths else {}),
        },
        "metric": result.metric,
        "searched_symbols": list(panel.symbols),
        "candidates": result.candidates,
        "dtw_evaluated": result.dtw_evaluated if result.metric == "dtw" else None,
        "matches": matches,
        "forward": {
            str(h): tm.distribution([mt["forward_returns"][str(h)] for mt in matches]) for h in horizons
        },
        "elapsed_ms": round(1000 * elapsed, 1),
    }


# ---------------------------------------------------------------------------- bars -> panel
def panel_loader(read: ColumnsReader, universe: Callable[[], list[str]]) -> PanelLoader:
    """A PanelLoader over a per-symbol reader; unknown symbols are a 400 naming them."""

    def load(symbols: Sequence[str] | None) -> sc.Panel:
        chosen = list(dict.fromkeys(symbols)) if symbols else universe()
        if not chosen:
            raise BadRequest("no daily symbols are loaded: load data first (trade2026 ingest)")
        if len(chosen) > MAX_UNIVERSE:
            raise BadRequest(f"a universe holds at most {MAX_UNIVERSE} symbols; got {len(chosen)}")
        return sc.Panel.from_columns({symbol: read(symbol) for symbol in chosen})

    return load


def lake_panel_loader(lake: Any, cache_size: int = 500) -> PanelLoader:
    """Daily bars from the lake (the symbol registry says which symbols exist and what they store).

    A warm Lambda keeps each symbol's bars and reuses them while the registry's record of the symbol (its
    datasets' bar counts and ranges, its update time) is unchanged: a reload replaces them on the next call.
    """
    import json

    from trade2026.adapters.marketstate import all_symbols, get_symbol
    from trade2026.services import marketdata_query as mq

    cached: dict[str, tuple[str, Mapping[str, np.ndarray]]] = {}

    def read(symbol: str) -> Mapping[str, np.ndarray]:
        meta = get_symbol(symbol)
        if meta is None:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        fingerprint = json.dumps([meta.datasets, meta.updated_at], sort_keys=True, default=str)
        hit = cached.get(symbol)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        query = mq.BarsQuery(symbol, "1d", mq.EARLIEST_NS, mq.LATEST_NS, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        columns = {"ts": bars.start, "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                   "volume": bars.volume}  # fmt: skip
        if len(cached) >= cache_size:
            cached.pop(next(iter(cached)))
        cached[symbol] = (fingerprint, columns)
        return columns

    def universe() -> list[str]:
        return [s.symbol for s in all_symbols() if "bars_1d" in (s.datasets or {})][:MAX_UNIVERSE]

    return panel_loader(read, universe)
