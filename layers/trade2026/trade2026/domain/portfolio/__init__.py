"""Portfolio construction (numpy/scipy only): covariance and expected-return estimators, mean-variance,
HRP/HERC, equal risk contribution and min-CVaR optimizers, with linear constraints."""

from trade2026.domain.portfolio._common import (
    InfeasibleError,
    PortfolioError,
    RiskReport,
    SingularCovarianceError,
    as_returns,
    check_positive_definite,
    cov_to_corr,
    risk_report,
)
from trade2026.domain.portfolio.constraints import Constraints, Group

__all__ = [
    "Constraints",
    "Group",
    "InfeasibleError",
    "PortfolioError",
    "RiskReport",
    "SingularCovarianceError",
    "as_returns",
    "check_positive_definite",
    "cov_to_corr",
    "risk_report",
]
