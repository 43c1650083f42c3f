"""What every part of the ML pipeline shares: settings, artifact locations, the model code's publication."""

from __future__ import annotations

import hashlib
import io
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trade2026.adapters import artifacts

MODEL_NAME = "xgboost_alpha"
MODEL_FILES = ("train.py", "inference.py", "requirements.txt")
LOCAL_MODEL_DIR = Path(__file__).resolve().parents[4] / "models" / MODEL_NAME  # present in a checkout only


class MlSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    symbols_table: str = Field(alias="SYMBOLS_TABLE")
    market_state_table: str = Field(alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field("", alias="LAKE_DATABASE")
    artifacts_bucket: str = Field("", alias="ARTIFACTS_BUCKET")
    registry_table: str = Field(alias="MODEL_REGISTRY_TABLE")
    feature_table: str = Field(alias="FEATURE_STORE_TABLE")
    state_machine_arn: str = Field("", alias="TRAIN_STATE_MACHINE_ARN")
    batch_state_machine_arn: str = Field("", alias="BATCH_PREDICT_STATE_MACHINE_ARN")
    sagemaker_role_arn: str = Field("", alias="SAGEMAKER_ROLE_ARN")
    training_image: str = Field("", alias="TRAINING_IMAGE")
    model_code_uri: str = Field("", alias="MODEL_CODE_URI")
    training_instance_type: str = Field("ml.m5.large", alias="TRAINING_INSTANCE_TYPE")
    endpoint_instance_type: str = Field("ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    transform_instance_type: str = Field("ml.m5.large", alias="TRANSFORM_INSTANCE_TYPE")
    poll_seconds: int = Field(5, alias="TRAINING_POLL_SECONDS")
    max_training_seconds: int = Field(3600, alias="MAX_TRAINING_SECONDS")


@cache
def ml_settings() -> MlSettings:
    import os

    return MlSettings.model_validate(dict(os.environ))


def run_prefix(run_id: str) -> str:
    return f"ml/runs/{run_id}"


def batch_prefix(batch_id: str) -> str:
    return f"ml/batch/{batch_id}"


def sagemaker_model_name(settings: MlSettings, model_id: str) -> str:
    """The SageMaker Model (and endpoint config) of a registered model version."""
    return f"trade2026-{settings.stage}-{model_id}"[:63]


def iso_day(ns: Any) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[D]"))


def to_json(value: Any) -> Any:
    """json.dumps(default=...) for numpy values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


# ------------------------------------------------------------------------------------ model code
def sourcedir_archive(directory: Path) -> tuple[bytes, str]:
    """Deterministic sourcedir.tar.gz of the model code and its content hash."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in MODEL_FILES:
            content = (directory / name).read_bytes()
            digest.update(name.encode() + b"\0" + content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue(), digest.hexdigest()[:16]


def publish_model_code(bucket: str, directory: Path = LOCAL_MODEL_DIR) -> str:
    """Upload models/xgboost_alpha/ as sourcedir.tar.gz (content-addressed) and return its S3 URI."""
    archive, digest = sourcedir_archive(directory)
    key = f"ml/code/{MODEL_NAME}/{digest}/sourcedir.tar.gz"
    if not artifacts.exists(bucket, key):
        artifacts.put(bucket, key, archive)
    return f"s3://{bucket}/{key}"


def model_code_uri(settings: MlSettings) -> str:
    if settings.model_code_uri:
        return settings.model_code_uri
    if all((LOCAL_MODEL_DIR / name).is_file() for name in MODEL_FILES):
        return publish_model_code(settings.artifacts_bucket)
    raise RuntimeError(
        f"the {MODEL_NAME} training code is not published: upload models/{MODEL_NAME} as sourcedir.tar.gz "
        "(trade2026.services.ml_common.publish_model_code) and set MODEL_CODE_URI"
    )
