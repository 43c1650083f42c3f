"""Live strategies and the hybrid's adaptive weights (pure): oracles against pandas, no look-ahead on real
data, meta-label sizing through a fake predictor, and the order legs of a target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from trade2026.adapters.demo_data import load_daily
from trade2026.domain import hybrid
from trade2026.domain import live_strategies as live
from trade2026.domain.ml.features import get_feature_set


@pytest.fixture(scope="module")
def aapl() -> tuple[np.ndarray, np.ndarray]:
    data = load_daily("stocks20")
    rows = data["symbol"] == "AAPL"
    ts = data["date"][rows].astype("datetime64[ns]").astype(np.int64)[-1500:]
    return ts, data["close"][rows][-1500:]


def test_ew_mean_matches_pandas_ewm():
    # Given random P&L columns
    x = np.random.default_rng(1).normal(size=(300, 3))
    # When averaged with a half-life of 10, Then it equals pandas' ewm(halflife=10, adjust=True)
    expected = pd.DataFrame(x).ewm(halflife=10.0, adjust=True).mean().to_numpy()
    np.testing.assert_allclose(hybrid.ew_mean(x, 10.0), expected, rtol=1e-10, atol=1e-12)


def test_adaptive_weights_follow_recent_out_of_sample_performance_without_look_ahead():
    # Given returns and two components: A is right (sign of the next return) in the first half, B in the second
    rng = np.random.default_rng(7)
    r = rng.normal(0, 0.01, 400)
    nxt = np.sign(np.append(r[1:], 0.0))
    a = np.where(np.arange(400) < 200, nxt, -nxt)
    b = np.where(np.arange(400) < 200, -nxt, nxt)
    # When combined with a half-life of 10 bars
    result = hybrid.adaptive_combine(np.column_stack([a, b]), r, halflife=10.0)
    # Then the weight moves from A to B after the switch, rows sum to 1
    assert result.weights[190, 0] == 1.0 and result.weights[260, 1] == 1.0
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0)
    # And the weights at t do not change when returns after t change (causal)
    changed = r.copy()
    changed[301:] = rng.normal(0, 0.05, 99)
    again = hybrid.adaptive_combine(np.column_stack([a, b]), changed, halflife=10.0)
    np.testing.assert_array_equal(again.weights[:301], result.weights[:301])
    # And with no positive score the weights are equal; a floor keeps every component alive
    np.testing.assert_allclose(hybrid.weights_from_scores(np.array([[-1.0, -2.0]])), [[0.5, 0.5]])
    np.testing.assert_allclose(hybrid.weights_from_scores(np.array([[3.0, 0.0]]), floor=0.1), [[0.9, 0.1]])


def test_physics_targets_use_no_future_data_on_real_prices(aapl):
    # Given 1500 real daily closes
    ts, close = aapl
    params = live.PhysicsParams()
    target, parts = live.physics_targets(close, params)
    # Then targets are within [0, 1] (long only) and defined after the warm-up
    assert np.all((target >= 0) & (target <= 1))
    assert np.isfinite(parts["exposure"][params.history :]).all()
    # And altering prices after t changes nothing at or before t
    cut = 1200
    altered = close.copy()
    altered[cut + 1 :] *= np.linspace(1.0, 3.0, len(close) - cut - 1)
    target2, _ = live.physics_targets(altered, params)
    np.testing.assert_array_equal(target2[: cut + 1], target[: cut + 1])
    # And the live decision at the last bar is the research target at that bar
    bar = live.Bar("AAPL", int(ts[-1]), int(ts[-1]) + 1, float(close[-1]))
    decision = live.build("physics_regime", {}).on_bar(live.MarketView({"ts": ts, "close": close}), bar)
    assert decision.target == pytest.approx(target[-1])
    assert set(decision.inputs) >= {"turbulence", "variance", "entropy", "exposure", "trend", "side"}


def test_single_asset_turbulence_is_the_squared_z_score():
    r = np.random.default_rng(3).normal(size=80)
    got = live.single_asset_turbulence(r, 50)
    window = r[20:70]
    assert got[70] == pytest.approx((r[70] - window.mean()) ** 2 / window.var(ddof=1))
    assert np.isnan(got[:50]).all()


@dataclass
class FakePredictor:
    probability: float
    meta: bool = True
    model_id: str = "m1"
    feature_set: str = "alpha_v1"

    @property
    def columns(self) -> list[str]:
        return list(get_feature_set(self.feature_set).columns) + (["primary_side"] if self.meta else [])

    def predict(self, rows: list[list[float | None]]) -> list[float]:
        assert all(len(row) == len(self.columns) for row in rows)
        return [self.probability] * len(rows)


def test_ml_alpha_sizes_the_primary_side_by_the_meta_probability(aapl):
    # Given real closes and a meta model that says the primary side wins with p = 0.7
    ts, close = aapl
    bar = live.Bar("AAPL", int(ts[-1]), int(ts[-1]) + 1, float(close[-1]))
    view = live.MarketView({"ts": ts, "close": close}, FakePredictor(0.7))
    # When the ML alpha strategy decides (long/short allowed)
    decision = live.build("ml_alpha", {"long_only": False}).on_bar(view, bar)
    # Then the target is side x (2 Phi(z) - 1), z = (p - 0.5) / sqrt(p (1 - p)) (Lopez de Prado 10.1)
    side = decision.inputs["side"]
    assert side in (-1.0, 1.0)
    size = 2 * norm.cdf((0.7 - 0.5) / np.sqrt(0.7 * 0.3)) - 1
    assert decision.target == pytest.approx(side * size)
    assert decision.inputs["features"]["primary_side"] == side
    # And p <= 0.5 means no bet; without a champion the strategy refuses with the reason
    flat = live.build("ml_alpha", {}).on_bar(live.MarketView(view.bars, FakePredictor(0.4)), bar)
    assert flat.target == 0.0
    with pytest.raises(live.StrategyInputError, match="needs a champion model"):
        live.build("ml_alpha", {}).on_bar(live.MarketView(view.bars), bar)


def test_hybrid_combines_ml_and_physics_with_recorded_weights(aapl):
    ts, close = aapl
    bar = live.Bar("AAPL", int(ts[-1]), int(ts[-1]) + 1, float(close[-1]))
    decision = live.build("hybrid", {"window": 120}).on_bar(
        live.MarketView({"ts": ts, "close": close}, FakePredictor(0.65)), bar
    )
    w = decision.inputs["weights"]
    assert w["ml"] + w["physics"] == pytest.approx(1.0)
    expected = w["ml"] * decision.inputs["ml_target"] + w["physics"] * decision.inputs["physics_target"]
    assert decision.target == pytest.approx(expected)


@pytest.mark.parametrize(
    ("current", "target", "legs"),
    [
        (0, 100, [("buy", 100)]),
        (100, 40, [("sell", 60)]),
        (100, -50, [("sell", 100), ("short", 50)]),
        (-50, 30, [("cover", 50), ("buy", 30)]),
        (-50, -80, [("short", 30)]),
        (-80, -20, [("cover", 60)]),
        (10, 10, []),
    ],
)
def test_orders_for_target(current: float, target: float, legs: list[tuple[str, float]]):
    assert live.orders_for_target(current, target) == legs


def test_parameter_validation_names_the_field():
    with pytest.raises(live.StrategyInputError, match=r"params.fast \(60\) must be below params.slow \(50\)"):
        live.validate("ml_alpha", {"fast": 60})
    with pytest.raises(
        live.StrategyInputError, match="rule 'cross_sectional_momentum' is not a single-asset"
    ):
        live.validate("rule", {"rule": "cross_sectional_momentum"})
    with pytest.raises(live.StrategyInputError, match="must be a whole number"):
        live.validate("physics_regime", {"lookback": 10.5})
    assert live.validate("rule", {"rule": "ma_crossover", "rule_params": {"fast": 5, "slow": 20}})[
        "rule"
    ] == ("ma_crossover")
