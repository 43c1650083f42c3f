"""The simulation service: request validation, sources of returns, planned tasks merging to the one-piece result."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from pydantic import ValidationError

from trade2026.domain import simulation as sim
from trade2026.errors import BadRequest
from trade2026.services import simulations as service

DAY = 86_400 * 10**9


def fake_reader(prices: dict[str, list[float]]):
    """In-memory bars: symbol -> daily closes from day 0 (volume unknown)."""

    def read(symbol: str) -> dict[str, np.ndarray]:
        close = np.asarray(prices[symbol], dtype=np.float64)
        return {"ts": np.arange(len(close)) * DAY, "close": close, "volume": np.full(len(close), np.nan)}

    return read


def test_a_portfolio_is_simulated_from_its_constant_weight_daily_returns():
    # Given two symbols and weights 0.25 / 0.75
    prices = {"A": [100, 110, 99, 99], "B": [50, 50, 55, 44]}
    req = service.SimulationRequest(portfolio={"symbols": ["A", "B"], "weights": [0.25, 0.75]}, paths=100)
    # When the source returns are resolved
    r = service.source_returns(req, fake_reader(prices), None)
    # Then each day's return is the weighted sum of the assets' returns
    np.testing.assert_allclose(r, [0.25 * 0.1, 0.25 * -0.1 + 0.75 * 0.1, 0.75 * -0.2])


def test_estimated_gbm_parameters_are_reported_annualized():
    # Given returns and the GBM model without parameters
    r = np.random.default_rng(1).normal(0.0005, 0.01, 1_000)
    req = service.SimulationRequest(model="gbm", returns=r.tolist(), paths=100)
    spec, info = service.build_spec(req, r)
    # Then the spec holds the per-day estimate and the info its annualized values
    lr = np.log1p(r)
    assert spec.gbm is not None and spec.gbm.sigma == pytest.approx(lr.std(ddof=1))
    assert info["gbm"]["sigma"] == pytest.approx(lr.std(ddof=1) * math.sqrt(252))
    assert info["gbm"]["estimated"] is True and info["sample"]["observations"] == 1_000


def test_the_planned_tasks_merged_in_order_equal_the_one_piece_run():
    # Given a bootstrap run of 12,345 paths over 1,000 days (13 chunks)
    r = np.random.default_rng(2).normal(0.0003, 0.01, 800)
    req = service.SimulationRequest(
        model="bootstrap", returns=r.tolist(), horizon_days=1_000, paths=12_345, seed=5
    )
    spec, _ = service.build_spec(req, r)
    tasks = service.plan_tasks(spec)
    # Then the tasks cover every chunk once, in order, within the task budget
    assert next(t["start"] for t in tasks) == 0 and tasks[-1]["stop"] == spec.n_chunks
    assert all(a["stop"] == b["start"] for a, b in itertools.pairwise(tasks))
    assert all(
        (t["stop"] - t["start"]) * sim.CHUNK_PATHS * spec.horizon <= service.TASK_BUDGET for t in tasks
    )
    # And the spec survives its JSON round trip, and the merged tasks give the one-piece numbers
    again = service.spec_from_json(json.loads(json.dumps(service.spec_to_json(spec))), spec.log_returns)
    parts = [sim.simulate_chunks(again, t["start"], t["stop"]) for t in tasks]
    assert json.dumps(sim.summarize(again, sim.PathStats.concat(parts))) == json.dumps(sim.simulate(spec))


def test_large_runs_go_asynchronous_and_sync_mode_is_refused_above_the_budget():
    big = service.SimulationRequest(
        model="gbm", gbm={"mu": 0.05, "sigma": 0.2}, paths=100_000, horizon_days=2_520
    )
    assert service.is_async(big, budget=30_000_000)
    assert not service.is_async(big.model_copy(update={"paths": 1_000}), budget=30_000_000)
    with pytest.raises(BadRequest, match="above the synchronous budget"):
        service.is_async(big.model_copy(update={"mode": "sync"}), budget=30_000_000)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "bootstrap"}, "give portfolio, backtest_id or returns"),
        ({"returns": [0.01, 0.02], "backtest_id": "0" * 32}, "give one source"),
        ({"returns": [0.01, -1.5]}, "above -1"),
        ({"portfolio": {"symbols": ["A", "B"], "weights": [1.0]}}, "1 weights for 2 symbols"),
        (
            {"model": "regime", "regime": {"mu": [0, 0], "sigma": [0.1, 0.2], "p_stay": [1.2, 0.9]}},
            "probabilities",
        ),
        ({"model": "gbm", "gbm": {"mu": 0.1, "sigma": 0.2}, "paths": 10}, "greater than or equal to 100"),
    ],
)
def test_bad_requests_name_the_field(body: dict, message: str):
    with pytest.raises(ValidationError, match=message):
        service.SimulationRequest.model_validate(body)


def test_bootstrap_without_returns_and_too_short_regime_history_are_400():
    req = service.SimulationRequest(model="regime", returns=[0.01, -0.01, 0.0], paths=100)
    with pytest.raises(BadRequest, match="regime estimation needs at least 42 returns, got 3"):
        service.build_spec(req, np.asarray(req.returns))
    with pytest.raises(BadRequest, match="equity curve"):
        service.returns_of_equity([100.0, 0.0, 50.0])


def test_wealth_that_overflows_is_a_400_not_a_500():
    # Given a sample of +1000% days compounded over 400 days (1e416: beyond a float)
    req = service.SimulationRequest(
        model="bootstrap", returns=[10.0, 10.0, 10.0], horizon_days=400, paths=100
    )
    spec, _ = service.build_spec(req, np.asarray(req.returns))
    with pytest.raises(BadRequest, match="wealth overflows"):
        service.simulate(spec)
