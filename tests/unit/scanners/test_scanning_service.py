"""The scanning service over an in-memory bar reader: bad input is a 4xx with the reason; the time machine's
response (matches, dates, forward returns, paths) is consistent with the data."""

from __future__ import annotations

import numpy as np
import pytest

from trade2026.domain import timemachine as tm
from trade2026.errors import BadRequest, NotFound, Unprocessable
from trade2026.services import scanning as svc


@pytest.fixture(scope="module")
def load(daily_columns) -> svc.PanelLoader:
    def read(symbol: str):
        if symbol not in daily_columns:
            raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
        return daily_columns[symbol]

    return svc.panel_loader(read, lambda: sorted(daily_columns))


def test_unknown_scanner_is_a_404_naming_the_known_ones(load):
    with pytest.raises(NotFound) as error:
        svc.run_scan("astrology", svc.ScanRequest(), load)
    assert "known: momentum_12_1, short_term_reversal" in error.value.message
    assert error.value.status == 404


@pytest.mark.parametrize(
    ("request_", "error", "words"),
    [
        (svc.ScanRequest(params={"period": 1}), Unprocessable, "period must be in [2, 200]; got 1"),
        (svc.ScanRequest(horizons=[0]), Unprocessable, "horizons must be between 1 and 252"),
        (
            svc.ScanRequest(as_of="1980-01-01"),
            BadRequest,
            "no bars on or before 1980-01-01: the data starts 1990",
        ),
        (svc.ScanRequest(as_of="yesterday"), BadRequest, "as_of: bad date 'yesterday'"),
        (svc.ScanRequest(symbols=["NOPE"]), BadRequest, "Unknown symbol 'NOPE'"),
        (
            svc.ScanRequest(params={"period": 200}, as_of="1990-06-29"),
            BadRequest,
            "the window is longer than the history: it needs 201 bars, the longest history up to 1990-06-29 has 126",
        ),
    ],
)
def test_bad_scan_requests_are_4xx_with_the_reason(load, request_, error, words):
    with pytest.raises(error) as raised:
        svc.run_scan("rsi_extremes", request_, load)
    assert words in raised.value.message


def test_a_scan_with_its_study(load):
    # Given 12-1 momentum over the universe on 2016-06-30 with its study
    result = svc.run_scan(
        "momentum_12_1", svc.ScanRequest(as_of="2016-06-30", study_start="2000-01-01"), load
    )
    # Then it has ranked hits with values, and a study per horizon with hit counts against the universe
    assert result["as_of"] == "2016-06-30" and result["hits_total"] == 8
    assert result["hits"][0]["values"]["return_12_1"] == result["hits"][0]["score"]
    study = result["study"]["horizons"]
    assert set(study) == {"1", "5", "20"}
    assert study["20"]["hits"] > 10_000 and study["20"]["universe_observations"] > study["20"]["hits"]
    assert result["study"]["first_date"] >= "2000-01-01"
    assert result["study"]["last_date"] <= "2016-06-30"


def test_bad_filters_are_422_with_the_allowed_fields(load):
    bad = svc.ScreenerRequest(filter={"field": "pe", "op": ">", "value": 1})
    with pytest.raises(Unprocessable) as raised:
        svc.run_screen(bad, None, load)
    assert "unknown field 'pe'" in raised.value.message
    assert "return_Nd" in raised.value.details["allowed"]


def test_time_machine_matches_with_their_forward_returns(load, daily_columns):
    # Given the S&P 500's 60 bars to 2018-06-29, searched across every symbol
    request = svc.TimeMachineRequest(symbol="^GSPC", end="2018-06-29", window=60, k=10, all_symbols=True)
    # When the matches are found
    result = svc.find_matches(request, load)
    # Then there are 10, in distance order, each ending at least 20 bars before the query's end
    assert result["query"]["end"] == "2018-06-29" and len(result["query"]["path"]) == 60
    matches = result["matches"]
    assert len(matches) == 10
    assert [m["distance"] for m in matches] == sorted(m["distance"] for m in matches)
    assert all(m["end"] < "2018-06-01" for m in matches)
    # And each distance and forward return equals the definition on that symbol's closes
    for match in matches[:3]:
        columns = daily_columns[match["symbol"]]
        dates = columns["date"].astype(str)
        start, end = int(np.searchsorted(dates, match["start"])), int(np.searchsorted(dates, match["end"]))
        close = columns["close"]
        query = daily_columns["^GSPC"]["close"][
            np.searchsorted(daily_columns["^GSPC"]["date"].astype(str), result["query"]["start"]) :
        ][:60]
        assert end - start == 59
        assert match["distance"] == pytest.approx(
            tm.brute_force_distances(query, close[start : end + 1])[0], abs=1e-6
        )
        assert match["forward_returns"]["20"] == pytest.approx(close[end + 20] / close[end] - 1, rel=1e-12)
    # And the distribution counts every match's known forward return
    assert result["forward"]["20"]["count"] == 10
    assert result["forward"]["5"]["mean"] == pytest.approx(
        np.mean([m["forward_returns"]["5"] for m in matches])
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"window": 900, "end": "1999-06-30"},
            "window of 900 bars is longer than the history of ^GSPC: 124 bars up to 1999-06-30",
        ),
        ({"symbol": "NOPE"}, "Unknown symbol 'NOPE'"),
        ({"metric": "dtw", "all_symbols": True}, "DTW is for small searches"),
    ],
)
def test_bad_time_machine_requests_are_400_with_the_reason(load, change, words):
    request = svc.TimeMachineRequest(**({"symbol": "^GSPC"} | change))
    with pytest.raises(BadRequest) as raised:
        svc.find_matches(request, load)
    assert words in raised.value.message


def test_dtw_time_machine_on_a_small_search(load):
    # Given a 30-bar window of the NASDAQ searched in its own 1999-2001 history with DTW
    request = svc.TimeMachineRequest(
        symbol="^IXIC", end="2001-12-31", window=30, k=3, metric="dtw", paths=False
    )
    result = svc.find_matches(request, load)
    # Then three matches come back, in distance order, with far fewer DTW evaluations than candidates
    assert [m["rank"] for m in result["matches"]] == [1, 2, 3]
    assert result["dtw_evaluated"] < result["candidates"]
    assert "path" not in result["matches"][0]
