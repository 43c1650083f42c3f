"""Inference handlers for the SageMaker XGBoost framework container (and the local cloud's endpoint workers).

Requests: CSV rows of features (no label, no weight), or JSON {"instances": [[...], ...]} / [[...], ...].
Answer: the probability of class 1 per row, JSON {"predictions": [...]} or CSV (one per line).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

JSON = "application/json"
CSV = "text/csv"


class Model:
    def __init__(self, booster: xgb.Booster, names: list[str] | None) -> None:
        self.booster = booster
        self.names = names or None

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if rows.ndim != 2:
            raise ValueError(f"expected rows of features, got an array of shape {rows.shape}")
        expected = self.booster.num_features()
        if rows.shape[1] != expected:
            raise ValueError(f"expected {expected} features per row, got {rows.shape[1]}")
        return self.booster.predict(xgb.DMatrix(rows, feature_names=self.names, missing=np.nan))


def model_fn(model_dir: str) -> Model:
    booster = xgb.Booster()
    booster.load_model(str(Path(model_dir) / "model.json"))
    names_file = Path(model_dir) / "features.json"
    names = json.loads(names_file.read_text()).get("columns") if names_file.exists() else None
    return Model(booster, names)


def input_fn(body: str | bytes, content_type: str) -> np.ndarray:
    text = body.decode() if isinstance(body, bytes) else body
    kind = (content_type or JSON).split(";")[0].strip().lower()
    if kind == CSV:
        return np.atleast_2d(np.genfromtxt(io.StringIO(text), delimiter=",", dtype=np.float64))
    if kind == JSON:
        payload = json.loads(text)
        rows = payload["instances"] if isinstance(payload, dict) else payload
        values = [[np.nan if value is None else value for value in row] for row in rows]
        return np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    raise ValueError(f"unsupported content type {content_type}")


def predict_fn(data: np.ndarray, model: Model) -> np.ndarray:
    return model.predict(data)


def output_fn(prediction: Any, accept: str) -> tuple[str, str]:
    values = np.asarray(prediction, dtype=np.float64).ravel()
    if (accept or "").split(";")[0].strip().lower() == CSV:
        return "\n".join(repr(float(v)) for v in values), CSV
    return json.dumps({"predictions": [float(v) for v in values]}), JSON
