"""`trade2026 ingest --source <file> --symbol S`: a user's daily CSV/Parquet file, through the CLI, read back over HTTP.

Each test files its data under a symbol of its own, so that "nothing was written" can be checked exactly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BARS = "/v1/marketdata/bars"
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"
# Nine sessions over a year end (two lake partitions), with a holiday gap.
VALID_ROWS = [
    "2018-12-24,101.5,102.25,99.75,100.0,98.1,120000",
    "2018-12-26,100.0,105.5,99.5,105.25,103.2,310000",
    "2018-12-27,105.25,106.0,102.0,103.5,101.5,250500",
    "2018-12-28,103.5,104.75,103.0,104.0,102.0,180250",
    "2018-12-31,104.0,104.5,101.125,101.5,99.55,90000",
    "2019-01-02,101.5,103.0,100.25,102.75,100.8,205000",
    "2019-01-03,102.75,102.75,97.0,97.5,95.6,400000",
    "2019-01-04,97.5,101.0,97.25,100.5,98.6,333000",
    "2019-01-07,100.5,101.75,100.0,101.0,99.05,150000",
]


def ingest_file(cloud: Any, path: Path, symbol: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does (wide console, so that messages are not wrapped)."""
    command = [sys.executable, "-m", "localcloud", "ingest", "--source", str(path), "--symbol", symbol]
    return subprocess.run(
        [*command, "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def expected_bars(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The API rows a daily file must come back as (no vwap or trade count in daily data)."""
    return [
        {
            "ts": f"{pd.Timestamp(row['Date']):%Y-%m-%d}T00:00:00.000Z",
            "open": float(row["Open"]),
            "high": float(row["High"]),
            "low": float(row["Low"]),
            "close": float(row["Close"]),
            "volume": float(row["Volume"]),
            "vwap": None,
            "trades": None,
            "adj_close": float(row["Adj Close"]),
        }
        for row in frame.to_dict("records")
    ]


def bars_of(cloud: Any, token: str, symbol: str, **params: Any) -> list[dict[str, Any]]:
    response = cloud.get(BARS, token, params={"symbol": symbol, **params})
    assert response.status_code == 200, response.text
    return response.json()["bars"]


def symbols(cloud: Any, token: str) -> dict[str, dict[str, Any]]:
    response = cloud.get("/v1/marketdata/symbols", token)
    assert response.status_code == 200, response.text
    return {entry["symbol"]: entry for entry in response.json()["symbols"]}


def lake_keys(cloud: Any, symbol: str) -> list[str]:
    state = json.loads((cloud.state_dir / "state.json").read_text())
    outputs = next(s["outputs"] for name, s in state["stacks"].items() if name.startswith("trade2026-"))
    prefix = f"marketdata/bars_1d/symbol={symbol}/"
    listing = cloud.client("s3").list_objects_v2(Bucket=outputs["LakeBucketName"], Prefix=prefix)
    return [obj["Key"] for obj in listing.get("Contents", [])]


# ---------------------------------------------------------------------- valid files
def test_a_csv_file_is_served_with_its_values(cloud: Any, trader_token: str, tmp_path: Path) -> None:
    # Given a small daily CSV with Yahoo-style column names
    path = write_csv(tmp_path / "myco.csv", HEADER, VALID_ROWS)
    # When it is ingested under MYCO
    result = ingest_file(cloud, path, "MYCO")
    # Then the CLI succeeds and the API serves every row with its values, registry and last bar included
    assert result.returncode == 0, result.stdout + result.stderr
    expected = expected_bars(pd.read_csv(path))
    assert bars_of(cloud, trader_token, "MYCO") == expected
    entry = symbols(cloud, trader_token)["MYCO"]
    assert entry["datasets"]["bars_1d"] == {"bars": 9, "first": expected[0]["ts"], "last": expected[-1]["ts"]}
    assert (entry["source"], entry["synthetic"], entry["has_ohlc"], entry["has_volume"]) == (
        "import", False, True, True,
    )  # fmt: skip
    quote = cloud.get("/v1/marketdata/quotes/MYCO", trader_token).json()
    assert quote["last_bar"] == expected[-1]


def test_a_parquet_file_is_served_with_its_values(cloud: Any, trader_token: str, tmp_path: Path) -> None:
    # Given the same data as a Parquet file with lower-case column names and real timestamps
    frame = pd.read_csv(write_csv(tmp_path / "rows.csv", HEADER, VALID_ROWS), parse_dates=["Date"])
    path = tmp_path / "myco.parquet"
    frame.rename(columns={"Adj Close": "adj_close"}).rename(columns=str.lower).to_parquet(path)
    # When it is ingested under MYCOPQ
    result = ingest_file(cloud, path, "MYCOPQ")
    # Then the API serves the same bars, and a weekly resample of them too
    assert result.returncode == 0, result.stdout + result.stderr
    assert bars_of(cloud, trader_token, "MYCOPQ") == expected_bars(frame)
    weeks = bars_of(cloud, trader_token, "MYCOPQ", interval="1w")
    assert [(w["ts"], w["open"], w["high"], w["low"], w["close"], w["volume"]) for w in weeks] == [
        ("2018-12-24T00:00:00.000Z", 101.5, 106.0, 99.5, 104.0, 860750.0),
        ("2018-12-31T00:00:00.000Z", 104.0, 104.5, 97.0, 100.5, 1028000.0),
        ("2019-01-07T00:00:00.000Z", 100.5, 101.75, 100.0, 101.0, 150000.0),
    ]


def test_sessions_before_1970_are_served(cloud: Any, trader_token: str, tmp_path: Path) -> None:
    # Given a valid file of 1965 sessions (long histories, e.g. indices, start well before the Unix epoch)
    rows = [
        "1965-01-04,84.23,85.0,83.5,84.23,84.23,3930000",
        "1965-01-05,84.23,85.5,84.0,85.37,85.37,4110000",
    ]
    path = write_csv(tmp_path / "oldco.csv", HEADER, rows)
    # When ingested (accepted and registered)
    result = ingest_file(cloud, path, "OLDCO")
    assert result.returncode == 0, result.stdout + result.stderr
    assert symbols(cloud, trader_token)["OLDCO"]["datasets"]["bars_1d"]["bars"] == 2
    # Then the API serves them, with or without an explicit start
    expected = expected_bars(pd.read_csv(path))
    assert bars_of(cloud, trader_token, "OLDCO", start="1965-01-01") == expected
    assert bars_of(cloud, trader_token, "OLDCO") == expected


def test_importing_again_replaces_the_symbols_bars(cloud: Any, trader_token: str, tmp_path: Path) -> None:
    # Given REPLCO imported from a file spanning 2018 and 2019
    first = write_csv(tmp_path / "first.csv", HEADER, VALID_ROWS)
    assert ingest_file(cloud, first, "REPLCO").returncode == 0
    # When a corrected file holding only 2019 sessions is imported under the same symbol
    corrected = [
        "2019-01-02,51.0,52.0,50.0,51.5,50.5,1000",
        "2019-01-03,51.5,51.5,48.5,49.0,48.0,2000",
        "2019-01-04,49.0,50.5,48.75,50.25,49.25,3000",
    ]
    second = write_csv(tmp_path / "second.csv", HEADER, corrected)
    result = ingest_file(cloud, second, "REPLCO")
    # Then the API serves exactly the second file, as the registry says
    assert result.returncode == 0, result.stdout + result.stderr
    expected = expected_bars(pd.read_csv(second))
    assert symbols(cloud, trader_token)["REPLCO"]["datasets"]["bars_1d"]["bars"] == len(expected) == 3
    assert bars_of(cloud, trader_token, "REPLCO") == expected


# ---------------------------------------------------------------------- invalid files
@pytest.mark.parametrize(
    ("symbol", "header", "rows", "words"),
    [
        ("BADNEG", HEADER, [VALID_ROWS[0], "2018-12-26,100.0,105.5,-1.0,105.25,103.2,1000"], "positive"),
        ("BADHL", HEADER, [VALID_ROWS[0], "2018-12-26,100.0,99.0,101.0,100.5,100.5,1000"], "high must be >="),
        ("BADORDER", HEADER, [VALID_ROWS[1], VALID_ROWS[0], VALID_ROWS[2]], "strictly increasing"),
        ("BADDUP", HEADER, [VALID_ROWS[0], VALID_ROWS[1], VALID_ROWS[1]], "strictly increasing"),
        (
            "BADCOLS",
            "Date,Open,High,Low,Volume",
            ["2018-12-24,101.5,102.25,99.75,120000"],
            "no 'close' column",
        ),
    ],
    ids=["negative-price", "high-below-low", "unsorted-dates", "duplicate-dates", "missing-close"],
)
def test_an_invalid_file_is_refused_and_nothing_is_written(
    cloud: Any, trader_token: str, tmp_path: Path, symbol: str, header: str, rows: list[str], words: str
) -> None:
    # Given a daily file with one defect
    path = write_csv(tmp_path / f"{symbol.lower()}.csv", header, rows)
    # When it is ingested
    result = ingest_file(cloud, path, symbol)
    # Then the CLI exits 2 with a message naming the file and the defect, without a traceback
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert re.search(rf"{re.escape(path.name)}: .*{re.escape(words)}", output), output
    assert "Traceback" not in output
    # And nothing was written: the symbol is unknown to the API and has no file in the lake
    assert symbol not in symbols(cloud, trader_token)
    response = cloud.get(BARS, trader_token, params={"symbol": symbol})
    assert response.status_code == 400 and "Unknown symbol" in response.json()["message"]
    assert cloud.get(f"/v1/marketdata/quotes/{symbol}", trader_token).status_code == 404
    assert lake_keys(cloud, symbol) == []
