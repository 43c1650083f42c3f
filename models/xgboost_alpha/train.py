"""XGBoost alpha model, SageMaker script mode (the XGBoost framework container, or the local cloud's executor).

Channels: SM_CHANNEL_TRAIN and SM_CHANNEL_VALIDATION hold `*.npz` files (numpy, what the pipeline writes:
arrays `label` (0/1), `weight` and `features` (rows x columns, float64, NaN = missing); binary, so reading
costs no parsing) or, for channels made by hand, `*.csv` files (no header) whose columns are label, weight,
then the features. An optional `features.json` ({"columns": [...]}) names the features.
Optional cross-validation splits in the train channel (row indices into its rows, already purged and
embargoed by the pipeline; arrays train_<i>, test_<i>):
    folds.npz  purged k-fold: adds cross-validated AUC to metrics.json (folds.json, {"folds": [...]}, too)
    cpcv.npz   combinatorial purged CV: a model per split; its out-of-sample predictions of the split's test
               rows go to cpcv_predictions.npz (split_<i>), which the pipeline assembles into backtest paths
Hyperparameters arrive as `--name value` arguments (SM_HPS holds the same as JSON).

Writes to SM_MODEL_DIR: model.json (the booster), metrics.json, feature_importance.json (gain per feature),
validation_predictions.csv (probability per validation row, for the pipeline's own evaluation),
cpcv_predictions.npz (with cpcv.npz), and prints `train:auc=...`/`validation:auc=...` lines for the job's
MetricDefinitions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

TRAIN_METRICS_ROWS = 10_000  # evenly spaced rows for the in-sample metrics (a diagnostic; SE of AUC ~0.005)
SPLIT_FILES = ("folds", "cpcv")  # .npz files of the train channel that hold CV splits, not rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max_depth", type=int, default=4)
    parser.add_argument("--eta", type=float, default=0.05)
    parser.add_argument("--num_round", type=int, default=200)
    parser.add_argument("--subsample", type=float, default=0.8)
    parser.add_argument("--colsample_bytree", type=float, default=0.8)
    parser.add_argument("--min_child_weight", type=float, default=5.0)
    parser.add_argument("--reg_lambda", type=float, default=1.0)
    parser.add_argument("--early_stopping_rounds", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nthread", type=int, default=0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "train"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    return parser.parse_args(argv)


def _read_csv(path: Path) -> np.ndarray:
    """pandas' C parser when it is there (the framework container has it), else numpy's."""
    try:
        import pandas as pd
    except ImportError:
        return np.loadtxt(path, delimiter=",", ndmin=2)
    return pd.read_csv(path, header=None, dtype=np.float64).to_numpy()


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(path) as data:
        missing = {"label", "weight", "features"} - set(data.files)
        if missing:
            raise ValueError(f"{path.name} lacks the arrays {sorted(missing)}")
        label, weight, features = data["label"], data["weight"], data["features"]
    if features.ndim != 2 or not len(label) == len(weight) == len(features):
        raise ValueError(f"{path.name}: label, weight and features (2-D) need one row each per sample")
    return label, weight, features


def read_channel(directory: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str] | None]:
    """Label, weight and feature matrix of every .npz file in the channel (sorted by name), else every CSV."""
    names_file = Path(directory) / "features.json"
    names = json.loads(names_file.read_text())["columns"] if names_file.exists() else None
    binary = [path for path in sorted(Path(directory).glob("*.npz")) if path.stem not in SPLIT_FILES]
    if binary:
        parts = [_read_npz(path) for path in binary]
        if len(parts) == 1:
            return (*parts[0], names)
        return (*(np.concatenate([part[i] for part in parts]) for i in range(3)), names)  # type: ignore[return-value]
    files = sorted(Path(directory).glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no *.npz or *.csv files in channel {directory}")
    rows = np.vstack([_read_csv(path) for path in files])
    if rows.shape[1] < 3:
        raise ValueError(
            f"expected label, weight and at least one feature per row; got {rows.shape[1]} columns"
        )
    return rows[:, 0], rows[:, 1], np.ascontiguousarray(rows[:, 2:]), names


def read_splits(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """CV splits: train_<i>, test_<i> arrays of a .npz, or {"folds": [{"train", "test"}]} of a .json."""
    if path.suffix == ".json":
        folds = json.loads(path.read_text())["folds"]
        return [(np.asarray(f["train"], dtype=int), np.asarray(f["test"], dtype=int)) for f in folds]
    with np.load(path) as data:
        count = sum(name.startswith("train_") for name in data.files)
        return [(data[f"train_{i}"], data[f"test_{i}"]) for i in range(count)]


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Mann-Whitney AUC with average ranks for ties (vectorized)."""
    positives = int(np.sum(y == 1))
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return None
    _values, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1  # 1-based rank of each distinct value's first occurrence
    ranks = (first_rank + (counts - 1) / 2.0)[inverse]
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def summary(y: np.ndarray, probability: np.ndarray) -> dict[str, float | None]:
    predicted = probability > 0.5
    truth = y == 1
    tp = float(np.sum(predicted & truth))
    fp = float(np.sum(predicted & ~truth))
    fn = float(np.sum(~predicted & truth))
    eps = np.finfo(np.float64).eps
    clipped = np.clip(probability, eps, 1 - eps)
    return {
        "auc": auc(y, probability),
        "logloss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))),
        "accuracy": float(np.mean(predicted == truth)),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }


