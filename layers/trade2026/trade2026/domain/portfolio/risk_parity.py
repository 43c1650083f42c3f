"""Equal risk contribution (risk budgeting): every asset contributes its budget share of the variance.

Spinu's convex formulation: minimize ``1/2 y'Sy - sum(b_i log y_i)`` over ``y > 0`` by damped Newton steps
(gradient ``Sy - b/y``, Hessian ``S + diag(b/y^2)``); the weights are ``y / sum(y)``, long only, and at the
optimum ``y_i (Sy)_i = b_i``: risk contributions are exactly proportional to the budgets.
"""

from __future__ import annotations

import numpy as np

from trade2026.domain.portfolio._common import PortfolioError, check_positive_definite


def risk_budget_weights(
    cov: np.ndarray, budgets: np.ndarray | None = None, *, tol: float = 1e-30
) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    n = cov.shape[0]
    check_positive_definite(cov)
    b = np.full(n, 1.0 / n) if budgets is None else np.asarray(budgets, dtype=np.float64)
    if b.shape != (n,) or np.any(b <= 0):
        raise PortfolioError(f"risk budgets must be {n} positive numbers")
    b = b / b.sum()
    std = np.sqrt(np.diag(cov))
    corr = cov / np.outer(std, std)  # solve on the correlation (better scaled), y = z / std
    z = b / np.sqrt(b @ corr @ b)

    def value(v: np.ndarray) -> float:
        return float(0.5 * v @ corr @ v - b @ np.log(v))

    for _ in range(100):
        gradient = corr @ z - b / z
        step = np.linalg.solve(corr + np.diag(b / z**2), gradient)
        decrement = float(gradient @ step)
        if decrement <= tol:
            break
        t = 1.0
        while (
            np.any(z - t * step <= 0) or value(z - t * step) > value(z) - 0.25 * t * decrement
        ) and t > 1e-10:
            t *= 0.5
        z = z - t * step
    y = z / std
    return y / y.sum()
