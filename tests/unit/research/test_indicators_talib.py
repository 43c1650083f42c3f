"""Oracle tests: trade2026's indicators equal TA-Lib (the `ta-lib` package, C library 0.8.1) on real data.

The bar (issue 5): every indicator TA-Lib has equals TA-Lib to <= 1e-9 absolute after the warm-up, with
NaN exactly where TA-Lib has NaN, on the real S&P 500 daily OHLCV 1999-2018 (arch) and on the 20-stock
panel 1990-2022 (skfolio), several periods each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import indicators as ind

TOLERANCE = 1e-9
Ohlcv = dict[str, np.ndarray]


@pytest.fixture(scope="module")
def sp500() -> Ohlcv:
    return load_daily("sp500")


@pytest.fixture(scope="module")
def panel() -> np.ndarray:
    """The 20 stocks' adjusted closes as a (T, 20) panel; two columns start later (leading NaNs)."""
    data = load_daily("stocks20")
    symbols = np.unique(data["symbol"])
    closes = np.column_stack([data["close"][data["symbol"] == symbol] for symbol in symbols])
    closes[:300, 3] = np.nan
    closes[:7_000, 5] = np.nan
    return closes


def assert_matches_talib(ours: np.ndarray, reference: np.ndarray, tolerance: float = TOLERANCE) -> None:
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), err_msg="NaN positions differ")
    valid = ~np.isnan(reference)
    assert valid.sum() > 0.5 * len(reference)  # a real comparison, not a warm-up of NaNs
    np.testing.assert_allclose(ours[valid], reference[valid], rtol=0, atol=tolerance)


Case = tuple[str, Callable[[Ohlcv], np.ndarray], Callable[[Ohlcv], np.ndarray]]


