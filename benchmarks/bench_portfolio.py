"""HRP on 50/200/500 assets x 1,000 days: trade2026 vs PyPortfolioOpt and Riskfolio-Lib, side by side.

The returns are SYNTHETIC (seeded): a 5-factor model plus idiosyncratic noise, daily scale (about 1-2% a day),
so the clustering has structure to find. Every implementation starts from the same (1000, N) returns and
computes its own covariance/correlation, single linkage, dendrogram leaf order (no optimal ordering), variance
risk measure: PyPortfolioOpt ``HRPOpt(returns).optimize("single")``, Riskfolio-Lib ``HCPortfolio(returns)
.optimization(model="HRP", codependence="pearson", rm="MV", linkage="single", leaf_order=False)``, trade2026
``hrp.hrp(np.cov(returns), "single")``. The weights must agree (max difference shown); runs alternate between
the implementations and the table shows medians.

    .venv/bin/python benchmarks/bench_portfolio.py [--runs 5] [--write]
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from common import bench_arguments, markdown_table, median, provenance, ratio, spread, update_section

from trade2026.domain.portfolio import hrp

SIZES = (50, 200, 500)
DAYS = 1000
TARGET = 0.3  # of PyPortfolioOpt's time at 500 assets


def synthetic_returns(n_assets: int, seed: int = 2026) -> pd.DataFrame:
    """(DAYS, n_assets) seeded factor-model returns (synthetic)."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.0, 1.0, size=(n_assets, 5)) * np.array([0.008, 0.005, 0.004, 0.003, 0.002])
    factors = rng.normal(size=(DAYS, 5))
    noise = rng.normal(0.0, 0.01, size=(DAYS, n_assets))
    values = 0.0003 + factors @ loadings.T + noise
    return pd.DataFrame(values, columns=[f"S{i:03d}" for i in range(n_assets)])


def ours(returns: pd.DataFrame) -> np.ndarray:
    weights, _ = hrp.hrp(np.cov(returns.to_numpy(), rowvar=False), "single")
    return weights


def pypfopt(returns: pd.DataFrame) -> np.ndarray:
    from pypfopt import HRPOpt

    return pd.Series(HRPOpt(returns).optimize("single")).reindex(returns.columns).to_numpy()


def riskfolio(returns: pd.DataFrame) -> np.ndarray:
    import riskfolio as rp

    portfolio = rp.HCPortfolio(returns=returns)
    weights = portfolio.optimization(
        model="HRP", codependence="pearson", rm="MV", rf=0, linkage="single", leaf_order=False
    )
    return weights["weights"].reindex(returns.columns).to_numpy()


IMPLEMENTATIONS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "trade2026": ours,
    "PyPortfolioOpt": pypfopt,
    "Riskfolio-Lib": riskfolio,
}


def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def main() -> None:
    args = bench_arguments(__doc__.splitlines()[0]).parse_args()
    warnings.filterwarnings("ignore")
    for function in IMPLEMENTATIONS.values():  # imports and first-call costs out of the way
        function(synthetic_returns(20))
    times: dict[tuple[int, str], list[float]] = {}
    differences: dict[int, float] = {}
    for n_assets in SIZES:
        returns = synthetic_returns(n_assets)
        for run in range(args.runs):
            weights = {}
            for name, function in IMPLEMENTATIONS.items():
                weights[name], seconds = timed(function, returns)
                times.setdefault((n_assets, name), []).append(seconds)
            difference = max(float(np.abs(weights["trade2026"] - w).max()) for w in weights.values())
            assert difference < 1e-8, f"the implementations disagree at N={n_assets}: {difference}"
            differences[n_assets] = max(differences.get(n_assets, 0.0), difference)
            print(f"N={n_assets} run {run + 1}/{args.runs}: " + ", ".join(
                f"{name} {times[(n_assets, name)][-1] * 1000:.1f} ms" for name in IMPLEMENTATIONS
            ), flush=True)  # fmt: skip
    report = render(times, differences, args.runs)
    print(report)
    if args.write:
        update_section("portfolio", report)


def render(times: dict[tuple[int, str], list[float]], differences: dict[int, float], runs: int) -> str:
    rows = []
    for n_assets in SIZES:
        mine = median(times[(n_assets, "trade2026")])
        peers = {name: median(times[(n_assets, name)]) for name in IMPLEMENTATIONS if name != "trade2026"}
        rows.append([
            f"{n_assets} x {DAYS}",
            *(f"{median(times[(n_assets, name)]) * 1000:.1f} ms" for name in IMPLEMENTATIONS),
            ratio(mine, peers["PyPortfolioOpt"]),
            ratio(mine, peers["Riskfolio-Lib"]),
            f"{differences[n_assets]:.1e}",
            spread(times[(n_assets, "trade2026")], scale=1000, digits=1),
        ])  # fmt: skip
    at_500 = median(times[(500, "trade2026")]) or 0.0
    peer_500 = median(times[(500, "PyPortfolioOpt")]) or 1.0
    verdict = "meets" if at_500 <= TARGET * peer_500 else "MISSES"
    table = markdown_table(
        ["assets x days", "trade2026", "PyPortfolioOpt", "Riskfolio-Lib", "trade2026 / PyPortfolioOpt",
         "trade2026 / Riskfolio-Lib", "max weight difference", "trade2026 spread ms"],
        rows,
    )  # fmt: skip
    summary = (
        f"SYNTHETIC seeded returns (5-factor model + noise, {DAYS} days); single linkage, leaf order of the "
        f"dendrogram, variance risk; each implementation computes its own covariance from the returns. Medians "
        f"of {runs} alternating runs. Target at 500 assets: at most {TARGET}x PyPortfolioOpt's time - {verdict} "
        f"({at_500 / peer_500:.2f}x)."
    )
    return (
        f"### HRP: trade2026 vs PyPortfolioOpt and Riskfolio-Lib\n\n{provenance()}\n\n{summary}\n\n{table}\n"
    )


if __name__ == "__main__":
    main()
