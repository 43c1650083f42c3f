"""Training requests and point-in-time training sets.

request       TrainRequest / LabelSpec, validated before anything starts (400 with the reason)
features      a FeatureReader gives a symbol's feature rows (ts, matrix): the offline store (Parquet in the
              lake; rows the store lacks are materialized from the lake's bars first) in the pipeline,
              computed in memory for request validation and notebooks
labels        from the bars (fixed horizon, triple barrier, meta), one calendar for every symbol
join          each sample at bar t0 takes the latest feature row stamped at or before t0 (domain
              `as_of_join`): a training row never holds data from after its own bar
split         the latest dates validate; purge + embargo; purged k-fold and combinatorial purged CV splits
              inside the training rows
channels      label, weight and features as .npz (binary, read by models/xgboost_alpha/train.py)
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import feature_store
from trade2026.domain.ml import labels as labeling
from trade2026.domain.ml import metalabel
from trade2026.domain.ml.cv import CombinatorialPurgedCV, PurgedKFold, purge_mask
from trade2026.domain.ml.features import FeatureSet, as_of_join, get_feature_set
from trade2026.domain.ml.weights import average_uniqueness
from trade2026.errors import BadRequest
from trade2026.services.ml_common import MODEL_NAME

MAX_TRIALS = 16
MAX_CPCV_SPLITS = 45
HYPERPARAMETERS: dict[str, tuple[type, float, float]] = {
    "max_depth": (int, 1, 12),
    "eta": (float, 1e-4, 1.0),
    "num_round": (int, 1, 5_000),
    "subsample": (float, 0.05, 1.0),
    "colsample_bytree": (float, 0.05, 1.0),
    "min_child_weight": (float, 0.0, 1e4),
    "reg_lambda": (float, 0.0, 1e4),
    "early_stopping_rounds": (int, 0, 1_000),
    "seed": (int, 0, 2**31 - 1),
}
DEFAULT_HYPERPARAMETERS: dict[str, float] = {"max_depth": 3, "eta": 0.05, "num_round": 150, "subsample": 0.8}


# ------------------------------------------------------------------------------------------ requests
class LabelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["triple_barrier", "fixed_horizon", "meta"] = "triple_barrier"
    horizon: int = Field(10, ge=1, le=2_520, description="bars to the vertical barrier / fixed horizon")
    profit_take: float = Field(1.0, ge=0, le=50, description="upper barrier in units of EWMA volatility")
    stop_loss: float = Field(1.0, ge=0, le=50, description="lower barrier in units of EWMA volatility")
    vol_span: int = Field(50, ge=2, le=1_000)
    threshold: float = Field(0.0, ge=0, le=1, description="fixed horizon: dead zone around 0")
    primary_fast: int = Field(20, ge=1, le=500, description="meta: the primary crossover's fast window")
    primary_slow: int = Field(50, ge=2, le=1_000, description="meta: the primary crossover's slow window")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=1, max_length=50)
    start: str | None = Field(None, description="first sample date, YYYY-MM-DD (features use earlier bars)")
    end: str | None = Field(None, description="last bar date, YYYY-MM-DD (labels end by then)")
    interval: str = Field("1d", max_length=8)
    feature_set: str = Field("alpha_v1", max_length=64)
    label: LabelSpec = Field(default_factory=LabelSpec)
    event_step: int = Field(1, ge=1, le=250, description="a sample every n-th bar")
    validation_fraction: float = Field(0.2, ge=0.05, le=0.5)
    embargo_pct: float = Field(0.01, ge=0.0, le=0.2)
    cv_folds: int = Field(0, ge=0, le=10, description="purged k-fold CV inside training (0: none)")
    cpcv_groups: int = Field(
        0, ge=0, le=12, description="combinatorial purged CV inside training: N time groups (0: none)"
    )
    cpcv_test_groups: int = Field(
        2, ge=1, le=6, description="combinatorial purged CV: k test groups per split"
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="name -> number, or a list of numbers to search (a grid)"
    )
    max_trials: int = Field(4, ge=1, le=MAX_TRIALS)
    deploy: bool = True


def _number(name: str, value: Any) -> float:
    kind, low, high = HYPERPARAMETERS[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRequest(f"hyperparameter {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"hyperparameter {name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadRequest(f"hyperparameter {name} must be between {low:g} and {high:g}, got {value!r}")
    if kind is int and number != int(number):
        raise BadRequest(f"hyperparameter {name} must be a whole number, got {value!r}")
    return int(number) if kind is int else number


def hyperparameter_trials(
    hyperparameters: Mapping[str, Any], max_trials: int, *, validate: bool = True
) -> list[dict[str, Any]]:
    """The grid of the given values (lists are searched), evenly thinned to max_trials.

    The API validates (400 with the reason); the state machine passes values through as given, so a run started
    by hand with a bad value fails in its training job, the way SageMaker reports it.
    """
    grid: dict[str, list[Any]] = {name: [value] for name, value in DEFAULT_HYPERPARAMETERS.items()}
    for name, value in hyperparameters.items():
        if validate and name not in HYPERPARAMETERS:
            raise BadRequest(f"unknown hyperparameter {name!r}; known: {', '.join(sorted(HYPERPARAMETERS))}")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise BadRequest(f"hyperparameter {name} has an empty list of values")
        grid[name] = (
            sorted({_number(name, item) for item in values}) if validate else list(dict.fromkeys(values))
        )
    names = sorted(grid)
    trials = [
        dict(zip(names, combination, strict=True))
        for combination in itertools.product(*(grid[n] for n in names))
    ]
    if len(trials) > max_trials:
        picks = np.unique(np.round(np.linspace(0, len(trials) - 1, max_trials)).astype(int))
        trials = [trials[i] for i in picks]
    return trials


def feature_set_or_400(name: str) -> FeatureSet:
    try:
        return get_feature_set(name)
    except KeyError as exc:
        raise BadRequest(str(exc.args[0])) from None


def _validate_cv(request: TrainRequest) -> None:
    if request.cv_folds == 1:
        raise BadRequest("cv_folds must be 0 (no cross-validation) or at least 2")
    if request.cpcv_groups == 0:
        return
    if request.cpcv_groups < 2 or request.cpcv_test_groups >= request.cpcv_groups:
        raise BadRequest(
            f"combinatorial purged CV needs 2 <= cpcv_groups and cpcv_test_groups < cpcv_groups; got "
            f"cpcv_groups={request.cpcv_groups}, cpcv_test_groups={request.cpcv_test_groups}"
        )
    splits = math.comb(request.cpcv_groups, request.cpcv_test_groups)
    if splits > MAX_CPCV_SPLITS:
        raise BadRequest(
            f"cpcv_groups={request.cpcv_groups}, cpcv_test_groups={request.cpcv_test_groups} make {splits} "
            f"splits (a model each); at most {MAX_CPCV_SPLITS}"
        )


def validate_request(request: TrainRequest, *, hyperparameters: bool = True) -> list[dict[str, Any]]:
    feature_set_or_400(request.feature_set)
    if request.label.kind == "meta" and request.label.primary_fast >= request.label.primary_slow:
        raise BadRequest(
            f"label.primary_fast ({request.label.primary_fast}) must be below label.primary_slow "
            f"({request.label.primary_slow})"
        )
    _validate_cv(request)
    if request.interval != "1d":
        raise BadRequest(f"interval {request.interval!r} is not supported yet: feature sets are daily ('1d')")
    return hyperparameter_trials(request.hyperparameters, request.max_trials, validate=hyperparameters)


def family_of(request: TrainRequest) -> str:
    feature_set = get_feature_set(request.feature_set)
    return f"{MODEL_NAME}.{feature_set.name}-v{feature_set.version}.{request.label.kind}"


# ------------------------------------------------------------------------------------ bars, features
SymbolBars = Mapping[str, np.ndarray]  # ts, open, high, low, close, volume
BarReader = Callable[[str], SymbolBars]
FeatureRows = tuple[np.ndarray, np.ndarray]  # ts (int64 ns, ascending), (T, F) matrix in the set's order
FeatureReader = Callable[[str], FeatureRows]


def lake_bar_reader(lake: Any, end: str | None, interval: str = "1d") -> BarReader:
    """All bars of a symbol up to `end` (features need the history before `start`), volume included."""
    from trade2026.adapters.marketstate import get_symbol
    from trade2026.services import marketdata_query as mq

    end_ns = mq.parse_time(end, end_of_day=True, default=mq.LATEST_NS)

    def read(symbol: str) -> SymbolBars:
        meta = get_symbol(symbol)
        if meta is None:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        query = mq.BarsQuery(symbol, interval, mq.EARLIEST_NS, end_ns, limit=10**9, after_ns=None)
        bars, _ = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
        return {
            "ts": bars.start,
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }

    return read


def prefetch_bars(read: BarReader, symbols: Sequence[str], workers: int = 8) -> BarReader:
    """The symbols' bars read concurrently (a symbol is dozens of S3 objects: the GETs overlap), then served
    from memory; other symbols are read on demand. The first error (e.g. an unknown symbol) is raised."""
    unique = list(dict.fromkeys(symbols))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique)))) as pool:
        loaded = dict(zip(unique, pool.map(read, unique), strict=True))
    return lambda symbol: loaded[symbol] if symbol in loaded else read(symbol)


def computed_features(feature_set: FeatureSet, read: BarReader) -> FeatureReader:
    """Feature rows computed in memory from the bars (what the offline store holds for the same bars)."""

    def rows(symbol: str) -> FeatureRows:
        bars = read(symbol)
        return np.asarray(bars["ts"], dtype=np.int64), feature_set.compute(bars)

    return rows


@dataclass
class OfflineFeatures:
    """FeatureReader over the offline store (s3://<lake>/features/<set>/v<version>/symbol=<S>/).

    A symbol whose stored rows end before its last bar (up to the reader's end date), or that has none, is
    materialized first: its rows are computed from the lake's bars and written to the store. Rows are
    point in time whoever computed them (row t uses bars <= t), so a rewrite never changes an existing row.
    """

    bucket: str
    feature_set: FeatureSet
    read: BarReader
    materialized: list[str] = field(default_factory=list)
    read_from_store: list[str] = field(default_factory=list)

    def __call__(self, symbol: str) -> FeatureRows:
        fs = self.feature_set
        bars = self.read(symbol)
        ts = np.asarray(bars["ts"], dtype=np.int64)
        stored = feature_store.read_offline_rows(self.bucket, fs.name, fs.version, symbol, fs.columns)
        if len(ts) and (stored is None or len(stored[0]) == 0 or stored[0][-1] < ts[-1]):
            matrix = fs.compute(bars)
            feature_store.write_offline(
                self.bucket, fs.name, fs.version, symbol, ts, list(fs.columns), matrix
            )
            self.materialized.append(symbol)
            return ts, matrix
        self.read_from_store.append(symbol)
        return stored if stored is not None else (ts, np.empty((0, len(fs.columns))))


# ------------------------------------------------------------------------------------- data sets
@dataclass
class Dataset:
    columns: list[str]
    x: np.ndarray  # (n, F)
    y: np.ndarray  # 0/1
    weight: np.ndarray  # average uniqueness, mean 1
    t0: np.ndarray  # calendar position of the sample's bar
    t1: np.ndarray  # calendar position where its label is known
    symbol: np.ndarray  # index into symbols
    ret: np.ndarray  # label return (the side's for meta labels)
    side: np.ndarray  # primary side (meta) or 1
    symbols: list[str]
    calendar: np.ndarray  # int64 ns of every bar of any symbol
    close: np.ndarray  # (len(calendar), n_symbols) closes, NaN where a symbol has no bar

    def __len__(self) -> int:
        return len(self.y)


def _symbol_labels(
    request: TrainRequest, feature_set: FeatureSet, bars: SymbolBars, start_ns: int, symbol: str
) -> tuple[labeling.Labels, np.ndarray]:
    close = np.asarray(bars["close"], dtype=np.float64)
    spec = request.label
    if spec.horizon >= len(close):
        raise BadRequest(
            f"label horizon of {spec.horizon} bars is longer than the data: {symbol} has {len(close)} bars "
            f"up to {request.end or 'the last bar'}"
        )
    if feature_set.needs_volume and not np.any(np.isfinite(np.asarray(bars["volume"], dtype=np.float64))):
        raise BadRequest(
            f"feature set {feature_set.name} needs volume, and {symbol} has none (close-only data)"
        )
    ts = np.asarray(bars["ts"], dtype=np.int64)
    first = max(feature_set.warmup, int(np.searchsorted(ts, start_ns)))
    events = np.arange(first, len(close), request.event_step)
    side = np.ones(len(close))
    vol = labeling.ewma_volatility(close, spec.vol_span)
    if spec.kind == "fixed_horizon":
        labels = labeling.fixed_horizon(close, spec.horizon, spec.threshold)
        keep = np.isin(labels.t0, events)
        labels = labeling.Labels(*(getattr(labels, f)[keep] for f in ("t0", "t1", "ret", "label", "barrier")))
    elif spec.kind == "meta":
        side = metalabel.crossover_side(close, spec.primary_fast, spec.primary_slow)
        labels = labeling.triple_barrier(
            close, vol, spec.horizon, spec.profit_take, spec.stop_loss, events, side
        )
    else:
        labels = labeling.triple_barrier(close, vol, spec.horizon, spec.profit_take, spec.stop_loss, events)
    return labels, side


def _until(bars: SymbolBars, end_ns: int) -> dict[str, np.ndarray]:
    keep = np.asarray(bars["ts"], dtype=np.int64) <= end_ns
    return {name: np.asarray(values)[keep] for name, values in bars.items()}


def build_dataset(request: TrainRequest, read: BarReader, features: FeatureReader | None = None) -> Dataset:
    """Point-in-time training samples of every symbol, on one calendar.

    Labels come from the bars; each sample's features are the latest row of `features` (default: computed
    from the same bars) stamped at or before the sample's bar, via the domain's as_of_join.
    """
    from trade2026.services import marketdata_query as mq

    feature_set = feature_set_or_400(request.feature_set)
    features = features or computed_features(feature_set, read)
    start_ns = mq.parse_time(request.start, end_of_day=False, default=mq.EARLIEST_NS)
    end_ns = mq.parse_time(request.end, end_of_day=True, default=mq.LATEST_NS)
    if start_ns > end_ns:
        raise BadRequest(f"empty training window: start {request.start} is after end {request.end}")
    per_symbol = {symbol: _until(read(symbol), end_ns) for symbol in dict.fromkeys(request.symbols)}
    calendar = np.unique(np.concatenate([np.asarray(b["ts"], dtype=np.int64) for b in per_symbol.values()]))
    close_panel = np.full((len(calendar), len(per_symbol)), np.nan)
    parts: list[dict[str, np.ndarray]] = []
    for index, (symbol, bars) in enumerate(per_symbol.items()):
        ts = np.asarray(bars["ts"], dtype=np.int64)
        position = np.searchsorted(calendar, ts)
        close_panel[position, index] = bars["close"]
        if len(ts) == 0:
            continue
        labels, side = _symbol_labels(request, feature_set, bars, start_ns, symbol)
        if len(labels) == 0:
            continue
        feature_ts, rows = features(symbol)
        x = as_of_join(feature_ts, rows, ts[labels.t0])
        if request.label.kind == "meta":
            x = np.column_stack([x, side[labels.t0]])
        label = labels.label if request.label.kind == "meta" else (labels.label > 0).astype(np.float64)
        parts.append(
            {
                "x": x,
                "y": label,
                "t0": position[labels.t0],
                "t1": position[labels.t1],
                "weight": average_uniqueness(labels.t0, labels.t1, len(ts)),
                "ret": labels.ret,
                "side": side[labels.t0],
                "symbol": np.full(len(labels), index),
            }
        )
    if not parts:
        raise BadRequest(
            f"empty training window: no labelled samples between {request.start or 'the first bar'} and "
            f"{request.end or 'the last bar'} for {', '.join(request.symbols)} (the first "
            f"{feature_set.warmup} bars of a symbol are feature warm-up, the last {request.label.horizon} "
            "have no label yet)"
        )
    data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((data["symbol"], data["t0"]))  # time first: folds and splits are cut in time
    data = {key: values[order] for key, values in data.items()}
    columns = list(feature_set.columns) + (["primary_side"] if request.label.kind == "meta" else [])
    weight = data["weight"] / data["weight"].mean()
    return Dataset(
        columns,
        data["x"],
        data["y"],
        weight,
        data["t0"].astype(np.int64),
        data["t1"].astype(np.int64),
        data["symbol"].astype(np.int64),
        data["ret"],
        data["side"],
        list(per_symbol),
        calendar,
        close_panel,
    )


# ------------------------------------------------------------------------------------------ splits
Folds = list[tuple[np.ndarray, np.ndarray]]  # (train rows, test rows), indices into the training rows


@dataclass
class Split:
    train: np.ndarray
    validation: np.ndarray
    folds: Folds  # purged k-fold
    purged: int  # training candidates dropped by purge + embargo
    cpcv: Folds = field(default_factory=list)  # combinatorial purged CV, in CombinatorialPurgedCV order


def split_dataset(
    dataset: Dataset,
    validation_fraction: float,
    embargo_pct: float,
    cv_folds: int,
    cpcv: tuple[int, int] | None = None,
) -> Split:
    """The latest `validation_fraction` of sample dates validate; earlier samples train unless their label
    window reaches the validation period (purged) or starts within the embargo after it. `cpcv` is
    (N groups, k test groups) of a combinatorial purged CV over the training rows."""
    times = np.unique(dataset.t0)
    if len(times) < 10:
        raise BadRequest(f"empty training window: only {len(times)} sample dates, at least 10 are needed")
    cut = times[min(len(times) - 1, math.floor((1.0 - validation_fraction) * len(times)))]
    validation = np.flatnonzero(dataset.t0 >= cut)
    embargo = math.ceil(embargo_pct * len(times))
    train = np.flatnonzero(purge_mask(dataset.t0, dataset.t1, validation, embargo))
    if len(train) == 0 or len(np.unique(dataset.y[train])) < 2:
        raise BadRequest(
            "empty training window: after purging, the training set has too few samples or one class"
        )
    t0, t1 = dataset.t0[train], dataset.t1[train]
    folds: Folds = []
    if cv_folds >= 2:
        folds = list(PurgedKFold(cv_folds, embargo_pct).split(t0, t1))
    combinatorial: Folds = []
    if cpcv is not None and cpcv[0] > 0:
        try:
            combinatorial = list(CombinatorialPurgedCV(cpcv[0], cpcv[1], embargo_pct).split(t0, t1))
        except ValueError as exc:
            raise BadRequest(f"combinatorial purged CV: {exc}") from None
        if any(len(rows) == 0 for pair in combinatorial for rows in pair):
            raise BadRequest("combinatorial purged CV: a split has no training or no test rows after purging")
    return Split(train, validation, folds, int(len(dataset) - len(validation) - len(train)), combinatorial)


def request_split(dataset: Dataset, request: TrainRequest) -> Split:
    return split_dataset(
        dataset,
        request.validation_fraction,
        request.embargo_pct,
        request.cv_folds,
        (request.cpcv_groups, request.cpcv_test_groups),
    )


# ---------------------------------------------------------------------------------------- channels
def channel_npz(y: np.ndarray, weight: np.ndarray, x: np.ndarray) -> bytes:
    """A script-mode channel file: label, weight, features (float64, C order; NaN = missing)."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        label=np.asarray(y, dtype=np.float64),
        weight=np.asarray(weight, dtype=np.float64),
        features=np.ascontiguousarray(x, dtype=np.float64),
    )
    return buffer.getvalue()


def splits_npz(splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """CV splits for train.py: train_<i>, test_<i> row indices into the train channel."""
    arrays: dict[str, Any] = {}  # (Any: numpy's stubs type savez's **kwds against allow_pickle)
    for index, (train, test) in enumerate(splits):
        arrays[f"train_{index}"] = np.asarray(train, dtype=np.int64)
        arrays[f"test_{index}"] = np.asarray(test, dtype=np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
