"""The point-in-time training-set builder on the offline store: feature rows come from the store (Parquet in S3,
moto in process) and are as-of joined to the labels; future data changes nothing at or before t."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import numpy as np
import pytest
from moto import mock_aws

from trade2026.adapters import feature_store
from trade2026.adapters.aws import client
from trade2026.domain.ml.features import get_feature_set
from trade2026.services import ml_dataset as ml

LAKE = "lake"
SYMBOLS = ["AAPL", "JPM", "XOM"]
FEATURES = get_feature_set("alpha_v1")


@pytest.fixture
def s3() -> Iterator[None]:
    client.cache_clear()
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=LAKE)
        yield
    client.cache_clear()


def _reader(data: dict[str, dict[str, np.ndarray]]) -> ml.BarReader:
    return lambda symbol: data[symbol]


def _request(**overrides: object) -> ml.TrainRequest:
    body = {"symbols": SYMBOLS, "start": "2005-01-01", "end": "2022-12-28", "event_step": 3} | overrides
    return ml.TrainRequest.model_validate(body)


def _sample_keys(dataset: ml.Dataset) -> list[tuple[int, int]]:
    return list(zip(dataset.symbol.tolist(), dataset.calendar[dataset.t0].tolist(), strict=True))


def test_the_builder_reads_the_offline_store_and_joins_rows_as_of_each_sample(
    s3: None, stocks20: dict[str, dict[str, np.ndarray]]
) -> None:
    # Given an offline store whose rows are NOT what the bars compute (so reading it can be told apart)
    rng = np.random.default_rng(3)
    stored = {}
    for symbol in SYMBOLS:
        ts = stocks20[symbol]["ts"]
        stored[symbol] = rng.normal(size=(len(ts), len(FEATURES.columns)))
        feature_store.write_offline(LAKE, FEATURES.name, FEATURES.version, symbol, ts, list(FEATURES.columns),
                                    stored[symbol])  # fmt: skip
    store = ml.OfflineFeatures(LAKE, FEATURES, _reader(stocks20))

    # When the training set is built on it
    dataset = ml.build_dataset(_request(), _reader(stocks20), store)

    # Then every sample's features are the stored row of its own bar, and nothing was recomputed
    assert store.read_from_store == SYMBOLS and store.materialized == []
    for index, symbol in enumerate(SYMBOLS):
        rows = dataset.symbol == index
        position = np.searchsorted(stocks20[symbol]["ts"], dataset.calendar[dataset.t0[rows]])
        np.testing.assert_array_equal(dataset.x[rows], stored[symbol][position])


def test_a_store_without_a_symbols_rows_is_materialized_from_the_bars_once(
    s3: None, stocks20: dict[str, dict[str, np.ndarray]]
) -> None:
    # Given an empty offline store
    read = _reader(stocks20)
    first = ml.OfflineFeatures(LAKE, FEATURES, read)

    # When a training set is built, then built again with a fresh reader
    built = ml.build_dataset(_request(), read, first)
    second = ml.OfflineFeatures(LAKE, FEATURES, read)
    again = ml.build_dataset(_request(), read, second)

    # Then the first build materialized every symbol (rows equal to the feature set computed from the bars)
    assert first.materialized == SYMBOLS and second.materialized == [] and second.read_from_store == SYMBOLS
    stored = feature_store.read_offline_rows(LAKE, FEATURES.name, FEATURES.version, "JPM", FEATURES.columns)
    assert stored is not None
    np.testing.assert_array_equal(stored[0], stocks20["JPM"]["ts"])
    np.testing.assert_array_equal(stored[1], FEATURES.compute(stocks20["JPM"]))
    # And the second one, read from the store, is the same training set, equal to one computed in memory
    np.testing.assert_array_equal(again.x, built.x)
    np.testing.assert_array_equal(ml.build_dataset(_request(), read).x, built.x)

    # When the store ends before the bars do (stale), Then the symbol is materialized again
    short = {symbol: {k: v[:-100] for k, v in bars.items()} for symbol, bars in stocks20.items()}
    feature_store.write_offline(LAKE, FEATURES.name, FEATURES.version, "XOM", short["XOM"]["ts"],
                                list(FEATURES.columns), FEATURES.compute(short["XOM"]))  # fmt: skip
    third = ml.OfflineFeatures(LAKE, FEATURES, read)
    third("XOM")
    assert third.materialized == ["XOM"]
    assert feature_store.read_offline_rows(LAKE, FEATURES.name, FEATURES.version, "XOM", FEATURES.columns)[0][
        -1
    ] == int(stocks20["XOM"]["ts"][-1])


def test_shifting_future_data_changes_no_training_row_at_or_before_t(
    stocks20: dict[str, dict[str, np.ndarray]],
) -> None:
    # Given the store and bars as they are, and a copy where everything after t is shifted and altered:
    # closes after t scaled at random, the store's rows after t moved one bar earlier and perturbed
    cut = np.datetime64("2015-06-30", "ns").astype(np.int64)
    rng = np.random.default_rng(11)
    original = {symbol: stocks20[symbol] for symbol in SYMBOLS}
    shifted_bars: dict[str, dict[str, np.ndarray]] = {}
    shifted_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for symbol, bars in original.items():
        after = bars["ts"] > cut
        altered = {name: np.array(values, copy=True) for name, values in bars.items()}
        altered["close"][after] *= rng.uniform(0.5, 1.5, after.sum())
        shifted_bars[symbol] = altered
        rows = FEATURES.compute(bars)
        moved = rows.copy()
        moved[after] = np.roll(rows, -1, axis=0)[after] + rng.normal(size=(after.sum(), rows.shape[1]))
        shifted_rows[symbol] = (bars["ts"], moved)

    # When the training sets are built from each
    request = _request(event_step=1, label={"kind": "triple_barrier", "horizon": 10})
    before = ml.build_dataset(request, _reader(original), ml.computed_features(FEATURES, _reader(original)))
    after = ml.build_dataset(request, _reader(shifted_bars), shifted_rows.__getitem__)

    # Then every sample at or before t has the same features, and every label known by t is the same
    keys_before, keys_after = _sample_keys(before), _sample_keys(after)
    index_after = {key: i for i, key in enumerate(keys_after)}
    early = [i for i, (_, ts) in enumerate(keys_before) if ts <= cut]
    assert len(early) > 5_000
    matched = np.array([index_after[keys_before[i]] for i in early])
    np.testing.assert_array_equal(after.x[matched], before.x[early])
    known = [(i, j) for i, j in zip(early, matched, strict=True) if before.calendar[before.t1[i]] <= cut]
    assert len(known) > 5_000
    for name in ("y", "ret"):
        np.testing.assert_array_equal(getattr(after, name)[[j for _, j in known]],
                                      getattr(before, name)[[i for i, _ in known]])  # fmt: skip
    # And some later rows did change (the alteration is real)
    late = [i for i, (_, ts) in enumerate(keys_before) if ts > cut and keys_before[i] in index_after]
    assert not np.array_equal(after.x[[index_after[keys_before[i]] for i in late]], before.x[late])


def test_a_missing_row_takes_the_previous_one_never_a_later_one(
    stocks20: dict[str, dict[str, np.ndarray]],
) -> None:
    # Given a store that lacks AAPL's row of one sample bar, and whose next row is poisoned
    read = _reader({"AAPL": stocks20["AAPL"]})
    ts, rows = ml.computed_features(FEATURES, read)("AAPL")
    request = _request(symbols=["AAPL"], event_step=1)
    full = ml.build_dataset(request, read, lambda _: (ts, rows))
    gap = int(np.searchsorted(ts, full.calendar[full.t0[100]]))
    poisoned = rows.copy()
    poisoned[gap + 1] = 1e9
    keep = np.arange(len(ts)) != gap

    # When the training set is built on it
    dataset = ml.build_dataset(request, read, lambda _: (ts[keep], poisoned[keep]))

    # Then that sample holds the row before its bar, and no sample holds the poisoned row before its time
    np.testing.assert_array_equal(dataset.x[100], rows[gap - 1])
    assert not np.any(dataset.x[:101] == 1e9)
