"""Lifecycle of a strategy version: draft -> backtested -> validated -> paper -> live -> retired, with gates.

A version moves one step forward at a time (or to retired from anywhere, or from live back to paper); each
forward step has a gate on the evidence linked to the version:
    backtested  at least one successful backtest or sweep is linked
    validated   a linked sweep with PBO < ``max_pbo`` and deflated Sharpe > ``min_dsr`` (thresholds configurable)
    paper       validated evidence still holds (the thresholds may have been tightened since)
    live        the version has run in paper (``paper_decisions`` >= ``min_paper_decisions``)
A refused step raises `GateRefused` naming the gate and the numbers. Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    DRAFT = "draft"
    BACKTESTED = "backtested"
    VALIDATED = "validated"
    PAPER = "paper"
    LIVE = "live"
    RETIRED = "retired"


ORDER = (State.DRAFT, State.BACKTESTED, State.VALIDATED, State.PAPER, State.LIVE)
DEPLOYABLE = frozenset({State.PAPER, State.LIVE})  # may run in a slot (orders) ...
SHADOWABLE = frozenset({State.VALIDATED, State.PAPER, State.LIVE})  # ... or beside one (no orders)


class LifecycleError(ValueError):
    """A transition that is not allowed at all (e.g. draft -> live, or anything out of retired)."""


class GateRefused(ValueError):
    """A transition allowed in principle whose gate the evidence does not pass."""

    def __init__(self, gate: str, reason: str, numbers: dict[str, Any]) -> None:
        super().__init__(reason)
        self.gate = gate
        self.reason = reason
        self.numbers = numbers


@dataclass(frozen=True)
class Thresholds:
    max_pbo: float = 0.5  # PBO must be strictly below
    min_dsr: float = 0.95  # deflated Sharpe (a probability) must be strictly above
    min_paper_decisions: int = 20

    def __post_init__(self) -> None:
        if not 0.0 < self.max_pbo <= 1.0:
            raise ValueError(f"max_pbo must be in (0, 1], got {self.max_pbo}")
        if not 0.0 <= self.min_dsr < 1.0:
            raise ValueError(f"min_dsr must be in [0, 1), got {self.min_dsr}")
        if self.min_paper_decisions < 0:
            raise ValueError(f"min_paper_decisions must be >= 0, got {self.min_paper_decisions}")


@dataclass(frozen=True)
class Evidence:
    backtests: int = 0  # successful linked backtests and sweeps
    pbo: float | None = None  # of the best linked sweep (lowest PBO)
    dsr: float | None = None  # of that sweep
    sweep_id: str | None = None
    paper_decisions: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


def immutable(state: State | str) -> bool:
    """A version's code and parameters are frozen once it has been backtested."""
    return State(state) != State.DRAFT


def allowed_targets(current: State | str) -> list[State]:
    state = State(current)
    if state == State.RETIRED:
        return []
    targets = [State.RETIRED]
    if state != State.LIVE:
        targets.insert(0, ORDER[ORDER.index(state) + 1])
    else:
        targets.insert(0, State.PAPER)  # demote
    return targets


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _validation_gate(evidence: Evidence, thresholds: Thresholds, gate: str) -> None:
    numbers = {"pbo": evidence.pbo, "max_pbo": thresholds.max_pbo, "deflated_sharpe": evidence.dsr,
               "min_deflated_sharpe": thresholds.min_dsr, "sweep_id": evidence.sweep_id}  # fmt: skip
    if evidence.sweep_id is None or not _finite(evidence.pbo) or not _finite(evidence.dsr):
        raise GateRefused(
            gate, f"{gate}: no linked sweep with PBO and deflated Sharpe (link a finished sweep)", numbers
        )
    assert evidence.pbo is not None and evidence.dsr is not None
    if not evidence.pbo < thresholds.max_pbo:
        raise GateRefused(
            gate, f"{gate}: PBO {evidence.pbo:.4f} of sweep {evidence.sweep_id} is not below "
            f"{thresholds.max_pbo:.4f}", numbers,
        )  # fmt: skip
    if not evidence.dsr > thresholds.min_dsr:
        raise GateRefused(
            gate, f"{gate}: deflated Sharpe {evidence.dsr:.4f} of sweep {evidence.sweep_id} is not above "
            f"{thresholds.min_dsr:.4f}", numbers,
        )  # fmt: skip


def check_transition(
    current: State | str, target: State | str, evidence: Evidence, thresholds: Thresholds
) -> State:
    """The new state, or LifecycleError (not a legal step) / GateRefused (the evidence fails the gate)."""
    state, wanted = State(current), State(target)
    if wanted not in allowed_targets(state):
        allowed = ", ".join(allowed_targets(state)) or "none (retired is final)"
        raise LifecycleError(f"cannot move a {state} version to {wanted}; allowed: {allowed}")
    if wanted == State.BACKTESTED and evidence.backtests < 1:
        raise GateRefused(
            "backtested", "backtested: no successful backtest or sweep is linked to this version",
            {"backtests": evidence.backtests},
        )  # fmt: skip
    if wanted == State.VALIDATED:
        _validation_gate(evidence, thresholds, "validated")
    if wanted == State.PAPER and state == State.VALIDATED:
        _validation_gate(evidence, thresholds, "paper")
    if wanted == State.LIVE and evidence.paper_decisions < thresholds.min_paper_decisions:
        raise GateRefused(
            "live", f"live: {evidence.paper_decisions} paper decisions recorded, at least "
            f"{thresholds.min_paper_decisions} needed", {"paper_decisions": evidence.paper_decisions,
                                                          "min_paper_decisions": thresholds.min_paper_decisions},
        )  # fmt: skip
    return wanted
