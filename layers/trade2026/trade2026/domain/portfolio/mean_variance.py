"""Mean-variance optimization: max Sharpe, min volatility, efficient return/risk, the efficient frontier.

``mu`` and ``cov`` are in the same units (annual, usually); constraints are linear (see constraints.py). Max
Sharpe is solved as the convex QP of Cornuejols-Tutuncu (``y = k w``: minimize ``y'Sy`` subject to
``(mu - rf)'y = 1`` and every constraint homogenized by ``k``), the same formulation as PyPortfolioOpt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from trade2026.domain.portfolio._common import InfeasibleError, PortfolioError, check_positive_definite
from trade2026.domain.portfolio.constraints import Constraints, LinearSystem, build, max_net_return
from trade2026.domain.portfolio.qp import solve_qp


def _quadratic(cov: np.ndarray, n_vars: int) -> np.ndarray:
    q = np.zeros((n_vars, n_vars))
    n = cov.shape[0]
    q[:n, :n] = cov
    return q


def _start(system: LinearSystem) -> np.ndarray:
    found = system.linprog(np.zeros(system.n_vars))
    return np.asarray(found.x)


def _check(mu: np.ndarray | None, cov: np.ndarray, cons: Constraints) -> None:
    n = cov.shape[0]
    if cov.shape != (n, n) or (mu is not None and mu.shape != (n,)) or cons.n_assets != n:
        raise PortfolioError(
            f"shapes differ: cov {cov.shape}, mu {None if mu is None else mu.shape}, {cons.n_assets} bounds"
        )
    check_positive_definite(cov)


def min_volatility(cov: np.ndarray, cons: Constraints) -> np.ndarray:
    """The lowest-variance weights (transaction costs play no part; a turnover limit does)."""
    _check(None, cov, cons)
    system = build(cons, trades=cons.current is not None and cons.max_turnover is not None)
    x = solve_qp(_quadratic(cov, system.n_vars), np.zeros(system.n_vars), system, _start(system))
    return x[: cons.n_assets]


def efficient_return(mu: np.ndarray, cov: np.ndarray, cons: Constraints, target: float) -> np.ndarray:
    """Min variance with an expected return (net of costs) of at least ``target``."""
    _check(mu, cov, cons)
    system = build(cons, mu)
    best, _ = max_net_return(system)
    if target > best + 1e-12:
        raise InfeasibleError(
            f"target_return {target:.6g} is above the maximum attainable expected return {best:.6g}"
        )
    system = system.with_row(-system.net_return, -target)
    x = solve_qp(_quadratic(cov, system.n_vars), np.zeros(system.n_vars), system, _start(system))
    return x[: cons.n_assets]


def efficient_risk(
    mu: np.ndarray, cov: np.ndarray, cons: Constraints, target_volatility: float
) -> np.ndarray:
    """Max expected return (net of costs) with a volatility of at most ``target_volatility``."""
    _check(mu, cov, cons)
    floor = min_volatility(cov, cons)
    lowest = float(np.sqrt(floor @ cov @ floor))
    if target_volatility < lowest - 1e-12:
        raise InfeasibleError(
            f"target_volatility {target_volatility:.6g} is below the minimum attainable volatility {lowest:.6g}"
        )
    system = build(cons, mu)
    _, richest = max_net_return(system)
    n = cons.n_assets
    if float(np.sqrt(richest[:n] @ cov @ richest[:n])) <= target_volatility:
        return richest[:n]
    x0 = np.concatenate([floor, np.zeros(system.n_vars - n)])
    if system.n_vars > n:
        assert cons.current is not None
        x0[n : 2 * n] = np.maximum(floor - cons.current, 0)
        x0[2 * n :] = np.maximum(cons.current - floor, 0)
    bounds = [
        (lo, None if not np.isfinite(hi) else hi) for lo, hi in zip(system.lower, system.upper, strict=True)
    ]
    constraints = [
        {"type": "eq", "fun": lambda x: system.a_eq @ x - system.b_eq, "jac": lambda _x: system.a_eq},
        {"type": "ineq", "fun": lambda x: target_volatility**2 - x[:n] @ cov @ x[:n],
         "jac": lambda x: np.concatenate([-2 * cov @ x[:n], np.zeros(system.n_vars - n)])},
    ]  # fmt: skip
    if len(system.b_ub):
        constraints.append(
            {"type": "ineq", "fun": lambda x: system.b_ub - system.a_ub @ x, "jac": lambda _x: -system.a_ub}
        )
    result = optimize.minimize(
        lambda x: -system.net_return @ x, x0, jac=lambda _x: -system.net_return, method="SLSQP",
        bounds=bounds, constraints=constraints, options={"ftol": 1e-15, "maxiter": 2000},
    )  # fmt: skip
    x = np.asarray(result.x)
    if not system.feasible(x, 1e-6):
        raise PortfolioError(f"the optimizer did not converge ({result.message}); check the constraints")
    return x[:n]


def max_sharpe(mu: np.ndarray, cov: np.ndarray, cons: Constraints, risk_free_rate: float = 0.0) -> np.ndarray:
    """The tangency portfolio: max (expected return net of costs - risk_free_rate) / volatility."""
    _check(mu, cov, cons)
    base = build(cons, mu)
    best, _ = max_net_return(base)
    if best <= risk_free_rate:
        raise InfeasibleError(
            f"no portfolio's expected return exceeds the risk-free rate {risk_free_rate:.6g} "
            f"(the highest attainable is {best:.6g}): max Sharpe is undefined"
        )
    n, n_vars = cons.n_assets, base.n_vars
    # y-space: variables [y (, buy, sell), k]; each row a x <= b becomes a x - b k <= 0.
    finite_lo = np.isfinite(base.lower[:n])
    finite_hi = np.isfinite(base.upper[:n])
    eye = np.eye(n, n_vars)
    ub_rows = [np.column_stack([base.a_ub, -base.b_ub])] if len(base.b_ub) else []
    ub_rows.append(np.column_stack([eye[finite_hi], -base.upper[:n][finite_hi]]))
    ub_rows.append(np.column_stack([-eye[finite_lo], base.lower[:n][finite_lo]]))
    excess = base.net_return.copy()
    excess[:n] -= risk_free_rate
    a_eq = np.vstack([np.column_stack([base.a_eq, -base.b_eq]), np.append(excess, 0.0)])
    b_eq = np.append(np.zeros(len(base.b_eq)), 1.0)
    a_ub = np.vstack(ub_rows)
    lower = np.concatenate([np.full(n, -np.inf), base.lower[n:], [0.0]])
    upper = np.full(n_vars + 1, np.inf)
    system = LinearSystem(a_eq, b_eq, a_ub, np.zeros(len(a_ub)), lower, upper, n, np.zeros(n_vars + 1))
    x = solve_qp(_quadratic(cov, n_vars + 1), np.zeros(n_vars + 1), system, _start(system))
    k = x[-1]
    if k <= 0:
        raise InfeasibleError("max Sharpe has no solution under these constraints")
    return x[:n] / k


@dataclass(frozen=True)
class FrontierPoint:
    expected_return: float
    volatility: float
    weights: np.ndarray


def efficient_frontier(
    mu: np.ndarray, cov: np.ndarray, cons: Constraints, points: int = 20
) -> list[FrontierPoint]:
    """``points`` portfolios from the min-volatility one to the highest attainable expected return."""
    if points < 2:
        raise PortfolioError(f"the frontier needs at least 2 points, got {points}")
    floor = min_volatility(cov, cons)
    best, _ = max_net_return(build(cons, mu))
    low = float(mu @ floor)
    frontier = []
    for target in np.linspace(min(low, best), best, points):
        weights = efficient_return(mu, cov, cons, float(target))
        frontier.append(FrontierPoint(float(mu @ weights), float(np.sqrt(weights @ cov @ weights)), weights))
    return frontier
