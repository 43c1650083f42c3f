"""Hierarchical Risk Parity (López de Prado 2016) and Hierarchical Equal Risk Contribution (Raffinot 2018).

Distance ``sqrt((1 - rho) / 2)`` (clipped to [0, 1]) of the correlation of the covariance, ``scipy`` linkage of
its condensed form (any scipy method; HRP's original is ``single``), leaves in dendrogram order (optionally
scipy's optimal leaf ordering), then recursive bisection of that order: each half gets
``1 - var_left / (var_left + var_right)``, ``var`` the variance of its inverse-variance portfolio. This is
PyPortfolioOpt's ``HRPOpt.optimize(linkage)`` and skfolio's ``HierarchicalRiskParity`` with the same linkage
(skfolio orders leaves optimally by default; both give the same weights when configured alike).

HERC follows skfolio's ``HierarchicalEqualRiskContribution`` (variance risk measure): cut the tree into k
clusters (k by the two-order difference of the gap statistic unless given), inverse-variance weights inside a
cluster, and down the tree each split gets ``1 - risk_left / (risk_left + risk_right)``, a side's risk being
the sum of the variances of its clusters' inverse-variance portfolios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from trade2026.domain.portfolio._common import PortfolioError, cov_to_corr

LINKAGE_METHODS = ("single", "complete", "average", "weighted", "centroid", "median", "ward")


@dataclass(frozen=True)
class Tree:
    linkage: np.ndarray
    condensed: np.ndarray
    order: np.ndarray  # leaves, left to right


def cluster_tree(corr: np.ndarray, method: str = "single", optimal_ordering: bool = False) -> Tree:
    if method not in LINKAGE_METHODS:
        raise PortfolioError(f"unknown linkage {method!r}; known: {', '.join(LINKAGE_METHODS)}")
    distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    condensed = squareform(distance, checks=False)
    linkage = hierarchy.linkage(condensed, method)
    if optimal_ordering:
        linkage = hierarchy.optimal_leaf_ordering(linkage, condensed)
    return Tree(linkage, condensed, hierarchy.leaves_list(linkage))


def _inverse_variance_risk(cov: np.ndarray, variances: np.ndarray, items: np.ndarray) -> float:
    weights = 1.0 / variances[items]
    weights /= weights.sum()
    return float(weights @ cov[np.ix_(items, items)] @ weights)


def hrp_weights(cov: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Recursive bisection of ``order`` (split at ``len // 2``, breadth first) with inverse-variance halves."""
    order = np.asarray(order)
    variances = np.diag(cov)
    if np.any(variances <= 0):
        raise PortfolioError("HRP needs every asset to have a positive variance")
    ordered = np.ascontiguousarray(cov[np.ix_(order, order)])  # every cluster is a contiguous block now
    inverse = 1.0 / variances[order]

    def risk(start: int, stop: int) -> float:
        weights = inverse[start:stop] / inverse[start:stop].sum()
        return float(weights @ ordered[start:stop, start:stop] @ weights)

    weights = np.ones(len(order))
    segments = [(0, len(order))]
    while segments:  # breadth first, like PyPortfolioOpt and skfolio
        next_level = []
        for start, stop in segments:
            if stop - start < 2:
                continue
            middle = start + (stop - start) // 2
            left_risk, right_risk = risk(start, middle), risk(middle, stop)
            alpha = 1.0 - left_risk / (left_risk + right_risk)
            weights[start:middle] *= alpha
            weights[middle:stop] *= 1.0 - alpha
            next_level += [(start, middle), (middle, stop)]
        segments = next_level
    result = np.empty_like(weights)
    result[order] = weights
    return result


def hrp(cov: np.ndarray, linkage: str = "single", optimal_ordering: bool = False) -> tuple[np.ndarray, Tree]:
    """(HRP weights, the tree) of a covariance matrix."""
    corr, _ = cov_to_corr(np.asarray(cov, dtype=np.float64))
    tree = cluster_tree(corr, linkage, optimal_ordering)
    return hrp_weights(cov, tree.order), tree


def optimal_n_clusters(distance: np.ndarray, linkage: np.ndarray) -> int:
    """skfolio's two-order difference to the gap statistic (Yue et al. 2008) over the first few cuts."""
    n = distance.shape[0]
    if n == 2:
        return 2
    cuts = hierarchy.cut_tree(linkage)
    max_clusters = min(n, max(8, round(np.sqrt(n))))
    dispersion = []
    for k in range(max_clusters):
        level = cuts[:, n - k - 1]
        density = []
        for label in range(int(level.max()) + 1):
            members = np.flatnonzero(level == label)
            pairs = squareform(distance[np.ix_(members, members)], checks=False)
            if pairs.shape[0]:
                density.append(np.nan_to_num(pairs.mean()))
        dispersion.append(np.sum(density))
    values = np.array(dispersion)
    gaps = (np.roll(values, -2) + values - 2 * np.roll(values, -1))[:-2]
    return int(np.argmax(gaps)) + 2


def herc(
    cov: np.ndarray, linkage: str = "ward", n_clusters: int | None = None
) -> tuple[np.ndarray, Tree, np.ndarray]:
    """(HERC weights, the tree, each asset's cluster label)."""
    cov = np.asarray(cov, dtype=np.float64)
    corr, _ = cov_to_corr(cov)
    tree = cluster_tree(corr, linkage)
    n = cov.shape[0]
    if n_clusters is None:
        n_clusters = optimal_n_clusters(squareform(tree.condensed), tree.linkage)
    if not 1 <= n_clusters <= n:
        raise PortfolioError(f"n_clusters must be between 1 and {n}, got {n_clusters}")
    labels = hierarchy.fcluster(tree.linkage, t=n_clusters, criterion="maxclust") - 1
    variances = np.diag(cov)
    clusters = [np.flatnonzero(labels == i) for i in range(int(labels.max()) + 1)]
    weights = np.empty(n)
    risks = np.empty(len(clusters))
    for i, members in enumerate(clusters):
        inverse = 1.0 / variances[members]
        weights[members] = inverse / inverse.sum()
        risks[i] = _inverse_variance_risk(cov, variances, members)
    cluster_weights = np.ones(len(clusters))
    cluster_of = {frozenset(members.tolist()): i for i, members in enumerate(clusters)}
    stack = [hierarchy.to_tree(tree.linkage)]
    while stack:
        node = stack.pop()
        if frozenset(node.pre_order()) in cluster_of:
            continue
        left, right = node.get_left(), node.get_right()
        left_ids, right_ids = set(left.pre_order()), set(right.pre_order())
        left_c = [i for i, members in enumerate(clusters) if set(members.tolist()) <= left_ids]
        right_c = [i for i, members in enumerate(clusters) if set(members.tolist()) <= right_ids]
        alpha = 1.0 - risks[left_c].sum() / (risks[left_c].sum() + risks[right_c].sum())
        cluster_weights[left_c] *= alpha
        cluster_weights[right_c] *= 1.0 - alpha
        stack += [left, right]
    for i, members in enumerate(clusters):
        weights[members] *= cluster_weights[i]
    return weights, tree, labels
