"""Minimum CVaR portfolio (Rockafellar-Uryasev linear program, solved by HiGHS).

``CVaR_a(w)`` is the mean loss in the worst ``1 - a`` of the scenarios (the return rows). Minimize
``z + sum(u_t) / ((1 - a) T)`` with ``u_t >= -r_t'w - z``, ``u >= 0``, plus the linear constraints (bounds,
groups, turnover, costs) and optionally an expected return of at least ``target_return``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from trade2026.domain.portfolio._common import InfeasibleError, PortfolioError
from trade2026.domain.portfolio.constraints import Constraints, build, max_net_return


@dataclass(frozen=True)
class CVaRResult:
    weights: np.ndarray
    cvar: float  # per-bar loss (positive = loss)
    var: float


def portfolio_cvar(returns: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """The mean of the worst ``1 - alpha`` losses of ``returns @ weights`` (Rockafellar-Uryasev, fractional)."""
    losses = np.sort(-(returns @ weights))[::-1]
    tail = (1.0 - alpha) * len(losses)
    whole = int(np.floor(tail))
    total = losses[:whole].sum() + (tail - whole) * (losses[whole] if whole < len(losses) else 0.0)
    return float(total / tail)


def min_cvar(
    returns: np.ndarray, cons: Constraints, alpha: float = 0.95, mu: np.ndarray | None = None,
    target_return: float | None = None,
) -> CVaRResult:  # fmt: skip
    returns = np.asarray(returns, dtype=np.float64)
    n_obs, n = returns.shape
    if not 0.5 <= alpha < 1:
        raise PortfolioError(f"cvar alpha must be in [0.5, 1), got {alpha}")
    if (1 - alpha) * n_obs < 1:
        raise PortfolioError(
            f"{n_obs} observations leave no tail at alpha {alpha}: need at least {int(np.ceil(1 / (1 - alpha)))}"
        )
    means = returns.mean(axis=0) if mu is None else mu
    system = build(cons, means)
    if target_return is not None:
        best, _ = max_net_return(system)
        if target_return > best + 1e-12:
            raise InfeasibleError(
                f"target_return {target_return:.6g} is above the maximum attainable expected return {best:.6g}"
            )
        system = system.with_row(-system.net_return, -target_return)
    n_vars = system.n_vars
    # variables: [x (n_vars), z, u (T)]
    scenario = sparse.hstack([
        sparse.csr_matrix(-returns), sparse.csr_matrix((n_obs, n_vars - n)), sparse.csr_matrix(-np.ones((n_obs, 1))),
        -sparse.identity(n_obs, format="csr"),
    ])  # fmt: skip
    existing = sparse.hstack(
        [sparse.csr_matrix(system.a_ub), sparse.csr_matrix((len(system.b_ub), 1 + n_obs))]
    )
    a_ub = sparse.vstack([existing, scenario], format="csr")
    b_ub = np.concatenate([system.b_ub, np.zeros(n_obs)])
    a_eq = sparse.hstack(
        [sparse.csr_matrix(system.a_eq), sparse.csr_matrix((len(system.b_eq), 1 + n_obs))], format="csr"
    )
    c = np.concatenate([np.zeros(n_vars), [1.0], np.full(n_obs, 1.0 / ((1.0 - alpha) * n_obs))])
    bounds = np.vstack([
        np.column_stack([system.lower, system.upper]), [[-np.inf, np.inf]],
        np.column_stack([np.zeros(n_obs), np.full(n_obs, np.inf)]),
    ])  # fmt: skip
    found = optimize.linprog(
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=system.b_eq, bounds=bounds, method="highs"
    )
    if found.status != 0:
        raise InfeasibleError(f"min-CVaR has no solution: {found.message}")
    weights = np.asarray(found.x[:n])
    return CVaRResult(weights, float(found.fun), float(found.x[n_vars]))
