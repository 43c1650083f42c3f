"""The twelve scanners on real data: no look-ahead (hits and studies), values equal TA-Lib or the hand
computation, close-only symbols skipped with a reason, studies equal a loop over the hits."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from trade2026.domain import scanners as sc

AS_OF = "2016-06-30"
CUT = "2008-06-30"  # the look-ahead tests cut the data here and append the rest
FAST_TM = {"step": 63, "k": 5}  # the time machine's study grid kept coarse to keep the suite fast


@pytest.fixture(scope="module")
def small(panel) -> sc.Panel:
    """Eight symbols (six close-only stocks, the two OHLCV indices) for the costlier checks."""
    keep = [0, 3, 7, 10, 14, 19, 20, 21]
    return sc.Panel(
        tuple(panel.symbols[j] for j in keep), panel.dates, panel.open[:, keep], panel.high[:, keep],
        panel.low[:, keep], panel.close[:, keep], panel.volume[:, keep], panel.has_range[keep],
        panel.has_volume[keep],
    )  # fmt: skip


def _params(name: str) -> dict:
    scanner = sc.SCANNERS[name]
    return scanner.validate(FAST_TM if name == "time_machine" else {})


def test_the_panel_knows_which_symbols_have_ranges_and_volume(panel):
    # Given the 20 close-only stocks and the two OHLCV indices on one calendar
    # Then only the indices have ranges and volume, and the calendar is the union of the dates
    assert panel.close.shape == (8313, 22)
    flagged = {s for s, r, v in zip(panel.symbols, panel.has_range, panel.has_volume, strict=True) if r and v}
    assert flagged == {"^GSPC", "^IXIC"}
    assert not panel.has_range[:20].any() and not panel.has_volume[:20].any()


@pytest.mark.parametrize("name", list(sc.SCANNERS))
def test_appending_future_bars_changes_no_past_hit_nor_the_study(small, name):
    # Given each scanner, the data cut at 2008-06-30, and the same data with ten more years appended
    scanner, params = sc.SCANNERS[name], _params(name)
    cut = small.row_of(CUT) + 1
    before = sc.compute(scanner, small.head(cut), params)
    after = sc.compute(scanner, small, params)
    # Then every past score, hit and side is unchanged
    np.testing.assert_array_equal(before.hit, after.hit[:cut])
    np.testing.assert_array_equal(before.side[before.hit], after.side[:cut][before.hit])
    np.testing.assert_allclose(before.score, after.score[:cut], rtol=1e-12, atol=1e-12, equal_nan=True)
    assert before.hit.sum() > 0  # a real comparison: the scanner had hits before the cut
    # And the study of the hits up to the cut (forward returns known by then) is the same
    assert sc.study(before, small.head(cut)) == sc.study(after, small, until=cut - 1)
    # And a scan on a past date sees exactly that row of the signal
    row = cut - 1
    hits = {h["symbol"] for h in sc.scan(scanner, small.head(cut), params, row)["hits"]}
    assert hits == {small.symbols[j] for j in np.nonzero(after.hit[row])[0]}


def test_rsi_extremes_equal_talib_rsi_and_its_thresholds(panel):
    # Given the 20 stocks' closes, When the RSI scanner runs
    signal = sc.compute(sc.SCANNERS["rsi_extremes"], panel, _params("rsi_extremes"))
    # Then its RSI equals TA-Lib's, column by column, and hits are exactly RSI < 30 or > 70
    for j in range(20):
        reference = talib.RSI(panel.close[:, j], 14)
        np.testing.assert_allclose(signal.values["rsi"][:, j], reference, atol=1e-9, equal_nan=True)
    rsi = signal.values["rsi"]
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(signal.hit, (rsi < 30) | (rsi > 70))
        assert np.all(signal.side[rsi < 30] == 1) and np.all(signal.side[rsi > 70] == -1)


def test_adx_gaps_and_volatility_contraction_equal_talib_and_hand_values_on_the_sp500(panel):
    # Given the S&P 500's OHLCV column of the panel
    j = panel.symbols.index("^GSPC")
    rows = np.isfinite(panel.close[:, j])
    o, h, lo, c = (a[rows, j] for a in (panel.open, panel.high, panel.low, panel.close))
    # When ADX, gap and volatility-contraction scanners run
    adx = sc.compute(sc.SCANNERS["adx_trend"], panel, _params("adx_trend"))
    gaps = sc.compute(sc.SCANNERS["gaps"], panel, _params("gaps"))
    vc = sc.compute(sc.SCANNERS["volatility_contraction"], panel, _params("volatility_contraction"))
    # Then ADX/+DI/-DI equal TA-Lib's and the hits are ADX >= 25
    np.testing.assert_allclose(adx.values["adx"][rows, j], talib.ADX(h, lo, c, 14), atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(
        adx.values["plus_di"][rows, j], talib.PLUS_DI(h, lo, c, 14), atol=1e-9, equal_nan=True
    )
    with np.errstate(invalid="ignore"):
        assert np.array_equal(adx.hit[rows, j], talib.ADX(h, lo, c, 14) >= 25)
    # And the gap is open / previous close - 1 by hand
    expected_gap = np.r_[np.nan, o[1:] / c[:-1] - 1]
    np.testing.assert_allclose(gaps.values["gap"][rows, j], expected_gap, rtol=1e-14, equal_nan=True)
    # And ATR/close equals TA-Lib's ATR / close; NR7 is the narrowest range of 7 bars by hand
    np.testing.assert_allclose(
        vc.values["atr_pct"][rows, j], talib.ATR(h, lo, c, 14) / c, atol=1e-12, equal_nan=True
    )
    bar_range = h - lo
    t = 5000
    assert vc.values["narrowest_range"][rows, j][t] == pytest.approx(bar_range[t - 6 : t + 1].min())
    assert vc.hit[rows, j].sum() > 10


def test_bollinger_ma_cross_zscore_momentum_and_52w_high_equal_reference_values(panel):
    # Given a close-only stock (the first) and the index
    j = 0
    c = panel.close[:, j]
    bb = sc.compute(sc.SCANNERS["bollinger_squeeze"], panel, _params("bollinger_squeeze"))
    cross = sc.compute(sc.SCANNERS["ma_cross"], panel, _params("ma_cross"))
    z = sc.compute(sc.SCANNERS["zscore_reversion"], panel, _params("zscore_reversion"))
    mom = sc.compute(sc.SCANNERS["momentum_12_1"], panel, _params("momentum_12_1"))
    high = sc.compute(sc.SCANNERS["high_52w"], panel, _params("high_52w"))
    # Then the band width equals TA-Lib BBANDS (upper - lower) / middle
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0)
    np.testing.assert_allclose(
        bb.values["bandwidth"][:, j], (upper - lower) / middle, atol=1e-9, equal_nan=True
    )
    # And the crosses are where TA-Lib's SMA(50) crosses SMA(200)
    fast, slow = talib.SMA(c, 50), talib.SMA(c, 200)
    with np.errstate(invalid="ignore"):
        golden = (fast > slow) & (np.r_[np.nan, fast[:-1]] <= np.r_[np.nan, slow[:-1]])
    np.testing.assert_array_equal(cross.hit[:, j] & (cross.side[:, j] == 1), golden)
    assert golden.sum() > 5
    # And the z-score, 12-1 momentum and 52-week high proximity equal the hand computation on a date
    t = panel.row_of(AS_OF)
    window = c[t - 19 : t + 1]
    assert z.values["zscore"][t, j] == pytest.approx((c[t] - window.mean()) / window.std(), rel=1e-9)
    assert mom.score[t, j] == pytest.approx(c[t - 21] / c[t - 252] - 1, rel=1e-12)
    assert high.values["proximity"][t, j] == pytest.approx(c[t] / c[t - 251 : t + 1].max(), rel=1e-12)


def test_cross_sectional_scanners_take_the_top_and_bottom_fraction(panel):
    # Given the 22-symbol universe on a date when all trade, When 12-1 momentum runs with fraction 0.2
    t = panel.row_of(AS_OF)
    signal = sc.compute(sc.SCANNERS["momentum_12_1"], panel, _params("momentum_12_1"))
    scores = signal.score[t]
    valid = np.isfinite(scores)
    # Then the 4 highest (floor(0.2 * 20 valid)) are bullish hits and the 4 lowest bearish hits
    order = np.argsort(np.where(valid, scores, np.inf))
    n = int(valid.sum())
    assert set(np.nonzero(signal.hit[t] & (signal.side[t] == 1))[0]) == set(order[n - n // 5 : n])
    assert set(np.nonzero(signal.hit[t] & (signal.side[t] == -1))[0]) == set(order[: n // 5])


def test_close_only_symbols_are_skipped_with_the_reason_never_invented(panel):
    # Given the universe on a date the indices trade
    t = panel.row_of(AS_OF)
    for name, words in [("gaps", "no open/high/low"), ("adx_trend", "no open/high/low"),
                        ("relative_volume", "no volume"), ("volatility_contraction", "no open/high/low")]:  # fmt: skip
        # When a scanner that needs ranges or volume runs
        result = sc.scan(sc.SCANNERS[name], panel, _params(name), t)
        # Then the 20 stocks are skipped with the reason and only the indices are scored
        skipped = {s["symbol"]: s["reason"] for s in result["skipped"]}
        assert len(skipped) == 20 and all(words in reason for reason in skipped.values())
        assert result["scored"] == 2
        assert {h["symbol"] for h in result["hits"]} <= {"^GSPC", "^IXIC"}


def test_a_scan_after_the_indices_end_lists_them_as_stale(panel):
    # Given a date after 2018 (the arch indices end 2018-12-31)
    t = panel.row_of("2020-03-16")
    result = sc.scan(sc.SCANNERS["zscore_reversion"], panel, _params("zscore_reversion"), t)
    reasons = {s["symbol"]: s["reason"] for s in result["skipped"]}
    # Then they are skipped with their last bar, and the stocks are scored (March 2020: many 2-sigma drops)
    assert reasons["^GSPC"].startswith("no bar on 2020-03-16") and "2018-12-31" in reasons["^GSPC"]
    assert result["scored"] == 20
    window = panel.close[t - 19 : t + 1, :20]
    z = (panel.close[t, :20] - window.mean(axis=0)) / window.std(axis=0)
    assert result["hits_total"] == int((np.abs(z) >= 2).sum()) >= 5
    assert [h["rank"] for h in result["hits"]] == list(range(1, len(result["hits"]) + 1))
    assert all(h["side"] == "bullish" for h in result["hits"])  # fade the drop


def test_the_study_equals_a_loop_over_the_hits(small):
    # Given the RSI scanner's signal, When its study is computed with arithmetic on the matrices
    signal = sc.compute(sc.SCANNERS["rsi_extremes"], small, _params("rsi_extremes"))
    result = sc.study(signal, small, (5,))["horizons"]["5"]
    # Then it equals a plain loop over every (date, symbol) hit with a known 5-day forward return
    close = small.close
    hit_returns, bullish, universe = [], [], []
    for t in range(len(close) - 5):
        for j in range(close.shape[1]):
            forward = close[t + 5, j] / close[t, j] - 1
            if not (np.isfinite(signal.score[t, j]) and np.isfinite(forward)):
                continue
            universe.append(forward)
            if signal.hit[t, j]:
                hit_returns.append(forward)
                if signal.side[t, j] == 1:
                    bullish.append(forward)
    assert result["hits"] == len(hit_returns) > 1000
    assert result["hit_mean"] == pytest.approx(np.mean(hit_returns), rel=1e-9)
    assert result["bullish_mean"] == pytest.approx(np.mean(bullish), rel=1e-9)
    assert result["universe_mean"] == pytest.approx(np.mean(universe), rel=1e-9)
    assert result["universe_observations"] == len(universe)


def test_time_machine_scanner_scores_are_the_mean_forward_return_of_past_analogues(small):
    # Given the time-machine scanner on one date for one stock
    params = sc.SCANNERS["time_machine"].validate({"window": 40, "k": 3, "horizon": 10})
    t = small.row_of(AS_OF)
    signal = sc.compute(sc.SCANNERS["time_machine"], small, params, np.array([t]))
    # Then the score is the mean 10-day forward return of the 3 nearest non-overlapping earlier windows
    from trade2026.domain import timemachine as tm

    c = small.close[:, 0]
    query = c[t - 39 : t + 1]
    last_start = t - max(10, 40) - 40 + 1  # windows that end before the query starts, forward known
    found = tm.search(query, [c[: t + 1]], 3, last_start=[last_start])
    expected = np.mean([c[mt.end(40) + 10] / c[mt.end(40)] - 1 for mt in found.matches])
    assert signal.score[t, 0] == pytest.approx(expected, rel=1e-9)
    assert signal.values["analogues"][t, 0] == 3


def test_parameters_are_validated_with_the_allowed_range():
    scanner = sc.SCANNERS["rsi_extremes"]
    with pytest.raises(sc.ScannerError, match=r"period must be in \[2, 200\]; got 1"):
        scanner.validate({"period": 1})
    with pytest.raises(sc.ScannerError, match="unknown parameter"):
        scanner.validate({"lenght": 14})
    with pytest.raises(sc.ScannerError, match=r"fast \(200\) must be < slow \(50\)"):
        sc.SCANNERS["ma_cross"].validate({"fast": 200, "slow": 50})
    assert len(sc.describe_scanners()) == 12
