"""The pipeline's pure parts on real data: training sets, purged split, request validation, and the
xgboost_alpha model's SageMaker script-mode contract (train.py -> model dir -> inference handlers)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trade2026.errors import BadRequest
from trade2026.services import ml_dataset as ml

MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "xgboost_alpha"
SYMBOLS = ["AAPL", "JPM", "XOM"]


@pytest.fixture(scope="module")
def reader(stocks20: dict[str, dict[str, np.ndarray]]) -> ml.BarReader:
    def read(symbol: str) -> dict[str, np.ndarray]:
        if symbol not in stocks20:
            raise BadRequest(f"Unknown symbol {symbol!r}")
        return stocks20[symbol]

    return read


def _request(**overrides: object) -> ml.TrainRequest:
    body = {"symbols": SYMBOLS, "start": "2000-01-01", "end": "2022-12-28", "event_step": 5} | overrides
    return ml.TrainRequest.model_validate(body)


def test_training_set_is_point_in_time_and_the_split_is_purged(reader: ml.BarReader) -> None:
    # Given three real stocks, triple-barrier labels 10 bars out, a a sample every bar from 2000
    request = _request(event_step=1)

    # When the training set is built and split (last 20 % of dates validate, 1 % embargo)
    dataset = ml.build_dataset(request, reader)
    split = ml.split_dataset(dataset, 0.2, 0.01, cv_folds=4)

    # Then samples start at 2000 and no label ends after the data
    assert dataset.calendar[dataset.t0.min()] >= np.datetime64("2000-01-01").astype("datetime64[ns]").astype(
        int
    )
    assert np.all(dataset.t1 > dataset.t0)
    # And no training label window reaches into the validation period (purge), nor starts in the embargo
    validation_start = dataset.t0[split.validation].min()
    assert np.all(dataset.t1[split.train] < validation_start)
    before = dataset.t0 < validation_start
    assert split.purged == np.sum(before & (dataset.t1 >= validation_start)) > 0
    # And each purged CV fold inside the training rows is purged as well
    train_t0, train_t1 = dataset.t0[split.train], dataset.t1[split.train]
    for fold_train, fold_test in split.folds:
        start, end = train_t0[fold_test].min(), train_t1[fold_test].max()
        assert not np.any((train_t0[fold_train] <= end) & (train_t1[fold_train] >= start))
    # And the uniqueness weights average 1
    assert dataset.weight.mean() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"feature_set": "nope"}, "unknown feature set 'nope'"),
        ({"start": "2022-12-20"}, "empty training window"),
        (
            {"start": None, "end": "1990-03-01", "label": {"horizon": 100}},
            "label horizon of 100 bars is longer than the data",
        ),
        ({"hyperparameters": {"max_depth": "deep"}}, "hyperparameter max_depth must be a number, got 'deep'"),
        ({"hyperparameters": {"eta": 5}}, "hyperparameter eta must be between 0.0001 and 1"),
        ({"hyperparameters": {"gamma": 1}}, "unknown hyperparameter 'gamma'"),
        ({"feature_set": "alpha_ohlcv_v1"}, "needs volume, and AAPL has none"),
        ({"cpcv_groups": 1}, "combinatorial purged CV needs 2 <= cpcv_groups"),
        ({"cpcv_groups": 4, "cpcv_test_groups": 4}, "cpcv_test_groups < cpcv_groups"),
        ({"cpcv_groups": 12, "cpcv_test_groups": 6}, "make 924 splits"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    reader: ml.BarReader, overrides: dict, message: str
) -> None:
    # Given a request with one bad part
    request = _request(**overrides)

    # When it is validated and its data set built (what POST /v1/models/train does before starting)
    # Then it is a 400 naming the problem
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        ml.validate_request(request)
        ml.request_split(ml.build_dataset(request, reader), request)


def test_a_grid_is_thinned_to_max_trials() -> None:
    # Given a 3 x 2 grid and at most 4 trials
    trials = ml.hyperparameter_trials({"max_depth": [2, 3, 4], "eta": [0.05, 0.1]}, max_trials=4)
    # Then 4 distinct points of the 6-point grid are kept, its first and last included
    assert len({json.dumps(t, sort_keys=True) for t in trials}) == 4
    assert (trials[0]["max_depth"], trials[0]["eta"]) == (2, 0.05)
    assert (trials[-1]["max_depth"], trials[-1]["eta"]) == (4, 0.1)
    assert all(t["num_round"] == 150 for t in trials)


def _load_inference() -> object:
    spec = importlib.util.spec_from_file_location("xgboost_alpha_inference", MODEL_DIR / "inference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_mode_training_and_inference_agree(reader: ml.BarReader, tmp_path: Path) -> None:
    # Given the channels the pipeline writes for three real stocks
    xgb = pytest.importorskip("xgboost")
    dataset = ml.build_dataset(_request(), reader)
    split = ml.split_dataset(dataset, 0.2, 0.01, cv_folds=3, cpcv=(4, 2))
    channels = {"train": split.train, "validation": split.validation}
    for name, rows in channels.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.npz").write_bytes(
            ml.channel_npz(dataset.y[rows], dataset.weight[rows], dataset.x[rows])
        )
        (tmp_path / name / "features.json").write_text(json.dumps({"columns": dataset.columns}))
    (tmp_path / "train" / "folds.npz").write_bytes(ml.splits_npz(split.folds))
    (tmp_path / "train" / "cpcv.npz").write_bytes(ml.splits_npz(split.cpcv))

    # When train.py runs with the SageMaker environment contract and hyperparameters as arguments
    env = {**os.environ, "SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
           "SM_CHANNEL_VALIDATION": str(tmp_path / "validation")}  # fmt: skip
    arguments = ["--max_depth", "3", "--num_round", "60", "--eta", "0.1", "--nthread", "1"]
    done = subprocess.run([sys.executable, str(MODEL_DIR / "train.py"), *arguments], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr

    # Then the model dir holds the booster, metrics (with purged-CV AUC) and feature importance
    model_dir = tmp_path / "model"
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["rows_train"] == len(split.train) and metrics["cv"]["cv_folds"] == 3
    # And one out-of-sample prediction per test row of each of the C(4, 2) = 6 CPCV splits
    with np.load(model_dir / "cpcv_predictions.npz") as cpcv:
        assert [len(cpcv[f"split_{i}"]) for i in range(6)] == [len(test) for _, test in split.cpcv]
    assert metrics["cpcv"]["splits"] == 6
    assert set(json.loads((model_dir / "feature_importance.json").read_text())) <= set(dataset.columns)
    assert "validation:auc=" in done.stdout
    # And the validation predictions it saved are the inference handlers' answers for those rows
    inference = _load_inference()
    model = inference.model_fn(str(model_dir))  # type: ignore[attr-defined]
    rows = dataset.x[split.validation][:50]
    body = json.dumps({"instances": [[None if np.isnan(v) else float(v) for v in row] for row in rows]})
    answer, kind = inference.output_fn(
        inference.predict_fn(inference.input_fn(body, "application/json"), model), "application/json"
    )  # type: ignore[attr-defined]
    saved = np.loadtxt(model_dir / "validation_predictions.csv")[:50]
    assert kind == "application/json"
    np.testing.assert_array_equal(
        np.asarray(json.loads(answer)["predictions"]), saved.astype(np.float32).astype(float)
    )
    # And loading the booster directly predicts the same
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "model.json"))
    direct = booster.predict(xgb.DMatrix(rows, feature_names=dataset.columns, missing=np.nan))
    np.testing.assert_array_equal(np.asarray(json.loads(answer)["predictions"]), direct.astype(float))
    # And the validation AUC the script reports equals the domain metric on its predictions
    from trade2026.domain.ml.metrics import roc_auc

    full = np.loadtxt(model_dir / "validation_predictions.csv")
    assert metrics["validation"]["auc"] == pytest.approx(roc_auc(dataset.y[split.validation], full), rel=1e-9)
