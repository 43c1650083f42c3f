"""The market data API over HTTP against the local cloud, after `trade2026 ingest` loaded the real daily data.

Expected values come straight from the packages that ship the data (arch: S&P 500; skfolio: 20 stocks),
never from the platform's own loader, so a defect anywhere between the package and the HTTP answer shows.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BARS = "/v1/marketdata/bars"
# API column -> column of arch's S&P 500 frame
ARCH_COLUMNS = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}
SP500_BARS = 5031


def ingest(cloud: Any, source: str) -> None:
    """Load a daily source the way users do: the `trade2026 ingest` CLI against the running cloud."""
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "ingest", "--source", source, "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"trade2026 ingest --source {source} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="module")
def sp500(cloud: Any) -> pd.DataFrame:
    """The S&P 500 loaded into the platform; returns arch's own frame, the reference."""
    from arch.data import sp500 as arch_sp500

    ingest(cloud, "sp500")
    return arch_sp500.load()


@pytest.fixture(scope="module")
def aapl(cloud: Any) -> pd.Series:
    """The 20 stocks loaded into the platform; returns skfolio's AAPL prices, the reference."""
    from skfolio.datasets import load_sp500_dataset

    ingest(cloud, "stocks20")
    return load_sp500_dataset()["AAPL"].dropna()


@pytest.fixture(scope="module")
def sp500_daily(cloud: Any, trader_token: str, sp500: pd.DataFrame) -> list[dict[str, Any]]:
    """Every daily SP500 bar, in one JSON page."""
    response = cloud.get(BARS, trader_token, params={"symbol": "SP500", "limit": 10_000})
    assert response.status_code == 200, response.text
    return response.json()["bars"]


def api_ts(index: pd.Index) -> list[str]:
    return [f"{moment:%Y-%m-%d}T00:00:00.000Z" for moment in pd.DatetimeIndex(index)]


def column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    return np.array([row[name] for row in rows], dtype=np.float64)  # null -> NaN


def assert_same_as_arch(rows: list[dict[str, Any]], expected: pd.DataFrame) -> None:
    """Same sessions in the same order, every OHLCV and adjusted close value equal (to 1e-9 relative)."""
    assert [row["ts"] for row in rows] == api_ts(expected.index)
    for name, arch_name in ARCH_COLUMNS.items():
        np.testing.assert_allclose(
            column(rows, name),
            expected[arch_name].to_numpy(dtype=np.float64),
            rtol=1e-9,
            atol=0,
            err_msg=name,
        )


def unknown_as_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


# ---------------------------------------------------------------------- daily bars
def test_sp500_daily_bars_equal_arch_data(sp500: pd.DataFrame, sp500_daily: list[dict[str, Any]]) -> None:
    # Given the S&P 500 ingested from arch
    # When every daily bar is requested (sp500_daily)
    # Then all 5,031 sessions 1999-01-04..2018-12-31 come back with arch's exact values
    assert len(sp500_daily) == len(sp500) == SP500_BARS
    assert (sp500_daily[0]["ts"], sp500_daily[-1]["ts"]) == (
        "1999-01-04T00:00:00.000Z",
        "2018-12-31T00:00:00.000Z",
    )
    assert_same_as_arch(sp500_daily, sp500)
    assert all(row["vwap"] is None and row["trades"] is None for row in sp500_daily)  # unknown for daily data


