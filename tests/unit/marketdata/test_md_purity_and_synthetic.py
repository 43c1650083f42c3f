"""The domain imports only numpy; the SYNTHETIC generator is seeded and coherent."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from trade2026.domain.marketdata import KIND_QUOTE, KIND_TRADE
from trade2026.domain.marketdata.synthetic import VALID, synthetic_feed


def test_importing_the_domain_loads_no_pandas_boto3_pydantic_or_data_packages() -> None:
    # Given a fresh interpreter / When the market-data domain and its generator are imported
    code = (
        "import sys, trade2026.domain.marketdata, trade2026.domain.marketdata.synthetic;"
        "print(','.join(m for m in ('pandas','boto3','botocore','pydantic','arch','skfolio','pyarrow')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then none of the heavy packages was loaded
    assert loaded.stdout.strip() == ""


def test_the_same_seed_gives_the_same_feed_and_another_seed_another() -> None:
    # Given / When two feeds are generated with the same seed and one with another
    first, again, other = (synthetic_feed(2_000, seed=s, malformed_share=0.05) for s in (1, 1, 2))
    # Then the same seed reproduces the records exactly
    assert first.records == again.records
    assert first.records != other.records


def test_synthetic_quotes_are_never_crossed_and_prices_stay_positive() -> None:
    # Given a clean feed
    feed = synthetic_feed(20_000, seed=3)
    truth = feed.truth
    quotes, trades = truth.kind == KIND_QUOTE, truth.kind == KIND_TRADE
    # When its ground truth is inspected / Then quotes have bid < ask and every price and size is positive
    assert (truth.bid[quotes] < truth.ask[quotes]).all()
    assert (truth.price[trades] > 0).all() and (truth.size[trades] > 0).all()
    assert (feed.expected == VALID).all()
    # And timestamps are within the session, before "now", and every venue emits records
    assert (truth.ts < feed.now_ns).all()
    assert set(truth.venue.tolist()) == {"XNYS", "XNAS", "BATS"}


def test_malformed_and_duplicate_shares_are_honoured() -> None:
    # Given a feed asking for 10% malformed records and 5% duplicates
    feed = synthetic_feed(10_000, seed=4, malformed_share=0.10, duplicate_share=0.05)
    # When the ground truth is counted / Then the shares are as asked
    values, counts = np.unique(feed.expected.astype(str), return_counts=True)
    count_of = dict(zip(values.tolist(), counts.tolist(), strict=True))
    assert count_of["duplicate"] == 500
    assert sum(c for v, c in count_of.items() if v not in ("", "duplicate")) == 950
    assert len(feed.records) == 10_000
