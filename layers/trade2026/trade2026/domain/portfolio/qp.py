"""Convex quadratic programs ``min 1/2 x'Qx + c'x`` over a LinearSystem: SLSQP, then an exact active-set polish.

SLSQP (tight tolerance) finds the active constraints; the polish solves the KKT equations of the problem with
those constraints held as equalities, which gives the optimum to machine precision when the active set is
right (it is kept only if it is feasible and no worse).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize

from trade2026.domain.portfolio._common import PortfolioError
from trade2026.domain.portfolio.constraints import LinearSystem

ACTIVE_TOL = 1e-8


def objective(q: np.ndarray, c: np.ndarray, x: np.ndarray) -> float:
    return float(0.5 * x @ q @ x + c @ x)


def solve_qp(q: np.ndarray, c: np.ndarray, system: LinearSystem, x0: np.ndarray) -> np.ndarray:
    constraints: list[dict[str, Any]] = [
        {"type": "eq", "fun": lambda x: system.a_eq @ x - system.b_eq, "jac": lambda _x: system.a_eq}
    ]
    if len(system.b_ub):
        constraints.append(
            {"type": "ineq", "fun": lambda x: system.b_ub - system.a_ub @ x, "jac": lambda _x: -system.a_ub}
        )
    bounds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(system.lower, system.upper, strict=True)
    ]
    result = optimize.minimize(
        lambda x: objective(q, c, x), x0, jac=lambda x: q @ x + c, method="SLSQP",
        bounds=bounds, constraints=constraints, options={"ftol": 1e-15, "maxiter": 2000},
    )  # fmt: skip
    x = np.clip(np.asarray(result.x), system.lower, system.upper)
    if not system.feasible(x, 1e-6):
        raise PortfolioError(f"the optimizer did not converge ({result.message}); check the constraints")
    return polish(q, c, system, x)


def polish(q: np.ndarray, c: np.ndarray, system: LinearSystem, x: np.ndarray) -> np.ndarray:
    at_lower = np.isfinite(system.lower) & (x - system.lower <= ACTIVE_TOL)
    at_upper = np.isfinite(system.upper) & (system.upper - x <= ACTIVE_TOL) & ~at_lower
    fixed = at_lower | at_upper
    free = ~fixed
    start = np.where(at_lower, system.lower, np.where(at_upper, system.upper, x))
    active = (system.b_ub - system.a_ub @ x) <= ACTIVE_TOL
    a = np.vstack([system.a_eq, system.a_ub[active]])
    b = np.concatenate([system.b_eq, system.b_ub[active]])
    a_free = a[:, free]
    rhs = b - a[:, fixed] @ start[fixed]
    q_free = q[np.ix_(free, free)]
    c_free = c[free] + q[np.ix_(free, fixed)] @ start[fixed]
    n_free, n_rows = int(free.sum()), len(b)
    kkt = np.block([[q_free, a_free.T], [a_free, np.zeros((n_rows, n_rows))]])
    solution = np.linalg.lstsq(kkt, np.concatenate([-c_free, rhs]), rcond=None)[0]
    candidate = start.copy()
    candidate[free] = solution[:n_free]
    before, after = objective(q, c, x), objective(q, c, candidate)
    if system.feasible(candidate, 1e-12) and after <= before + 1e-14 * max(1.0, abs(before)):
        return candidate
    return x