def test_pagination_returns_every_bar_once_in_order(
    cloud: Any, trader_token: str, sp500: pd.DataFrame, sp500_daily: list[dict[str, Any]]
) -> None:
    # Given pages of 1,000 bars
    walked: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    # When the client follows next_token until there is none
    while True:
        params = {"symbol": "SP500", "limit": 1000, **({"next_token": token} if token else {})}
        response = cloud.get(BARS, trader_token, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == len(page["bars"]) <= 1000
        assert response.headers.get("X-Next-Token") == page["next_token"]
        walked += page["bars"]
        token, pages = page["next_token"], pages + 1
        if token is None or pages > 10:
            break
    # Then 6 pages hold every bar exactly once, in order, with the values of the single-page answer
    assert pages == 6
    assert walked == sp500_daily
    assert_same_as_arch(walked, sp500)


def test_a_date_range_returns_exactly_its_sessions(
    cloud: Any, trader_token: str, sp500: pd.DataFrame
) -> None:
    # Given start and end dates (both inclusive)
    params = {"symbol": "SP500", "start": "2008-09-02", "end": "2008-09-30"}
    # When requested
    response = cloud.get(BARS, trader_token, params=params)
    # Then exactly arch's sessions of September 2008 come back
    assert response.status_code == 200, response.text
    assert_same_as_arch(response.json()["bars"], sp500.loc["2008-09-02":"2008-09-30"])


# ---------------------------------------------------------------------- resampling
def pandas_resample(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Independent reference: buckets [start, next start) labelled by their start, empty ones dropped."""
    rules = {
        "Open": "first",
        "High": "max",
        "Low": "min",
        "Close": "last",
        "Adj Close": "last",
        "Volume": "sum",
    }
    resampled = frame.resample(rule, label="left", closed="left").agg(rules)
    return resampled.dropna(subset=["Open"])


@pytest.mark.parametrize(
    ("interval", "rule", "buckets"),
    [("1w", "W-MON", 1044), ("1mo", "MS", 240)],  # weeks start Monday 00:00 UTC, months on the 1st
)
def test_resampled_bars_equal_a_pandas_resample(
    cloud: Any, trader_token: str, sp500: pd.DataFrame, interval: str, rule: str, buckets: int
) -> None:
    # Given arch's daily data resampled by pandas
    expected = pandas_resample(sp500, rule)
    # When the API resamples the same bars
    response = cloud.get(
        BARS, trader_token, params={"symbol": "SP500", "interval": interval, "limit": 10_000}
    )
    # Then the bars are the same, with first/max/min/last/sum semantics
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["interval"] == interval
    assert len(page["bars"]) == len(expected) == buckets
    assert_same_as_arch(page["bars"], expected)


def test_a_week_starting_before_the_requested_start_is_complete(cloud: Any, trader_token: str) -> None:
    # Given a weekly request that starts on a Wednesday
    params = {"symbol": "SP500", "interval": "1w", "start": "2018-12-05", "end": "2018-12-31"}
    # When requested, and the same weeks requested over the whole history
    partial = cloud.get(BARS, trader_token, params=params).json()["bars"]
    whole = cloud.get(
        BARS, trader_token, params={"symbol": "SP500", "interval": "1w", "limit": 10_000}
    ).json()
    # Then the first week is the whole week of Monday 2018-12-03, as in the full answer
    assert partial[0]["ts"] == "2018-12-03T00:00:00.000Z"
    assert partial == [bar for bar in whole["bars"] if bar["ts"] >= "2018-12-03"]


# ---------------------------------------------------------------------- file formats
def csv_cell(name: str, text: str) -> Any:
    if text == "":
        return None  # unknown
    if name == "ts":
        return text
    return int(text) if name == "trades" else float(text)


def test_csv_download_holds_the_json_bars(
    cloud: Any, trader_token: str, sp500_daily: list[dict[str, Any]]
) -> None:
    # When every bar is downloaded as CSV
    response = cloud.get(BARS, trader_token, params={"symbol": "SP500", "format": "csv", "limit": 50_000})
    # Then it is a CSV file with the JSON bars (empty cells for unknown values)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [{name: csv_cell(name, text) for name, text in row.items()} for row in rows] == sp500_daily


def test_parquet_download_holds_the_json_bars(
    cloud: Any, trader_token: str, sp500_daily: list[dict[str, Any]]
) -> None:
    # When every bar is downloaded as Parquet, as a client asking for that media type does
    response = requests.get(
        f"{cloud.api_url}{BARS}",
        params={"symbol": "SP500", "format": "parquet", "limit": "50000"},
        headers={"Authorization": trader_token, "Accept": "application/vnd.apache.parquet"},
        timeout=60,
    )
    # Then the body is a Parquet file (not base64 text) holding the JSON bars
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/vnd.apache.parquet"
    assert response.content[:4] == b"PAR1", f"not a Parquet file: {response.content[:24]!r}"
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == len(sp500_daily)
    assert set(table.column("symbol").to_pylist()) == {"SP500"}
    expected_ns = [
        int(np.datetime64(bar["ts"].removesuffix("Z"), "ns").astype(np.int64)) for bar in sp500_daily
    ]
    assert table.column("ts").cast(pa.int64()).to_pylist() == expected_ns
    for name in ("open", "high", "low", "close", "volume", "vwap", "adj_close"):
        values = [unknown_as_none(v) for v in table.column(name).to_pylist()]
        assert values == [bar[name] for bar in sp500_daily], name


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"symbol": "NOSUCH"}, 400, "Unknown symbol 'NOSUCH'"),
        ({"symbol": "SP500", "interval": "7x"}, 400, "bad interval '7x'"),
        ({"symbol": "SP500", "interval": "1h"}, 400, "Interval 1h cannot be built"),
        ({"symbol": "SP500", "start": "2010-01-02", "end": "2009-01-01"}, 400, "start is after end"),
        ({"symbol": "SP500", "start": "2010-13-45"}, 400, "Bad date '2010-13-45'"),
        ({"symbol": "SP500", "end": "yesterday"}, 400, "Bad date 'yesterday'"),
        ({"symbol": "SP500", "next_token": "not-a-token"}, 400, "Bad next_token"),
        ({"symbol": "SP500", "next_token": "W10="}, 400, "Bad next_token"),  # valid base64 of "[]"
        ({"symbol": "SP500", "limit": 10_001}, 400, "at most 10000"),
        # Out of the schema's bounds: the platform answers these 422 validation_error (tests/integration/
        # test_bad_input.py), naming the parameter.
        ({"symbol": "SP500", "format": "csv", "limit": 50_001}, 422, "query.limit"),
        ({"symbol": "SP500", "limit": 0}, 422, "query.limit"),
        ({"symbol": "SP500", "format": "xml"}, 422, "query.format"),
    ],
)
def test_bad_bar_requests_get_a_clear_4xx(
    cloud: Any, trader_token: str, sp500: pd.DataFrame, params: dict[str, Any], status: int, words: str
) -> None:
    # Given a request with one defect, When sent, Then the status and the message say what is wrong
    response = cloud.get(BARS, trader_token, params=params)
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


@pytest.mark.parametrize(("start", "end"), [("1600-01-01", "2018-12-31"), ("1999-01-04", "9999-12-31")])
def test_far_dates_are_clamped_or_refused_never_a_500(
    cloud: Any, trader_token: str, sp500: pd.DataFrame, start: str, end: str
) -> None:
    # Given a range reaching beyond what nanosecond timestamps hold (1677..2262)
    response = cloud.get(
        BARS, trader_token, params={"symbol": "SP500", "start": start, "end": end, "limit": 10_000}
    )
    # Then either all bars come back (the range is clamped) or a 400 names the date
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["count"] == SP500_BARS
    else:
        message = response.json()["message"]
        assert start in message or end in message, message


@pytest.mark.parametrize(
    "path", [f"{BARS}?symbol=SP500", "/v1/marketdata/symbols", "/v1/marketdata/quotes/SP500"]
)
@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_market_data_needs_a_valid_token(
    cloud: Any, sp500: pd.DataFrame, path: str, token: str | None
) -> None:
    # Given no token or a forged one, When market data is requested, Then 401 with a message
    response = cloud.get(path, token)
    assert response.status_code == 401, response.text
    assert response.json()["message"]


def test_quotes_of_an_unknown_symbol_are_404(cloud: Any, trader_token: str) -> None:
    response = cloud.get("/v1/marketdata/quotes/NOSUCH", trader_token)
    assert response.status_code == 404, response.text
    assert "Unknown symbol 'NOSUCH'" in response.json()["message"]


# ---------------------------------------------------------------------- symbols and quotes
def symbol_entry(cloud: Any, token: str, symbol: str) -> dict[str, Any]:
    response = cloud.get("/v1/marketdata/symbols", token)
    assert response.status_code == 200, response.text
    entries = {entry["symbol"]: entry for entry in response.json()["symbols"]}
    assert symbol in entries, sorted(entries)
    return entries[symbol]


def test_symbols_list_sp500_with_its_range_and_count(
    cloud: Any, trader_token: str, sp500: pd.DataFrame
) -> None:
    # When the symbols are listed, Then SP500 shows arch's range and bar count, real (not synthetic) OHLCV data
    entry = symbol_entry(cloud, trader_token, "SP500")
    first, last = api_ts(sp500.index[[0, -1]])
    assert entry["datasets"] == {"bars_1d": {"bars": len(sp500), "first": first, "last": last}}
    assert (entry["asset_class"], entry["source"], entry["synthetic"]) == ("index", "arch", False)
    assert entry["has_ohlc"] and entry["has_volume"]


def test_quote_view_of_sp500_is_its_last_daily_bar(
    cloud: Any, trader_token: str, sp500: pd.DataFrame
) -> None:
    # When the latest quote of SP500 is requested
    response = cloud.get("/v1/marketdata/quotes/SP500", trader_token)
    # Then there is no live quote, and the last bar is arch's session of 2018-12-31
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["quote"] is None and view["synthetic"] is False
    assert_same_as_arch([view["last_bar"]], sp500.iloc[[-1]])
    assert view["last_bar"]["ts"] == "2018-12-31T00:00:00.000Z"


# ---------------------------------------------------------------------- stocks20 (close-only)
def test_aapl_daily_bars_equal_skfolio_prices(cloud: Any, trader_token: str, aapl: pd.Series) -> None:
    # Given skfolio's 20 stocks ingested (adjusted closes only)
    # When AAPL's daily bars are requested
    response = cloud.get(BARS, trader_token, params={"symbol": "AAPL", "limit": 10_000})
    # Then every session is there with open = high = low = close = adj_close = skfolio's price, volume unknown
    assert response.status_code == 200, response.text
    bars = response.json()["bars"]
    assert [bar["ts"] for bar in bars] == api_ts(aapl.index)
    for name in ("open", "high", "low", "close", "adj_close"):
        np.testing.assert_allclose(column(bars, name), aapl.to_numpy(), rtol=1e-9, atol=0, err_msg=name)
    assert all(bar["volume"] is None for bar in bars)
    entry = symbol_entry(cloud, trader_token, "AAPL")
    assert entry["datasets"]["bars_1d"]["bars"] == len(aapl)
    assert (entry["source"], entry["has_ohlc"], entry["has_volume"]) == ("skfolio", False, False)
