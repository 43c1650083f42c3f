"""SageMaker: training jobs, models, endpoints, batch transform jobs, and endpoint invocations.

The only module of the package that calls SageMaker. On AWS these run the XGBoost framework container with
models/xgboost_alpha/ (script mode); in the local cloud, its SageMaker executor runs the same code in
processes. Lambda never imports xgboost: predictions come from `invoke_endpoint` or a transform job.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from trade2026.adapters.aws import client
from trade2026.errors import Conflict


def _already_exists(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code == "ResourceInUse" or "already exist" in str(error).lower()


# ------------------------------------------------------------------------------------------ training
def create_training_job(request: dict[str, Any]) -> None:
    """CreateTrainingJob; a retried task finds its job created already, which is fine."""
    sagemaker = client("sagemaker")
    with contextlib.suppress(sagemaker.exceptions.ResourceInUse):
        sagemaker.create_training_job(**request)


def describe_training_job(name: str) -> dict[str, Any]:
    return dict(client("sagemaker").describe_training_job(TrainingJobName=name))


# ------------------------------------------------------------------------------------------- models
def ensure_model(name: str, role_arn: str, image: str, model_data: str, code_uri: str) -> None:
    """A SageMaker Model serving `model_data` with the inference handlers of `code_uri` (created once)."""
    sagemaker = client("sagemaker")
    try:
        sagemaker.describe_model(ModelName=name)
    except sagemaker.exceptions.ClientError:
        pass
    else:
        return
    try:
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=role_arn,
            PrimaryContainer={
                "Image": image,
                "ModelDataUrl": model_data,
                "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": code_uri},
            },
        )
    except sagemaker.exceptions.ClientError as error:
        if not _already_exists(error):  # a concurrent task created it first
            raise


def deploy_endpoint(endpoint: str, config: str, model: str, instance_type: str) -> None:
    """A new endpoint config serving `model`; the endpoint is created, or updated in place to it."""
    sagemaker = client("sagemaker")
    try:
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": instance_type,
                    "InitialVariantWeight": 1.0,
                }
            ],
        )
    except sagemaker.exceptions.ClientError as error:
        if not _already_exists(error):
            raise
    try:
        sagemaker.describe_endpoint(EndpointName=endpoint)
    except sagemaker.exceptions.ClientError:
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    else:
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)


def invoke_endpoint(endpoint: str, rows: Sequence[Sequence[float | None]]) -> list[float]:
    """Probabilities of the rows from the endpoint (JSON in, JSON out)."""
    runtime = client("sagemaker-runtime")
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"instances": rows}),
        )
    except runtime.exceptions.ValidationError as exc:
        raise Conflict(f"endpoint {endpoint} is not serving: {exc}") from None
    return [float(value) for value in json.loads(response["Body"].read())["predictions"]]


# ---------------------------------------------------------------------------------- batch transform
def create_transform_job(request: dict[str, Any]) -> None:
    """CreateTransformJob; a retried task finds its job created already, which is fine."""
    sagemaker = client("sagemaker")
    try:
        sagemaker.create_transform_job(**request)
    except sagemaker.exceptions.ClientError as error:
        if not _already_exists(error):
            raise


def describe_transform_job(name: str) -> dict[str, Any]:
    return dict(client("sagemaker").describe_transform_job(TransformJobName=name))
