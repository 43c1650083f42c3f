"""SageMaker batch transform in the local cloud: CreateTransformJob runs the model's inference handlers over every
input object (split by line, batched) and writes <name>.out, as SageMaker does.

A real moto server runs in-process on a free loopback port with the local cloud's SageMaker executor; the model
is tests/fixtures/models/tiny_linear (numpy only), its model.npz written here.
"""

from __future__ import annotations

import io
import socket
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from localcloud.sagemaker import assemble, batch_records, install_sagemaker, split_records

TINY_LINEAR = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny_linear"
BUCKET = "ml-artifacts"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
COEFFICIENTS = np.array([3.0, -2.0, 0.25])
INTERCEPT = 0.5


@dataclass
class Cloud:
    s3: Any
    sagemaker: Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    base_env = {**creds, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    executor = install_sagemaker(endpoint, tmp_path_factory.mktemp("sagemaker"), base_env)
    s3, sagemaker = (
        boto3.client(n, endpoint_url=endpoint, region_name="us-east-1") for n in ("s3", "sagemaker")
    )
    s3.create_bucket(Bucket=BUCKET)
    code = _tar({path.name: path.read_bytes() for path in TINY_LINEAR.glob("*.py")})
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=code)
    model = io.BytesIO()
    np.savez(model, coefficients=COEFFICIENTS, intercept=np.array(INTERCEPT))
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=_tar({"model.npz": model.getvalue()}))
    sagemaker.create_model(
        ModelName="tiny", ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz",
                          "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                          "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/code/sourcedir.tar.gz"}},
    )  # fmt: skip
    try:
        yield Cloud(s3, sagemaker)
    finally:
        executor.close()
        server.stop()


def _rows(seed: int, count: int, width: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, width))


def _csv(rows: np.ndarray) -> bytes:
    return ("\n".join(",".join(f"{v:.17g}" for v in row) for row in rows) + "\n").encode()


def _transform(
    cloud: Cloud, name: str, prefix: str, strategy: str = "MultiRecord", model: str = "tiny"
) -> None:
    cloud.sagemaker.create_transform_job(
        TransformJobName=name, ModelName=model, BatchStrategy=strategy, MaxPayloadInMB=1,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                        "S3Uri": f"s3://{BUCKET}/{prefix}/input/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/{prefix}/output", "Accept": "text/csv",
                         "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )  # fmt: skip


def _wait(cloud: Cloud, name: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    seen = set()
    while (job := cloud.sagemaker.describe_transform_job(TransformJobName=name))[
        "TransformJobStatus"
    ] == "InProgress":
        seen.add("InProgress")
        assert time.monotonic() < deadline, f"{name} still running"
        time.sleep(0.1)
    job["seen"] = seen
    return dict(job)


def _output(cloud: Cloud, key: str) -> np.ndarray:
    text = cloud.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert text.endswith("\n")
    return np.array([float(line) for line in text.splitlines()])


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_a_transform_job_scores_every_line_of_every_input_object(cloud: Cloud, strategy: str) -> None:
    # Given two CSV objects of feature rows under the input prefix (the larger one more than 1 MB)
    prefix = f"batch-{strategy.lower()}"
    parts = {
        "part-0000.csv": _rows(1, 25_000 if strategy == "MultiRecord" else 40),
        "part-0001.csv": _rows(2, 7),
    }
    for name, rows in parts.items():
        cloud.s3.put_object(Bucket=BUCKET, Key=f"{prefix}/input/{name}", Body=_csv(rows))

    # When a transform job runs over them
    _transform(cloud, f"job-{strategy.lower()}", prefix, strategy)
    job = _wait(cloud, f"job-{strategy.lower()}")

    # Then it moved from InProgress to Completed
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert "InProgress" in job["seen"] and job["TransformEndTime"] >= job["TransformStartTime"]
    # And each input object has its .out object: one prediction per input line, in order
    # (to the last bits: a row scored alone and in a matrix may round differently in BLAS)
    for name, rows in parts.items():
        predictions = _output(cloud, f"{prefix}/output/{name}.out")
        np.testing.assert_allclose(predictions, rows @ COEFFICIENTS + INTERCEPT, rtol=1e-13, atol=1e-13)


def test_a_model_error_fails_the_job_with_the_models_message(cloud: Cloud) -> None:
    # Given rows with one feature too many
    cloud.s3.put_object(Bucket=BUCKET, Key="bad/input/part-0000.csv", Body=_csv(_rows(3, 5, width=4)))

    # When a transform job runs over them
    _transform(cloud, "job-bad", "bad")
    job = _wait(cloud, "job-bad")

    # Then it failed with the inference handler's error
    assert job["TransformJobStatus"] == "Failed"
    assert "expected 3 features per row, got 4" in job["FailureReason"]


def test_unknown_models_and_reused_names_are_refused(cloud: Cloud) -> None:
    cloud.s3.put_object(Bucket=BUCKET, Key="again/input/part-0000.csv", Body=_csv(_rows(4, 3)))
    with pytest.raises(ClientError, match="Could not find model"):
        _transform(cloud, "job-nomodel", "again", model="missing")
    _transform(cloud, "job-twice", "again")
    with pytest.raises(ClientError, match="already exists"):
        _transform(cloud, "job-twice", "again")
    assert _wait(cloud, "job-twice")["TransformJobStatus"] == "Completed"


def test_records_are_split_batched_and_assembled_as_sagemaker_does() -> None:
    records = split_records(b"1,2\n\n3,4\n5,6", "Line")
    assert records == [b"1,2", b"3,4", b"5,6"]
    assert split_records(b"whole", "None") == [b"whole"]
    assert batch_records(records, "MultiRecord", 8) == [b"1,2\n3,4", b"5,6"]
    assert batch_records(records, "SingleRecord", 8) == records
    assert assemble([b"0.1\n0.2", b"0.3"], "Line") == b"0.1\n0.2\n0.3\n"
    assert assemble([b"a", b"b"], "None") == b"ab"
