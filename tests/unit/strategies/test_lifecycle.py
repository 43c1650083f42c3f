"""Lifecycle gates at their thresholds (pure), and through the service: refusals name the gate and the numbers,
a version is immutable once backtested (409)."""

from __future__ import annotations

import pytest

from trade2026.domain import strategy_lifecycle as lc
from trade2026.errors import Conflict, Unprocessable
from trade2026.services import strategies as service
from trade2026.services.strategies import LinkRequest, TransitionRequest, VersionPatch

from .conftest import TRADER, Cloud

T = lc.Thresholds(max_pbo=0.3, min_dsr=0.9, min_paper_decisions=5)


def _evidence(pbo: float | None, dsr: float | None, **kw: int) -> lc.Evidence:
    return lc.Evidence(backtests=1, pbo=pbo, dsr=dsr, sweep_id="s1", **kw)


@pytest.mark.parametrize(
    ("pbo", "dsr", "refused_by"),
    [
        (0.2999, 0.9001, None),  # just inside both
        (0.3, 0.95, "PBO 0.3000"),  # PBO at the threshold: not below
        (0.31, 0.95, "PBO 0.3100"),
        (0.1, 0.9, "deflated Sharpe 0.9000"),  # DSR at the threshold: not above
        (0.1, 0.5, "deflated Sharpe 0.5000"),
    ],
)
def test_validation_gate_at_the_thresholds(pbo: float, dsr: float, refused_by: str | None):
    # Given a backtested version with a sweep's PBO and deflated Sharpe
    evidence = _evidence(pbo, dsr)
    if refused_by is None:
        # When it is validated inside both thresholds, Then it moves
        assert lc.check_transition("backtested", "validated", evidence, T) == lc.State.VALIDATED
        return
    # When either is at or beyond its threshold, Then the gate refuses, naming itself and the numbers
    with pytest.raises(lc.GateRefused) as refused:
        lc.check_transition("backtested", "validated", evidence, T)
    assert refused.value.gate == "validated"
    assert refused_by in refused.value.reason
    assert refused.value.numbers["pbo"] == pbo and refused.value.numbers["max_pbo"] == 0.3
    assert (
        refused.value.numbers["deflated_sharpe"] == dsr
        and refused.value.numbers["min_deflated_sharpe"] == 0.9
    )


def test_other_gates_and_illegal_steps():
    # Given versions at each state, Then: no backtest -> not backtested; no sweep -> not validated;
    with pytest.raises(lc.GateRefused, match="no successful backtest"):
        lc.check_transition("draft", "backtested", lc.Evidence(), T)
    with pytest.raises(lc.GateRefused, match="no linked sweep"):
        lc.check_transition("backtested", "validated", lc.Evidence(backtests=1), T)
    # paper re-checks the (possibly tightened) validation; live needs paper decisions
    with pytest.raises(lc.GateRefused, match="paper: PBO"):
        lc.check_transition("validated", "paper", _evidence(0.4, 0.99), T)
    with pytest.raises(lc.GateRefused, match="live: 4 paper decisions recorded, at least 5"):
        lc.check_transition("paper", "live", _evidence(0.1, 0.99, paper_decisions=4), T)
    assert lc.check_transition("paper", "live", _evidence(0.1, 0.99, paper_decisions=5), T) == lc.State.LIVE
    # skipping a step, or leaving retired, is not a gate but an illegal move
    with pytest.raises(lc.LifecycleError, match="draft version to live"):
        lc.check_transition("draft", "live", _evidence(0.0, 1.0), T)
    with pytest.raises(lc.LifecycleError, match="retired is final"):
        lc.check_transition("retired", "draft", _evidence(0.0, 1.0), T)
    assert lc.check_transition("live", "paper", lc.Evidence(), T) == lc.State.PAPER  # demotion is ungated
    assert lc.check_transition("draft", "retired", lc.Evidence(), T) == lc.State.RETIRED
    with pytest.raises(ValueError, match="max_pbo"):
        lc.Thresholds(max_pbo=0.0)


def test_service_refuses_promotion_with_pbo_above_threshold_and_freezes_backtested_versions(cloud: Cloud):
    # Given a draft strategy version
    strategy_id = cloud.strategy("physics_regime", {"trend_window": 100})
    thresholds = service.strategy_settings().thresholds  # defaults: PBO < 0.5, DSR > 0.95
    # When it is moved to backtested with nothing linked, Then 422 names the gate
    with pytest.raises(Unprocessable) as refused:
        service.transition(TRADER, strategy_id, 1, TransitionRequest(to="backtested"), thresholds)
    assert refused.value.details["gate"] == "backtested"
    # When a sweep with PBO 0.62 is linked, backtested passes but validated is refused with the numbers
    sweep = cloud.sweep(pbo=0.62, dsr=0.99)
    service.link(TRADER, strategy_id, 1, LinkRequest(sweeps=[sweep]), lambda _: True)
    assert service.transition(TRADER, strategy_id, 1, TransitionRequest(to="backtested"), thresholds)[
        "state"
    ] == ("backtested")
    with pytest.raises(Unprocessable) as refused:
        service.transition(TRADER, strategy_id, 1, TransitionRequest(to="validated"), thresholds)
    assert "PBO 0.6200" in refused.value.message and "not below 0.5000" in refused.value.message
    assert refused.value.details == {
        "gate": "validated", "pbo": 0.62, "max_pbo": 0.5, "deflated_sharpe": 0.99, "min_deflated_sharpe": 0.95,
        "sweep_id": sweep,
    }  # fmt: skip
    # And the backtested version is immutable: editing it is a 409, its parameters unchanged
    with pytest.raises(Conflict, match="immutable once backtested"):
        service.patch_version(TRADER, strategy_id, 1, VersionPatch(params={"trend_window": 50}))
    assert service.get_version(strategy_id, 1).params["trend_window"] == 100
    # And the most recently linked sweep is the evidence: a passing one then validates
    service.link(TRADER, strategy_id, 1, LinkRequest(sweeps=[cloud.sweep(pbo=0.2, dsr=0.97)]), lambda _: True)
    view = service.transition(TRADER, strategy_id, 1, TransitionRequest(to="validated"), thresholds)
    assert view["state"] == "validated" and view["evidence"]["pbo"] == 0.2
    assert [h["to"] for h in view["history"]] == ["draft", "backtested", "validated"]


def test_draft_versions_are_editable_and_parameters_are_validated(cloud: Cloud):
    # Given a draft
    strategy_id = cloud.strategy("hold", {"target": 0.1})
    # When its parameters change within bounds, Then they are saved; out of bounds is a 422 naming the field
    assert service.patch_version(TRADER, strategy_id, 1, VersionPatch(params={"target": 0.2}))["params"] == {
        "target": 0.2
    }
    with pytest.raises(Unprocessable, match=r"params.target = 1.5 is outside \[-1, 1\]"):
        service.patch_version(TRADER, strategy_id, 1, VersionPatch(params={"target": 1.5}))
    with pytest.raises(Unprocessable, match="has no parameters"):
        service.add_version(TRADER, strategy_id, service.VersionRequest(params={"bogus": 1}))
