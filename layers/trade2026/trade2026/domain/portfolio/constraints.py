"""Linear portfolio constraints (bounds, group bounds, turnover, transaction costs) as one LP/QP system.

Variables are ``x = [w]``, or ``x = [w, buy, sell]`` when trades versus current weights matter
(``w - buy + sell = current``, ``buy, sell >= 0``): the turnover ``sum(buy + sell)`` is then linear, so a
turnover limit is a row and a proportional cost is a linear term of the expected return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from trade2026.domain.portfolio._common import InfeasibleError, PortfolioError

TOL = 1e-9


@dataclass(frozen=True)
class Group:
    name: str
    members: np.ndarray  # bool (N,)
    lower: float
    upper: float


@dataclass(frozen=True)
class Constraints:
    lower: np.ndarray
    upper: np.ndarray
    groups: tuple[Group, ...] = ()
    current: np.ndarray | None = None
    max_turnover: float | None = None
    cost: float = 0.0  # per unit of turnover, deducted once from the (annual) expected return
    names: tuple[str, ...] = field(default=())

    @classmethod
    def long_only(cls, n_assets: int) -> Constraints:
        return cls(np.zeros(n_assets), np.ones(n_assets))

    @property
    def n_assets(self) -> int:
        return len(self.lower)

    @property
    def has_trades(self) -> bool:
        return self.current is not None and (self.max_turnover is not None or self.cost > 0)

    def name(self, i: int) -> str:
        return self.names[i] if i < len(self.names) else f"asset {i}"

    @property
    def is_long_only(self) -> bool:
        return (
            bool(np.all(self.lower == 0) and np.all(self.upper == 1) and not self.groups)
            and not self.has_trades
        )


@dataclass(frozen=True)
class LinearSystem:
    """``a_eq x = b_eq``, ``a_ub x <= b_ub``, ``lower <= x <= upper``; ``n_assets`` first variables are w."""

    a_eq: np.ndarray
    b_eq: np.ndarray
    a_ub: np.ndarray
    b_ub: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_assets: int
    net_return: np.ndarray  # r such that r @ x is the expected return net of costs (given mu)

    @property
    def n_vars(self) -> int:
        return len(self.lower)

    def with_row(self, row: np.ndarray, rhs: float) -> LinearSystem:
        return LinearSystem(
            self.a_eq, self.b_eq, np.vstack([self.a_ub, row]), np.append(self.b_ub, rhs),
            self.lower, self.upper, self.n_assets, self.net_return,
        )  # fmt: skip

    def feasible(self, x: np.ndarray, tol: float = 1e-8) -> bool:
        return bool(
            np.all(x >= self.lower - tol)
            and np.all(x <= self.upper + tol)
            and np.all(np.abs(self.a_eq @ x - self.b_eq) <= tol)
            and np.all(self.a_ub @ x <= self.b_ub + tol)
        )

    def linprog(self, objective: np.ndarray) -> optimize.OptimizeResult:
        return optimize.linprog(
            objective, A_ub=self.a_ub if len(self.b_ub) else None, b_ub=self.b_ub if len(self.b_ub) else None,
            A_eq=self.a_eq, b_eq=self.b_eq, bounds=np.column_stack([self.lower, self.upper]), method="highs",
        )  # fmt: skip


def validate(cons: Constraints) -> None:
    """Raise InfeasibleError naming the first contradiction (bounds, groups); PortfolioError for bad values."""
    n = cons.n_assets
    for i in range(n):
        if cons.lower[i] > cons.upper[i]:
            raise InfeasibleError(
                f"bounds of {cons.name(i)}: lower {cons.lower[i]:g} is above upper {cons.upper[i]:g}"
            )
    if cons.lower.sum() > 1 + TOL:
        raise InfeasibleError(f"the lower bounds sum to {cons.lower.sum():.6g} > 1: weights must sum to 1")
    if cons.upper.sum() < 1 - TOL:
        raise InfeasibleError(f"the upper bounds sum to {cons.upper.sum():.6g} < 1: weights must sum to 1")
    for group in cons.groups:
        if group.lower > group.upper:
            raise InfeasibleError(f"group {group.name}: lower {group.lower:g} is above upper {group.upper:g}")
        most, least = cons.upper[group.members].sum(), cons.lower[group.members].sum()
        if most < group.lower - TOL:
            raise InfeasibleError(
                f"group {group.name}: its assets' upper bounds sum to {most:.6g} < the group's lower bound "
                f"{group.lower:g}"
            )
        if least > group.upper + TOL:
            raise InfeasibleError(
                f"group {group.name}: its assets' lower bounds sum to {least:.6g} > the group's upper bound "
                f"{group.upper:g}"
            )
    if cons.current is not None and len(cons.current) != n:
        raise PortfolioError(f"current weights have {len(cons.current)} entries for {n} assets")
    if cons.max_turnover is not None and cons.max_turnover < 0:
        raise PortfolioError(f"max_turnover must be >= 0, got {cons.max_turnover}")
    if cons.cost < 0:
        raise PortfolioError(f"transaction cost must be >= 0, got {cons.cost}")


def build(cons: Constraints, mu: np.ndarray | None = None, *, trades: bool | None = None) -> LinearSystem:
    """The linear system of the constraints; checked feasible (InfeasibleError says what conflicts)."""
    validate(cons)
    n = cons.n_assets
    with_trades = cons.has_trades if trades is None else trades and cons.current is not None
    n_vars = 3 * n if with_trades else n
    eq_rows, eq_rhs = [np.concatenate([np.ones(n), np.zeros(n_vars - n)])], [1.0]
    ub_rows: list[np.ndarray] = []
    ub_rhs: list[float] = []
    for group in cons.groups:
        row = np.zeros(n_vars)
        row[:n] = group.members
        ub_rows += [row, -row]
        ub_rhs += [group.upper, -group.lower]
    lower = np.concatenate([cons.lower, np.zeros(n_vars - n)])
    upper = np.concatenate([cons.upper, np.full(n_vars - n, np.inf)])
    net = np.zeros(n_vars)
    if mu is not None:
        net[:n] = mu
    if with_trades:
        assert cons.current is not None
        eye = np.eye(n)
        eq_rows += list(np.hstack([eye, -eye, eye]))
        eq_rhs += list(cons.current)
        net[n:] = -cons.cost
        if cons.max_turnover is not None:
            ub_rows.append(np.concatenate([np.zeros(n), np.ones(2 * n)]))
            ub_rhs.append(cons.max_turnover)
    system = LinearSystem(
        np.array(eq_rows), np.array(eq_rhs), np.array(ub_rows).reshape(-1, n_vars), np.array(ub_rhs),
        lower, upper, n, net,
    )  # fmt: skip
    found = system.linprog(np.zeros(n_vars))
    if found.status == 2:
        detail = " and the turnover limit" if with_trades and cons.max_turnover is not None else ""
        raise InfeasibleError(
            f"the constraints are infeasible together: no weights satisfy the bounds, groups{detail}"
        )
    return system


def max_net_return(system: LinearSystem) -> tuple[float, np.ndarray]:
    """The highest expected return (net of costs) any feasible portfolio reaches, and that portfolio."""
    found = system.linprog(-system.net_return)
    if found.status == 3:
        raise InfeasibleError("the expected return is unbounded under these constraints: bound the weights")
    return float(-found.fun), np.asarray(found.x)
