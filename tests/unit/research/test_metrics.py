"""Performance metrics against straightforward pandas/numpy references on the real S&P 500 closes.

The references below are the textbook (empyrical/quantstats) formulas written out with pandas, one column at a
time; vectorbt's returns accessor is a second, independent oracle for the headline ratios.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import metrics

RF = 0.02  # annual risk-free rate used where a test needs a non-zero one
YEAR = 252


@pytest.fixture(scope="module")
def sp500() -> pd.Series:
    """Daily simple returns of the S&P 500 index 1999-2018 (5,030 bars), indexed by session date."""
    data = load_daily("sp500")
    close = data["close"]
    return pd.Series(close[1:] / close[:-1] - 1.0, index=pd.DatetimeIndex(data["date"][1:]))


@pytest.fixture(scope="module")
def panel(sp500: pd.Series) -> pd.DataFrame:
    """Three real-data columns: the index, a 2x leveraged short of it, and the index with a NaN warm-up."""
    late_start = sp500.copy()
    late_start.iloc[:250] = np.nan
    return pd.DataFrame({"index": sp500, "short_2x": -2.0 * sp500, "late_start": late_start})


# ---------------------------------------------------------------------------- pandas references
def ref_sharpe(r: pd.Series, rf: float = 0.0) -> float:
    excess = r.dropna() - ((1 + rf) ** (1 / YEAR) - 1)
    return excess.mean() / excess.std() * math.sqrt(YEAR)


def ref_sortino(r: pd.Series, rf: float = 0.0) -> float:
    # quantstats: downside = sqrt(sum(excess[excess < 0] ** 2) / len(excess)), over ALL bars
    excess = r.dropna() - ((1 + rf) ** (1 / YEAR) - 1)
    downside = math.sqrt((excess[excess < 0] ** 2).sum() / len(excess))
    return excess.mean() / downside * math.sqrt(YEAR)


def ref_max_drawdown(r: pd.Series) -> float:
    equity = pd.concat([pd.Series([1.0]), (1 + r.fillna(0.0)).cumprod().reset_index(drop=True)])
    return (equity / equity.cummax() - 1).min()


def ref_cagr(r: pd.Series) -> float:
    return (1 + r.dropna()).prod() ** (YEAR / r.count()) - 1


def test_headline_metrics_equal_pandas_textbook_formulas(panel: pd.DataFrame) -> None:
    # Given three columns of real S&P 500 daily returns (one with a 250-bar NaN warm-up)
    # When the whole panel's summary comes from one call
    summary = metrics.performance_summary(panel.to_numpy(), YEAR, risk_free=RF)
    # Then every column equals the one-column pandas reference computation
    for i, name in enumerate(panel.columns):
        r = panel[name]
        clean = r.dropna()
        assert summary.n_bars[i] == clean.size
        assert summary.total_return[i] == pytest.approx((1 + clean).prod() - 1, rel=1e-12)
        assert summary.annualized_return[i] == pytest.approx(ref_cagr(r), rel=1e-12)
        assert summary.annualized_volatility[i] == pytest.approx(clean.std() * math.sqrt(YEAR), rel=1e-12)
        assert summary.sharpe[i] == pytest.approx(ref_sharpe(r, RF), rel=1e-10)
        assert summary.sortino[i] == pytest.approx(ref_sortino(r, RF), rel=1e-10)
        assert summary.max_drawdown[i] == pytest.approx(ref_max_drawdown(r), rel=1e-12)
        assert summary.calmar[i] == pytest.approx(ref_cagr(r) / abs(ref_max_drawdown(r)), rel=1e-12)
        assert summary.skewness[i] == pytest.approx(stats.skew(clean, bias=True), rel=1e-10)
        assert summary.kurtosis[i] == pytest.approx(stats.kurtosis(clean, fisher=False, bias=True), rel=1e-10)


def test_one_column_input_gives_scalars_equal_to_the_panel_columns(panel: pd.DataFrame) -> None:
    # Given the same returns as a (T,) vector and as a column of a (T, N) panel
    values = panel.to_numpy()
    for function in (
        metrics.sharpe_ratio,
        metrics.sortino_ratio,
        metrics.annualized_return,
        metrics.max_drawdown,
    ):
        # When a metric runs on both
        per_column = function(values)
        single = function(values[:, 2])
        # Then the vector input gives a 0-d result equal to the panel's column
        assert single.shape == ()
        assert float(single) == pytest.approx(per_column[2], rel=1e-14)


def test_headline_ratios_equal_vectorbt_returns_accessor(sp500: pd.Series) -> None:
    # Given vectorbt's returns accessor with the same annualization (252 one-day bars a year)
    vbt = pytest.importorskip("vectorbt")
    accessor = sp500.vbt.returns(freq="1D", year_freq="252D")
    r = sp500.to_numpy()
    # When both compute the headline ratios, Then they agree (vectorbt's drawdown ignores the initial capital,
    # which does not matter here: the S&P's deepest fall is in 2007-2009)
    assert metrics.sharpe_ratio(r) == pytest.approx(accessor.sharpe_ratio(), rel=1e-10)
    assert metrics.sortino_ratio(r) == pytest.approx(accessor.sortino_ratio(), rel=1e-10)
    assert metrics.annualized_return(r) == pytest.approx(accessor.annualized(), rel=1e-10)
    assert metrics.annualized_volatility(r) == pytest.approx(accessor.annualized_volatility(), rel=1e-10)
    assert metrics.max_drawdown(r) == pytest.approx(accessor.max_drawdown(), rel=1e-12)
    assert metrics.calmar_ratio(r) == pytest.approx(accessor.calmar_ratio(), rel=1e-10)
    assert vbt.__version__


def test_sp500_drawdowns_match_market_history(sp500: pd.Series) -> None:
    """The S&P 500 closed at its 2007 high of 1565.15 on 2007-10-09 and bottomed at 676.53 on 2009-03-09
    (-56.8%); it first closed above that high on 2013-03-28. The 2000 high (1527.46, 2000-03-24) was first
    exceeded on 2007-05-30 - the longest time under water in 1999-2018."""
    # Given the equity curve of the index (row k = after k bars = the close of session k; row 0 = 1999-01-04)
    dates = np.concatenate([[np.datetime64("1999-01-04")], sp500.index.to_numpy().astype("datetime64[D]")])
    # When its drawdowns are measured
    dd = metrics.drawdown_stats(metrics.equity_curve(sp500.to_numpy()))
    # Then depth, peak, trough and recovery are the historical ones
    assert float(dd.max_drawdown) == pytest.approx(676.530029 / 1565.150024 - 1, rel=1e-9)
    assert str(dates[dd.peak])[:10] == "2007-10-09"
    assert str(dates[dd.trough])[:10] == "2009-03-09"
    assert bool(dd.recovered)
    assert str(dates[dd.end + 1])[:10] == "2013-03-28"
    assert dd.duration == dd.end - dd.start + 1
    assert str(dates[dd.longest_start - 1])[:10] == "2000-03-24"
    assert str(dates[dd.longest_end + 1])[:10] == "2007-05-30"
    assert dd.longest_duration > dd.duration


def test_drawdown_indices_on_a_hand_made_curve() -> None:
    # Given an equity curve: high at 1, falls to 3, recovers at 5, then falls again without recovering
    equity = np.array([[100, 110, 99, 88, 105, 111, 109, 100.0], [1, 2, 3, 4, 5, 6, 7, 8.0]]).T
    # When its drawdown statistics are measured
    dd = metrics.drawdown_stats(equity)
    # Then the deepest episode is 110 -> 88 (rows 1..3), under water on rows 2..4 (3 bars), recovered at 5
    assert dd.max_drawdown[0] == pytest.approx(88 / 110 - 1)
    assert (dd.peak[0], dd.trough[0], dd.start[0], dd.end[0], dd.duration[0]) == (1, 3, 2, 4, 3)
    assert bool(dd.recovered[0])
    # And the longest run under water is also rows 2..4 (the last one, rows 6..7, is 2 bars)
    assert (dd.longest_duration[0], dd.longest_start[0], dd.longest_end[0]) == (3, 2, 4)
    # And a curve that only rises has no drawdown at all
    assert (dd.max_drawdown[1], dd.duration[1], dd.peak[1], dd.longest_duration[1]) == (0.0, 0, -1, 0)


def test_a_loss_on_the_first_bar_is_a_drawdown_from_the_initial_capital() -> None:
    # Given returns whose very first bar loses 10%
    returns = np.array([-0.10, 0.05, 0.10])
    # When the max drawdown is computed from returns
    dd = metrics.drawdown_stats(metrics.equity_curve(returns))
    # Then it is measured from the initial capital (row 0), recovered on row 3
    assert float(dd.max_drawdown) == pytest.approx(-0.10)
    assert (int(dd.peak), int(dd.trough), int(dd.end)) == (0, 1, 2)


def test_rolling_sharpe_equals_pandas_rolling(panel: pd.DataFrame) -> None:
    # Given the panel (with its NaN warm-up) and a 63-bar window
    window = 63
    # When the rolling Sharpe ratio is computed for all columns at once
    rolling = metrics.rolling_sharpe(panel.to_numpy(), window, risk_free=RF)
    # Then it equals pandas' rolling mean / rolling std (NaN in the same places)
    excess = panel - ((1 + RF) ** (1 / YEAR) - 1)
    expected = (excess.rolling(window).mean() / excess.rolling(window).std() * math.sqrt(YEAR)).to_numpy()
    assert np.array_equal(np.isnan(rolling), np.isnan(expected))
    assert np.allclose(rolling, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
    # And the warm-up is NaN exactly for the first window - 1 rows of a full column
    assert np.isnan(rolling[: window - 1, 0]).all() and not np.isnan(rolling[window - 1, 0])


def test_rolling_sharpe_is_nan_on_flat_windows() -> None:
    # Given a strategy that is flat (0 returns) for 100 bars in the middle
    returns = np.random.default_rng(7).normal(0.001, 0.01, 400)
    returns[150:250] = 0.0
    # When its 20-bar rolling Sharpe is computed
    rolling = metrics.rolling_sharpe(returns, 20)
    # Then windows entirely inside the flat stretch are NaN (zero volatility), not a huge number
    assert np.isnan(rolling[169:250]).all()
    assert np.isfinite(rolling[19:169]).all() and np.isfinite(rolling[250:]).all()


def test_monthly_returns_equal_pandas_resample(panel: pd.DataFrame) -> None:
    # Given the panel and its session timestamps in epoch nanoseconds
    stamps = metrics.bar_dates_ns(panel.index.to_numpy())
    # When per-bar returns are grouped by calendar month
    monthly = metrics.monthly_returns(panel.to_numpy(), stamps)
    # Then each month's compounded return equals pandas' resample (NaN bars flat)
    expected = (1 + panel.fillna(0.0)).resample("ME").prod() - 1
    assert len(monthly.year) == len(expected) == 240
    assert np.array_equal(monthly.year, expected.index.year)
    assert np.array_equal(monthly.month, expected.index.month)
    assert np.allclose(monthly.returns, expected.to_numpy(), rtol=1e-12, atol=1e-15)
    # And the heat-map table puts October 2008 (-16.9% for the index) in its cell
    years, table = metrics.monthly_table(monthly)
    assert table.shape == (20, 12, 3)
    assert table[list(years).index(2008), 9, 0] == pytest.approx(
        expected.loc["2008-10-31", "index"], rel=1e-12
    )


def test_monthly_returns_do_not_depend_on_bar_order() -> None:
    # Given bars in shuffled order across a month boundary
    stamps = metrics.bar_dates_ns(np.array(["2020-01-30", "2020-02-03", "2020-01-31", "2020-02-04"], "M8[D]"))
    returns = np.array([0.10, -0.5, 0.20, 1.0])
    # When grouped
    monthly = metrics.monthly_returns(returns, stamps)
    # Then each month compounds its own bars
    assert monthly.month.tolist() == [1, 2]
    assert np.allclose(monthly.returns, [1.1 * 1.2 - 1, 0.5 * 2.0 - 1])


def test_trade_stats_equal_a_loop_over_each_group() -> None:
    # Given a flat trade list of three configurations (one of them without losing trades, one empty)
    rng = np.random.default_rng(11)
    pnl = np.concatenate([rng.normal(5, 50, 40), np.abs(rng.normal(5, 5, 7)), [0.0, -3.0, 0.0]])
    trade_returns = pnl / 1000.0
    column = np.concatenate([np.zeros(40), np.ones(7), np.full(3, 3)]).astype(int)
    # When statistics are computed for all groups at once
    result = metrics.trade_stats(pnl, trade_returns, column=column, n_columns=4)
    # Then each group equals a straightforward computation on its own trades
    for group in range(4):
        p, r = pnl[column == group], trade_returns[column == group]
        wins, losses = p[p > 0], p[p < 0]
        assert result.n_trades[group] == p.size
        if p.size == 0:
            assert np.isnan(result.hit_rate[group]) and np.isnan(result.profit_factor[group])
            continue
        assert result.hit_rate[group] == pytest.approx(wins.size / p.size)
        expected_pf = wins.sum() / -losses.sum() if losses.size else math.inf
        assert result.profit_factor[group] == pytest.approx(expected_pf)
        assert result.expectancy[group] == pytest.approx(p.mean())
        assert result.expectancy_return[group] == pytest.approx(r.mean())
        if wins.size:
            assert result.average_win[group] == pytest.approx(wins.mean())
            assert result.average_win_return[group] == pytest.approx(r[p > 0].mean())
        if losses.size:
            assert result.average_loss[group] == pytest.approx(losses.mean())
    # And without groups the same list gives one 0-d result
    single = metrics.trade_stats(pnl[:40])
    assert single.n_trades.shape == () and int(single.n_trades) == 40
    assert np.isnan(single.average_win_return)


def test_exposure_and_turnover_equal_loops() -> None:
    # Given target weights of two strategies over 10 bars
    weights = np.array(
        [[0, 0, 1, 1, 1, 0, 0, -0.5, -0.5, 0], [0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1]], dtype=float
    ).T
    # When exposure and annualized turnover are computed
    held = metrics.exposure(weights)
    traded = metrics.turnover(weights, periods_per_year=YEAR)
    # Then they equal a bar-by-bar loop (entering the first position counts as turnover)
    for j in range(2):
        previous, changes = 0.0, 0.0
        for w in weights[:, j]:
            changes += abs(w - previous)
            previous = w
        assert traded[j] == pytest.approx(changes / len(weights) * YEAR)
        assert held[j] == pytest.approx(np.count_nonzero(weights[:, j]) / len(weights))
    # And the summary carries them through
    summary = metrics.performance_summary(np.zeros((10, 2)) + 0.001, positions=weights, weights=weights)
    assert np.allclose(summary.exposure, held) and np.allclose(summary.turnover, traded)


def test_undefined_ratios_are_nan_or_inf_never_errors() -> None:
    # Given a column that never trades, one that only gains and one with a single bar
    returns = np.array([[0.0, 0.01, np.nan], [0.0, 0.02, np.nan], [0.0, 0.01, 0.05]])
    # When the summary is computed
    summary = metrics.performance_summary(returns)
    # Then zero volatility gives NaN Sharpe, no losing bar an infinite Sortino and Calmar
    assert np.isnan(summary.sharpe[0]) and np.isnan(summary.sharpe[2])
    assert summary.sortino[1] == math.inf and summary.calmar[1] == math.inf
    # And JSON records turn them into None
    records = summary.records()
    assert records[0]["sharpe"] is None and records[1]["sortino"] is None
    assert records[1]["total_return"] == pytest.approx(1.01 * 1.02 * 1.01 - 1)