def hlc(d: Ohlcv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return d["high"], d["low"], d["close"]


def _moving_average_cases(p: int) -> list[Case]:
    return [
        (f"SMA({p})", lambda d: ind.sma(d["close"], p), lambda d: talib.SMA(d["close"], p)),
        (f"EMA({p})", lambda d: ind.ema(d["close"], p), lambda d: talib.EMA(d["close"], p)),
        (f"WMA({p})", lambda d: ind.wma(d["close"], p), lambda d: talib.WMA(d["close"], p)),
    ]


def _wilder_cases(p: int) -> list[Case]:
    return [
        (f"RSI({p})", lambda d: ind.rsi(d["close"], p), lambda d: talib.RSI(d["close"], p)),
        (f"ATR({p})", lambda d: ind.atr(*hlc(d), p), lambda d: talib.ATR(*hlc(d), p)),
        (f"ADX({p})", lambda d: ind.adx(*hlc(d), p).adx, lambda d: talib.ADX(*hlc(d), p)),
        (f"PLUS_DI({p})", lambda d: ind.adx(*hlc(d), p).plus_di, lambda d: talib.PLUS_DI(*hlc(d), p)),
        (f"MINUS_DI({p})", lambda d: ind.adx(*hlc(d), p).minus_di, lambda d: talib.MINUS_DI(*hlc(d), p)),
    ]


def _macd_cases(fast: int, slow: int, signal: int) -> list[Case]:
    return [
        (
            f"MACD({fast},{slow},{signal}).{line}",
            lambda d, line=line: getattr(ind.macd(d["close"], fast, slow, signal), line),
            lambda d, i=index: talib.MACD(d["close"], fast, slow, signal)[i],
        )
        for index, line in enumerate(("line", "signal", "hist"))
    ]


def _bollinger_cases(period: int, k: float) -> list[Case]:
    return [
        (
            f"BBANDS({period},{k}).{band}",
            lambda d, band=band: getattr(ind.bollinger_bands(d["close"], period, k), band),
            lambda d, i=index: talib.BBANDS(d["close"], period, k, k, 0)[i],
        )
        for index, band in enumerate(("upper", "middle", "lower"))
    ]


def _stochastic_cases(fastk: int, slowk: int, slowd: int) -> list[Case]:
    return [
        (
            f"STOCH({fastk},{slowk},{slowd}).{line}",
            lambda d, line=line: getattr(ind.stochastic(*hlc(d), fastk, slowk, slowd), line),
            lambda d, i=index: talib.STOCH(*hlc(d), fastk, slowk, 0, slowd, 0)[i],
        )
        for index, line in enumerate(("k", "d"))
    ]


def _talib_zscore(d: Ohlcv) -> np.ndarray:
    return (d["close"] - talib.SMA(d["close"], 20)) / talib.STDDEV(d["close"], 20)


def _talib_volatility(d: Ohlcv) -> np.ndarray:
    return talib.STDDEV(ind.log_returns(d["close"]), 21) * np.sqrt(252)


def _other_cases() -> list[Case]:
    return [
        ("OBV", lambda d: ind.obv(d["close"], d["volume"]), lambda d: talib.OBV(d["close"], d["volume"])),
        ("TRANGE", lambda d: ind.true_range(*hlc(d)), lambda d: talib.TRANGE(*hlc(d))),
        ("ATR(1) = TRANGE", lambda d: ind.atr(*hlc(d), 1), lambda d: talib.TRANGE(*hlc(d))),
        ("ROCP(1) = returns", lambda d: ind.returns(d["close"]), lambda d: talib.ROCP(d["close"], 1)),
        ("ROCP(21) = returns", lambda d: ind.returns(d["close"], 21), lambda d: talib.ROCP(d["close"], 21)),
        (
            "log ROCR(1) = log returns",
            lambda d: ind.log_returns(d["close"]),
            lambda d: np.log(talib.ROCR(d["close"], 1)),
        ),
        (
            "STDDEV = rolling_std",
            lambda d: ind.rolling_std(d["close"], 20),
            lambda d: talib.STDDEV(d["close"], 20),
        ),
        (
            "STDDEV(log r)*sqrt(252)",
            lambda d: ind.rolling_volatility(d["close"], 21, ddof=0),
            _talib_volatility,
        ),
        ("(x - SMA) / STDDEV = zscore", lambda d: ind.zscore(d["close"], 20), _talib_zscore),
    ]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for period in (2, 5, 20, 50, 200):
        cases += _moving_average_cases(period)
    for period in (2, 7, 14, 30):
        cases += _wilder_cases(period)
    for fast, slow, signal in ((12, 26, 9), (5, 35, 5), (3, 10, 16), (2, 3, 1)):
        cases += _macd_cases(fast, slow, signal)
    for period, k in ((20, 2.0), (5, 1.0), (50, 2.5), (10, 0.5)):
        cases += _bollinger_cases(period, k)
    for fastk, slowk, slowd in ((5, 3, 3), (14, 3, 3), (9, 1, 5), (21, 5, 1)):
        cases += _stochastic_cases(fastk, slowk, slowd)
    return cases + _other_cases()


CASES = _cases()


@pytest.mark.parametrize(("ours", "theirs"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_indicator_equals_talib_on_the_sp500(
    sp500: Ohlcv, ours: Callable[[Ohlcv], np.ndarray], theirs: Callable[[Ohlcv], np.ndarray]
) -> None:
    # Given the real S&P 500 daily OHLCV (5,031 sessions)
    # When our indicator and TA-Lib's are computed on it
    # Then they agree to 1e-9 after the warm-up and are NaN on the same bars
    assert_matches_talib(ours(sp500), theirs(sp500))


def test_a_flat_stretch_gives_talib_s_answers(sp500: Ohlcv) -> None:
    # Given S&P 500 bars with 60 sessions frozen at one price (zero ranges, zero variance, no gains)
    frozen = {name: values.copy() for name, values in sp500.items()}
    for name in ("open", "high", "low", "close"):
        frozen[name][1000:1060] = sp500["close"][999]
    high, low, close = frozen["high"], frozen["low"], frozen["close"]
    # When the indicators with a zero test are computed
    pairs = [
        (ind.rsi(close, 14), talib.RSI(close, 14)),
        (ind.atr(high, low, close, 14), talib.ATR(high, low, close, 14)),
        (ind.adx(high, low, close, 14).adx, talib.ADX(high, low, close, 14)),
        (ind.adx(high, low, close, 14).plus_di, talib.PLUS_DI(high, low, close, 14)),
        (ind.stochastic(high, low, close).k, talib.STOCH(high, low, close)[0]),
        (ind.bollinger_bands(close, 20, 2.0).upper, talib.BBANDS(close, 20, 2.0, 2.0)[0]),
    ]
    # Then they still equal TA-Lib, inside the frozen stretch too (where the band width is exactly 0)
    for ours, theirs in pairs:
        assert_matches_talib(ours, theirs)
    bands = ind.bollinger_bands(close, 20, 2.0)
    assert np.all(bands.upper[1019:1060] == bands.middle[1019:1060])


PANEL_CASES = [
    ("SMA(50)", lambda x: ind.sma(x, 50), lambda c: talib.SMA(c, 50)),
    ("EMA(30)", lambda x: ind.ema(x, 30), lambda c: talib.EMA(c, 30)),
    ("WMA(30)", lambda x: ind.wma(x, 30), lambda c: talib.WMA(c, 30)),
    ("RSI(14)", lambda x: ind.rsi(x, 14), lambda c: talib.RSI(c, 14)),
    ("MACD.signal", lambda x: ind.macd(x).signal, lambda c: talib.MACD(c)[1]),
    ("BBANDS.lower", lambda x: ind.bollinger_bands(x, 20, 2.0).lower, lambda c: talib.BBANDS(c, 20, 2.0, 2.0)[2]),
    ("ROCP(5)", lambda x: ind.returns(x, 5), lambda c: talib.ROCP(c, 5)),
]  # fmt: skip


@pytest.mark.parametrize(("ours", "theirs"), [c[1:] for c in PANEL_CASES], ids=[c[0] for c in PANEL_CASES])
def test_a_panel_is_computed_column_by_column_like_talib(
    panel: np.ndarray,
    ours: Callable[[np.ndarray], np.ndarray],
    theirs: Callable[[np.ndarray], np.ndarray],
) -> None:
    # Given the (T, 20) stock panel, two columns starting later (leading NaNs)
    # When the indicator runs on the whole panel at once
    result = ours(panel)
    # Then each column equals TA-Lib on that column alone (TA-Lib skips leading NaNs the same way)
    assert result.shape == panel.shape
    for column in range(panel.shape[1]):
        reference = theirs(panel[:, column])
        np.testing.assert_array_equal(np.isnan(result[:, column]), np.isnan(reference))
        valid = ~np.isnan(reference)
        np.testing.assert_allclose(result[valid, column], reference[valid], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("period", [5, 20, 50])
def test_wma_and_band_width_are_closer_to_exact_than_talib(sp500: Ohlcv, period: int) -> None:
    # Given S&P 500 closes and an extended-precision (long double, two-pass) reference
    close = sp500["close"]
    windows = sliding_window_view(close.astype(np.longdouble), period)
    weights = np.arange(1, period + 1, dtype=np.longdouble)
    exact_wma = (windows @ weights / weights.sum()).astype(np.float64)
    centered = windows - windows.mean(axis=1, keepdims=True)
    exact_std = np.sqrt((centered**2).mean(axis=1)).astype(np.float64)
    # When WMA and the Bollinger half-width (k=1) come from us and from TA-Lib
    bands = ind.bollinger_bands(close, period, 1.0)
    ours_std = (bands.upper - bands.middle)[period - 1 :]
    upper, middle, _ = talib.BBANDS(close, period, 1.0, 1.0, 0)
    theirs_std = (upper - middle)[period - 1 :]
    # Then ours carry far less rounding (TA-Lib's sliding sums drift by ~1e-11..1e-10 on these prices)
    ours_wma_error = np.abs(ind.wma(close, period)[period - 1 :] - exact_wma).max()
    theirs_wma_error = np.abs(talib.WMA(close, period)[period - 1 :] - exact_wma).max()
    assert ours_wma_error < 2e-12 < theirs_wma_error
    assert np.abs(ours_std - exact_std).max() < 5e-12 < np.abs(theirs_std - exact_std).max()


def test_rolling_volatility_is_the_annualized_sample_std_of_log_returns(sp500: Ohlcv) -> None:
    # Given closes and a straightforward numpy computation of the same statistic (ddof=1, 252 days)
    close = sp500["close"]
    log_returns = np.log(close[1:] / close[:-1])
    expected = np.full(len(close), np.nan)
    expected[21:] = sliding_window_view(log_returns, 21).std(axis=1, ddof=1) * np.sqrt(252)
    # When the rolling volatility is computed with its defaults but a 21-day window
    ours = ind.rolling_volatility(close, 21)
    # Then both agree, NaN for the first `window` bars
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_allclose(ours[21:], expected[21:], rtol=1e-12, atol=0)


def test_rolling_statistics_are_nan_only_while_a_gap_is_in_the_window(sp500: Ohlcv) -> None:
    # Given closes with one missing value at bar 500
    close = sp500["close"].copy()
    close[500] = np.nan
    # When the 20-bar z-score and rolling std are computed
    scores, deviations = ind.zscore(close, 20), ind.rolling_std(close, 20)
    # Then exactly the 20 windows holding the gap are NaN, and the rest equals the gap-free values
    for values in (scores, deviations):
        assert np.isnan(values[500:520]).all()
        assert not np.isnan(values[19:500]).any() and not np.isnan(values[520:]).any()
    clean_tail = ind.rolling_std(sp500["close"][501:], 20)
    np.testing.assert_allclose(deviations[520:], clean_tail[19:], rtol=1e-12)


def test_shapes_follow_the_input(sp500: Ohlcv) -> None:
    # Given one series and the same series as a one-column and a three-column panel
    close = sp500["close"]
    as_panel = np.column_stack([close, close * 2, close[::-1]])
    # When indicators run on each
    # Then a 1-D input gives 1-D outputs, a panel gives a panel whose columns equal the 1-D results
    assert ind.rsi(close).shape == close.shape
    assert ind.macd(close).line.shape == close.shape
    assert ind.rsi(as_panel).shape == as_panel.shape
    np.testing.assert_array_equal(ind.ema(as_panel, 10)[:, 1], ind.ema(close * 2, 10))
    np.testing.assert_array_equal(ind.zscore(as_panel, 10)[:, 2], ind.zscore(close[::-1], 10))
    high, low = sp500["high"], sp500["low"]
    panel_adx = ind.adx(np.column_stack([high, high]), np.column_stack([low, low]), as_panel[:, :2] / [1, 2])
    np.testing.assert_array_equal(panel_adx.adx[:, 1], ind.adx(high, low, close).adx)


def test_too_little_data_gives_all_nan() -> None:
    # Given 10 prices
    close = np.linspace(100.0, 110.0, 10)
    # When indicators need more bars than that
    # Then every value is NaN (no exception), as with TA-Lib
    assert np.isnan(ind.sma(close, 20)).all()
    assert np.isnan(ind.rsi(close, 10)).all()
    assert np.isnan(ind.macd(close).hist).all()
    assert np.isnan(ind.stochastic(close, close, close, 5, 3, 3)[0][:8]).all()
    assert np.isnan(talib.RSI(close, 10)).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: ind.sma(x, 0), "period must be >= 1"),
        (lambda x: ind.rsi(x, 1), "period must be >= 2"),
        (lambda x: ind.ema(x, 2.5), "period must be an integer"),
        (lambda x: ind.macd(x, 26, 12), r"fast \(26\) must be < slow \(12\)"),
        (lambda x: ind.bollinger_bands(x, 20, -1.0), "k must be a finite number >= 0"),
        (lambda x: ind.zscore(x, 20, ddof=2), "ddof must be 0 or 1"),
        (lambda x: ind.atr(x, x[:-1], x), "inputs must have one shape"),
        (lambda x: ind.sma(x.reshape(2, 5, 1), 3), r"values must be 1-D \(T,\) or 2-D"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    call: Callable[[np.ndarray], object], message: str
) -> None:
    # Given ten prices
    close = np.linspace(100.0, 110.0, 10)
    # When an indicator is called with a bad argument
    # Then it raises ValueError saying what is wrong
    with pytest.raises(ValueError, match=message):
        call(close)