def booster_params(args: argparse.Namespace) -> dict[str, object]:
    params: dict[str, object] = {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "auc"],
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "min_child_weight": args.min_child_weight,
        "lambda": args.reg_lambda,
        "seed": args.seed,
        "tree_method": "hist",
    }
    if args.nthread > 0:
        params["nthread"] = args.nthread
    return params


def fit(
    args: argparse.Namespace, x: np.ndarray, y: np.ndarray, w: np.ndarray, names: list[str] | None,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> xgb.Booster:  # fmt: skip
    train = xgb.DMatrix(x, label=y, weight=w, feature_names=names, missing=np.nan)
    stopping = (
        args.early_stopping_rounds if validation is not None and args.early_stopping_rounds > 0 else None
    )
    evals = []  # evaluated every round only when early stopping needs it (AUC per round is not free)
    if stopping is not None and validation is not None:
        evals = [(xgb.DMatrix(validation[0], label=validation[1], weight=validation[2], feature_names=names,
                              missing=np.nan), "validation")]  # fmt: skip
    booster = xgb.train(
        booster_params(args),
        train,
        num_boost_round=args.num_round,
        evals=evals,
        early_stopping_rounds=stopping,
        verbose_eval=False,
    )
    if stopping is not None:  # keep the best trees only: the saved model is the one that is evaluated
        booster = booster[: booster.best_iteration + 1]
    return booster


def predict(booster: xgb.Booster, x: np.ndarray, names: list[str] | None) -> np.ndarray:
    return booster.predict(xgb.DMatrix(x, feature_names=names, missing=np.nan))


def cross_validate(args: argparse.Namespace, train_dir: str, x: np.ndarray, y: np.ndarray, w: np.ndarray,
                   names: list[str] | None) -> dict[str, float | None] | None:  # fmt: skip
    folds_file = next(
        (p for p in (Path(train_dir) / f for f in ("folds.npz", "folds.json")) if p.exists()), None
    )
    if folds_file is None:
        return None
    scores = []
    for train_rows, test_rows in read_splits(folds_file):
        booster = fit(args, x[train_rows], y[train_rows], w[train_rows], names)
        scores.append(auc(y[test_rows], predict(booster, x[test_rows], names)))
    valid = [s for s in scores if s is not None]
    return {"cv_auc_mean": float(np.mean(valid)) if valid else None,
            "cv_auc_std": float(np.std(valid)) if valid else None, "cv_folds": float(len(scores))}  # fmt: skip


def combinatorial_cv(args: argparse.Namespace, train_dir: str, x: np.ndarray, y: np.ndarray, w: np.ndarray,
                     names: list[str] | None, model_dir: Path) -> dict[str, float | None] | None:  # fmt: skip
    """A model per combinatorial purged CV split; its test rows' predictions to cpcv_predictions.npz."""
    splits_file = Path(train_dir) / "cpcv.npz"
    if not splits_file.exists():
        return None
    predictions: dict[str, Any] = {}  # (Any: numpy's stubs type savez's **kwds against allow_pickle)
    scores = []
    for index, (train_rows, test_rows) in enumerate(read_splits(splits_file)):
        booster = fit(args, x[train_rows], y[train_rows], w[train_rows], names)
        predictions[f"split_{index}"] = predict(booster, x[test_rows], names).astype(np.float64)
        scores.append(auc(y[test_rows], predictions[f"split_{index}"]))
    np.savez(model_dir / "cpcv_predictions.npz", **predictions)
    valid = [s for s in scores if s is not None]
    return {"splits": float(len(scores)), "split_auc_mean": float(np.mean(valid)) if valid else None}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    y, w, x, names = read_channel(args.train)
    validation = read_channel(args.validation)[:3] if args.validation else None
    booster = fit(args, x, y, w, names, None if validation is None else (validation[2], validation[0],
                                                                        validation[1]))  # fmt: skip
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / "model.json"))
    # Training-set metrics on at most TRAIN_METRICS_ROWS rows (evenly spaced): a diagnostic, not worth a full pass.
    sample = np.unique(np.linspace(0, len(y) - 1, min(len(y), TRAIN_METRICS_ROWS)).astype(int))
    metrics: dict[str, object] = {
        "train": summary(y[sample], predict(booster, x[sample], names)), "rows_train": len(y),
        "train_metrics_rows": len(sample),
    }  # fmt: skip
    if validation is not None:
        vy, _, vx = validation
        probability = predict(booster, vx, names)
        metrics["validation"] = summary(vy, probability)
        metrics["rows_validation"] = len(vy)
        np.savetxt(model_dir / "validation_predictions.csv", probability, fmt="%.17g")
    cv = cross_validate(args, args.train, x, y, w, names)
    if cv is not None:
        metrics["cv"] = cv
    cpcv = combinatorial_cv(args, args.train, x, y, w, names, model_dir)
    if cpcv is not None:
        metrics["cpcv"] = cpcv
    metrics["trees"] = booster.num_boosted_rounds()
    importance = booster.get_score(importance_type="gain")
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (model_dir / "feature_importance.json").write_text(json.dumps(dict(sorted(importance.items())), indent=2))
    (model_dir / "features.json").write_text(json.dumps({"columns": names or []}))
    for split in ("train", "validation"):
        scores: dict[str, float | None] = metrics.get(split) or {}  # type: ignore[assignment]
        for name, value in scores.items():
            if value is not None:
                print(f"{split}:{name}={value:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
