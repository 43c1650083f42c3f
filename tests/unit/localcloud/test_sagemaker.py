"""SageMaker in the local cloud: training jobs and endpoints run real model code behind moto's API.

A real moto server runs in-process on a free loopback port; boto3 talks to it over HTTP.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import textwrap
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from localcloud import sagemaker_worker
from localcloud.sagemaker import SageMakerExecutor, install_sagemaker

TINY_LINEAR = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny_linear"
BUCKET = "ml-artifacts"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
METRICS = [
    {"Name": "train:rmse", "Regex": r"train:rmse=([0-9.eE+-]+)"},
    {"Name": "validation:rmse", "Regex": r"validation:rmse=([0-9.eE+-]+)"},
]
INVOCATION_TIMEOUT_S = 3.0


@dataclass
class Cloud:
    s3: Any
    sagemaker: Any
    runtime: Any
    executor: SageMakerExecutor
    work_dir: Path
    tiny_linear_code: str  # s3 URI of sourcedir.tar.gz
    data: dict[str, np.ndarray]  # dataset name -> rows, label in column 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sourcedir(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(directory.glob("*.py")):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def _sourcedir_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            content = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _linear_data(seed: int, coefficients: list[float], intercept: float, rows: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, len(coefficients)))
    labels = features @ np.array(coefficients) + intercept + rng.normal(scale=0.1, size=rows)
    return np.column_stack([labels, features])


def _csv(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{value:.17g}" for value in row) for row in rows).encode()


def _least_squares(rows: np.ndarray) -> tuple[np.ndarray, float]:
    design = np.column_stack([rows[:, 1:], np.ones(len(rows))])
    solution = np.linalg.lstsq(design, rows[:, 0], rcond=None)[0]
    return solution[:-1], float(solution[-1])


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    work_dir = tmp_path_factory.mktemp("sagemaker")
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    base_env = {**creds, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    executor = install_sagemaker(endpoint, work_dir, base_env, invocation_timeout_s=INVOCATION_TIMEOUT_S)
    clients = {
        name: boto3.client(name, endpoint_url=endpoint, region_name="us-east-1")
        for name in ("s3", "sagemaker", "sagemaker-runtime")
    }
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["s3"].put_object(
        Bucket=BUCKET, Key="code/tiny_linear/sourcedir.tar.gz", Body=_sourcedir(TINY_LINEAR)
    )
    data = {
        "a-train": _linear_data(1, [3.0, -2.0], 0.5),
        "a-validation": _linear_data(2, [3.0, -2.0], 0.5, rows=10),
        "b-train": _linear_data(3, [-1.0, 4.0], -2.0),
    }
    for name, rows in data.items():
        clients["s3"].put_object(Bucket=BUCKET, Key=f"data/{name}/part-0.csv", Body=_csv(rows))
    try:
        yield Cloud(
            clients["s3"],
            clients["sagemaker"],
            clients["sagemaker-runtime"],
            executor,
            work_dir,
            f"s3://{BUCKET}/code/tiny_linear/sourcedir.tar.gz",
            data,
        )
    finally:
        executor.close()
        server.stop()


def _start_training(
    cloud: Cloud,
    job_name: str,
    code_uri: str,
    channels: dict[str, str],
    hyperparameters: dict[str, str] | None = None,
    max_runtime_s: int = 60,
) -> None:
    cloud.sagemaker.create_training_job(
        TrainingJobName=job_name,
        HyperParameters={
            **(hyperparameters or {}),
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps(code_uri),
        },
        AlgorithmSpecification={
            "TrainingImage": XGBOOST_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRICS,
        },
        RoleArn=ROLE,
        InputDataConfig=[
            {
                "ChannelName": name,
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
                "ContentType": "text/csv",
            }
            for name, uri in channels.items()
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/training-output/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": max_runtime_s},
    )


def _poll(cloud: Cloud, job_name: str, timeout_s: float = 20.0) -> tuple[list[str], dict[str, Any]]:
    """DescribeTrainingJob until it leaves InProgress/Stopping, like a Step Functions .sync loop."""
    statuses: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        description = cloud.sagemaker.describe_training_job(TrainingJobName=job_name)
        statuses.append(description["TrainingJobStatus"])
        if description["TrainingJobStatus"] not in ("InProgress", "Stopping"):
            return statuses, description
        time.sleep(0.1)
    raise AssertionError(f"{job_name} still {statuses[-1]} after {timeout_s} s")


def _train_tiny_linear(cloud: Cloud, job_name: str, dataset: str, validation: str | None = None) -> Any:
    channels = {"train": f"s3://{BUCKET}/data/{dataset}"}
    if validation:
        channels["validation"] = f"s3://{BUCKET}/data/{validation}/"
    _start_training(cloud, job_name, cloud.tiny_linear_code, channels, {"l2-penalty": "0.0"})
    return _poll(cloud, job_name)


@pytest.fixture(scope="module")
def job_a(cloud: Cloud) -> tuple[list[str], dict[str, Any]]:
    return _train_tiny_linear(cloud, "tiny-linear-a", "a-train", validation="a-validation")


@pytest.fixture(scope="module")
def job_b(cloud: Cloud) -> tuple[list[str], dict[str, Any]]:
    return _train_tiny_linear(cloud, "tiny-linear-b", "b-train")


def _s3_tar_members(cloud: Cloud, uri: str) -> dict[str, bytes]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    archive = cloud.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


# ------------------------------------------------------------------------------------- training


def test_training_job_runs_the_entry_point_and_uploads_its_model(cloud: Cloud, job_a: Any) -> None:
    # Given the tiny_linear code and a CSV training set in S3 (fixture)
    # When CreateTrainingJob ran and DescribeTrainingJob was polled until it finished (fixture)
    statuses, description = job_a

    # Then the job went InProgress -> Completed
    assert statuses[0] == "InProgress"
    assert statuses[-1] == "Completed"
    assert description["SecondaryStatus"] == "Completed"
    assert description["TrainingEndTime"] >= description["TrainingStartTime"]
    # And model.tar.gz in S3 holds the least-squares fit numpy computes on the same data
    artifacts = description["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"s3://{BUCKET}/training-output/tiny-linear-a/output/model.tar.gz"
    with np.load(io.BytesIO(_s3_tar_members(cloud, artifacts)["model.npz"])) as model:
        coefficients, intercept = _least_squares(cloud.data["a-train"])
        np.testing.assert_allclose(model["coefficients"], coefficients, rtol=1e-9)
        assert float(model["intercept"]) == pytest.approx(intercept, rel=1e-9)
    # And the output data went to output.tar.gz, the logs to train.log
    output = _s3_tar_members(cloud, artifacts.replace("model.tar.gz", "output.tar.gz"))
    assert set(json.loads(output["metrics.json"])) == {"train_rmse", "validation_rmse"}
    assert "train:rmse=" in cloud.executor.training_log("tiny-linear-a").read_text()


def test_metric_definitions_are_captured_from_the_training_log(cloud: Cloud, job_a: Any) -> None:
    # Given a job whose AlgorithmSpecification.MetricDefinitions match what train.py prints (fixture)
    _, description = job_a

    # When it completed
    metrics = {item["MetricName"]: item["Value"] for item in description["FinalMetricDataList"]}

    # Then FinalMetricDataList holds the values the script printed, and the definitions are the caller's
    coefficients, intercept = _least_squares(cloud.data["a-train"])
    train = cloud.data["a-train"]
    expected_rmse = np.sqrt(np.mean((train[:, 1:] @ coefficients + intercept - train[:, 0]) ** 2))
    assert metrics["train:rmse"] == pytest.approx(expected_rmse, rel=1e-6)
    assert metrics["validation:rmse"] > 0
    assert description["AlgorithmSpecification"]["MetricDefinitions"] == METRICS


def test_the_entry_point_gets_the_sagemaker_environment_contract(cloud: Cloud) -> None:
    # Given an entry point that records its arguments and SM_* environment into the model
    probe = """
        import json, os, sys
        from pathlib import Path
        seen = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")}}
        seen["train_files"] = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
        Path(os.environ["SM_MODEL_DIR"], "seen.json").write_text(json.dumps(seen))
    """
    cloud.s3.put_object(Bucket=BUCKET, Key="code/probe.tar.gz", Body=_sourcedir_of({"train.py": probe}))

    # When it is trained with two hyperparameters
    hyperparameters = {"learning_rate": "0.25", "objective": json.dumps("reg:squarederror")}
    channels = {"train": f"s3://{BUCKET}/data/a-train/part-0.csv"}
    _start_training(cloud, "probe-env", f"s3://{BUCKET}/code/probe.tar.gz", channels, hyperparameters)
    _, description = _poll(cloud, "probe-env")

    # Then hyperparameters came as sorted --name value arguments and SM_* variables
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    seen = json.loads(_s3_tar_members(cloud, description["ModelArtifacts"]["S3ModelArtifacts"])["seen.json"])
    assert seen["argv"] == ["--learning_rate", "0.25", "--objective", "reg:squarederror"]
    env = seen["env"]
    assert json.loads(env["SM_HPS"]) == {"learning_rate": 0.25, "objective": "reg:squarederror"}
    assert env["SM_HP_OBJECTIVE"] == "reg:squarederror"
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_CHANNEL_TRAIN"] == str(cloud.work_dir / "probe-env" / "input" / "data" / "train")
    assert seen["train_files"] == ["part-0.csv"]
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert int(env["SM_NUM_CPUS"]) >= 1
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "probe-env"
    assert training_env["model_dir"] == env["SM_MODEL_DIR"]
    assert env["SM_OUTPUT_DATA_DIR"] == str(cloud.work_dir / "probe-env" / "output" / "data")


def test_a_failing_training_script_ends_failed_with_its_error(cloud: Cloud) -> None:
    # Given an entry point that raises
    failing = """
        raise RuntimeError("label column is missing from the training channel")
    """
    cloud.s3.put_object(Bucket=BUCKET, Key="code/failing.tar.gz", Body=_sourcedir_of({"train.py": failing}))

    # When it is trained
    channels = {"train": f"s3://{BUCKET}/data/a-train/"}
    _start_training(cloud, "failing-job", f"s3://{BUCKET}/code/failing.tar.gz", channels)
    statuses, description = _poll(cloud, "failing-job")

    # Then the job is Failed and FailureReason carries the script's error
    assert statuses[-1] == "Failed"
    assert description["SecondaryStatus"] == "Failed"
    assert "RuntimeError: label column is missing from the training channel" in description["FailureReason"]
    assert "ModelArtifacts" not in description


def test_max_runtime_stops_a_job_that_runs_too_long(cloud: Cloud) -> None:
    # Given an entry point that would run for 30 s
    cloud.s3.put_object(
        Bucket=BUCKET, Key="code/slow.tar.gz", Body=_sourcedir_of({"train.py": "import time; time.sleep(30)"})
    )

    # When it is trained with MaxRuntimeInSeconds=1
    started = time.monotonic()
    channels = {"train": f"s3://{BUCKET}/data/a-train/"}
    _start_training(cloud, "slow-job", f"s3://{BUCKET}/code/slow.tar.gz", channels, max_runtime_s=1)
    _, description = _poll(cloud, "slow-job")

    # Then SageMaker's stopping condition ended it
    assert description["TrainingJobStatus"] == "Stopped"
    assert description["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert time.monotonic() - started < 10


def test_stop_training_job_stops_a_running_job(cloud: Cloud) -> None:
    # Given a long-running job
    cloud.s3.put_object(
        Bucket=BUCKET, Key="code/slow.tar.gz", Body=_sourcedir_of({"train.py": "import time; time.sleep(30)"})
    )
    _start_training(
        cloud, "stopped-job", f"s3://{BUCKET}/code/slow.tar.gz", {"train": f"s3://{BUCKET}/data/a-train/"}
    )

    # When StopTrainingJob is called
    cloud.sagemaker.stop_training_job(TrainingJobName="stopped-job")
    _, description = _poll(cloud, "stopped-job", timeout_s=10)

    # Then the job is Stopped
    assert description["TrainingJobStatus"] == "Stopped"


def test_a_channel_without_objects_fails_the_job(cloud: Cloud) -> None:
    # Given a channel pointing at an empty prefix
    # When the job runs
    _start_training(cloud, "no-data", cloud.tiny_linear_code, {"train": f"s3://{BUCKET}/data/nothing-here/"})
    _, description = _poll(cloud, "no-data")

    # Then it fails with a client error naming the channel
    assert description["TrainingJobStatus"] == "Failed"
    assert "No S3 objects found" in description["FailureReason"]


# ------------------------------------------------------------------------------------ endpoints


def _deploy_config(
    cloud: Cloud, name: str, model_data_url: str, code_uri: str, program: str = "inference.py"
) -> str:
    cloud.sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": model_data_url,
            "Environment": {"SAGEMAKER_PROGRAM": program, "SAGEMAKER_SUBMIT_DIRECTORY": code_uri},
        },
    )
    cloud.sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    return f"{name}-config"


def _predict_csv(cloud: Cloud, endpoint: str, features: np.ndarray) -> np.ndarray:
    response = cloud.runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=_csv(features)
    )
    assert response["ContentType"] == "text/csv"
    return np.array([float(line) for line in response["Body"].read().decode().splitlines()])


@pytest.fixture(scope="module")
def endpoint_a(cloud: Cloud, job_a: Any) -> str:
    model_data = job_a[1]["ModelArtifacts"]["S3ModelArtifacts"]
    config = _deploy_config(cloud, "tiny-linear-a", model_data, cloud.tiny_linear_code)
    cloud.sagemaker.create_endpoint(EndpointName="tiny-linear", EndpointConfigName=config)
    return "tiny-linear"


def test_endpoint_serves_the_trained_models_predictions(cloud: Cloud, endpoint_a: str) -> None:
    # Given an endpoint deployed from the trained model and its inference code (fixture)
    assert cloud.sagemaker.describe_endpoint(EndpointName=endpoint_a)["EndpointStatus"] == "InService"
    features = np.array([[0.0, 0.0], [1.0, 2.0], [-0.5, 3.25]])

    # When CSV rows and a JSON document are sent to it
    csv_predictions = _predict_csv(cloud, endpoint_a, features)
    response = cloud.runtime.invoke_endpoint(
        EndpointName=endpoint_a,
        ContentType="application/json",
        Body=json.dumps({"instances": features.tolist()}),
    )

    # Then both answers are numpy's own least-squares predictions
    coefficients, intercept = _least_squares(cloud.data["a-train"])
    np.testing.assert_allclose(csv_predictions, features @ coefficients + intercept, rtol=1e-9)
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    json_predictions = json.loads(response["Body"].read())["predictions"]
    np.testing.assert_allclose(json_predictions, csv_predictions, rtol=1e-12)


def test_update_endpoint_switches_to_the_new_model(cloud: Cloud, job_a: Any, job_b: Any) -> None:
    # Given an endpoint serving model A, and model B trained on different data
    config_a = _deploy_config(
        cloud, "swap-a", job_a[1]["ModelArtifacts"]["S3ModelArtifacts"], cloud.tiny_linear_code
    )
    config_b = _deploy_config(
        cloud, "swap-b", job_b[1]["ModelArtifacts"]["S3ModelArtifacts"], cloud.tiny_linear_code
    )
    cloud.sagemaker.create_endpoint(EndpointName="swap", EndpointConfigName=config_a)
    features = np.array([[1.0, 1.0], [2.0, -1.0]])
    before = _predict_csv(cloud, "swap", features)

    # When UpdateEndpoint points it at model B's config
    cloud.sagemaker.update_endpoint(EndpointName="swap", EndpointConfigName=config_b)
    after = _predict_csv(cloud, "swap", features)

    # Then the next request is answered by model B
    coefficients_a, intercept_a = _least_squares(cloud.data["a-train"])
    coefficients_b, intercept_b = _least_squares(cloud.data["b-train"])
    np.testing.assert_allclose(before, features @ coefficients_a + intercept_a, rtol=1e-9)
    np.testing.assert_allclose(after, features @ coefficients_b + intercept_b, rtol=1e-9)
    assert cloud.sagemaker.describe_endpoint(EndpointName="swap")["EndpointConfigName"] == config_b


def test_an_inference_error_is_a_model_error_and_the_endpoint_keeps_serving(
    cloud: Cloud, endpoint_a: str
) -> None:
    # Given the endpoint of a two-feature model (fixture)
    # When a request has three features per row
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        _predict_csv(cloud, endpoint_a, np.array([[1.0, 2.0, 3.0]]))

    # Then SageMaker's ModelError (424) carries the inference code's message, promptly
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "expected 2 features per row, got 3" in error["Error"]["Message"]
    assert time.monotonic() - started < 5
    # And the warm worker still answers good requests
    assert _predict_csv(cloud, endpoint_a, np.array([[0.0, 0.0]])).shape == (1,)


@pytest.mark.parametrize(
    ("name", "predict_body", "expected"),
    [
        ("dying", "import os; os._exit(3)", "worker exited with code 3"),
        ("hanging", "import time; time.sleep(30)", f"no answer within {INVOCATION_TIMEOUT_S:g} s"),
    ],
    ids=["dying", "hanging"],
)
def test_a_worker_that_dies_or_hangs_gives_a_model_error_not_a_hang(
    cloud: Cloud, job_a: Any, name: str, predict_body: str, expected: str
) -> None:
    # Given an endpoint whose predict_fn kills its process or never returns
    inference = f"""
        def model_fn(model_dir):
            print("prints go to the worker log, not into the answer")
            return "model"

        def predict_fn(data, model):
            {predict_body}
    """
    cloud.s3.put_object(
        Bucket=BUCKET, Key=f"code/{name}.tar.gz", Body=_sourcedir_of({"inference.py": inference})
    )
    model_data = job_a[1]["ModelArtifacts"]["S3ModelArtifacts"]
    config = _deploy_config(cloud, name, model_data, f"s3://{BUCKET}/code/{name}.tar.gz")
    cloud.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    # When it is invoked
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        cloud.runtime.invoke_endpoint(EndpointName=name, ContentType="application/json", Body="[[1, 2]]")

    # Then the caller gets a ModelError within the invocation timeout
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert expected in raised.value.response["Error"]["Message"]
    assert time.monotonic() - started < INVOCATION_TIMEOUT_S + 5


def test_a_model_that_fails_to_load_gives_a_model_error(cloud: Cloud, job_a: Any) -> None:
    # Given inference code whose model_fn raises
    inference = """
        def model_fn(model_dir):
            raise FileNotFoundError("model.bin is not in the model archive")
    """
    cloud.s3.put_object(
        Bucket=BUCKET, Key="code/unloadable.tar.gz", Body=_sourcedir_of({"inference.py": inference})
    )
    model_data = job_a[1]["ModelArtifacts"]["S3ModelArtifacts"]
    config = _deploy_config(cloud, "unloadable", model_data, f"s3://{BUCKET}/code/unloadable.tar.gz")
    cloud.sagemaker.create_endpoint(EndpointName="unloadable", EndpointConfigName=config)

    # When it is invoked
    with pytest.raises(ClientError) as raised:
        cloud.runtime.invoke_endpoint(EndpointName="unloadable", ContentType="text/csv", Body="1,2")

    # Then the ModelError says the model failed to load, and why
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert "model failed to load" in raised.value.response["Error"]["Message"]
    assert "model.bin is not in the model archive" in raised.value.response["Error"]["Message"]


def test_code_repacked_inside_the_model_archive_is_served(cloud: Cloud, job_a: Any) -> None:
    # Given a model.tar.gz holding the model and code/inference.py, as the SDK repacks it
    trained = _s3_tar_members(cloud, job_a[1]["ModelArtifacts"]["S3ModelArtifacts"])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        files = {
            "model.npz": trained["model.npz"],
            "code/inference.py": (TINY_LINEAR / "inference.py").read_bytes(),
        }
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    cloud.s3.put_object(Bucket=BUCKET, Key="repacked/model.tar.gz", Body=buffer.getvalue())
    config = _deploy_config(cloud, "repacked", f"s3://{BUCKET}/repacked/model.tar.gz", "/opt/ml/model/code")
    cloud.sagemaker.create_endpoint(EndpointName="repacked", EndpointConfigName=config)

    # When it is invoked
    features = np.array([[2.0, -3.0]])
    predictions = _predict_csv(cloud, "repacked", features)

    # Then the code found under /opt/ml/model/code serves the trained model
    coefficients, intercept = _least_squares(cloud.data["a-train"])
    np.testing.assert_allclose(predictions, features @ coefficients + intercept, rtol=1e-9)


def test_invoking_an_unknown_endpoint_is_a_validation_error(cloud: Cloud) -> None:
    # Given no endpoint named "missing"
    # When it is invoked
    with pytest.raises(ClientError) as raised:
        cloud.runtime.invoke_endpoint(EndpointName="missing", ContentType="text/csv", Body="1,2")

    # Then the error says so
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "missing" in raised.value.response["Error"]["Message"]


# ------------------------------------------------------------------------ worker, in-process


def test_missing_handlers_fall_back_to_the_framework_defaults() -> None:
    # Given an inference module that defines only model_fn
    module = types.ModuleType("only_model_fn")
    module.model_fn = lambda model_dir: lambda rows: np.asarray(rows).sum(axis=1)  # type: ignore[attr-defined]
    handlers = sagemaker_worker.Handlers(module)
    model = handlers.model_fn("/unused")

    # When CSV and JSON requests go through the default input/predict/output functions
    csv_body, csv_type = handlers.transform(model, b"1,2\n3,4", "text/csv", "*/*")
    json_body, json_type = handlers.transform(
        model, b"[[1, 1], [2, 5]]", "application/json", "application/json"
    )

    # Then inputs are decoded, the model is called, and the answer is JSON
    assert (json.loads(csv_body), csv_type) == ([3.0, 7.0], "application/json")
    assert (json.loads(json_body), json_type) == ([2, 7], "application/json")
    with pytest.raises(sagemaker_worker.UnsupportedFormatError):
        handlers.transform(model, b"\x00", "application/x-image", "application/json")
