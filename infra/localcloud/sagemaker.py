"""SageMaker in the embedded local cloud: training jobs and endpoints that run the project's own code.

moto 5.2.5 only records SageMaker calls. `install_sagemaker` patches its backends (in this process,
so moto's server must run in-process) so that:

- CreateTrainingJob runs the job's script-mode entry point (hyperparameters `sagemaker_program` and
  `sagemaker_submit_directory`, as the SDK writes them) in a subprocess with the SageMaker environment
  contract, uploads model.tar.gz / output.tar.gz to S3, and DescribeTrainingJob moves from InProgress
  to Completed, Failed or Stopped. StopTrainingJob stops it.
- InvokeEndpoint resolves endpoint -> endpoint config -> production variant -> model and answers from
  a warm worker process (sagemaker_worker.py) running the model's inference module. UpdateEndpoint
  (absent from moto) switches the endpoint to a new config; the next request uses the new model.
- CreateTransformJob (batch transform) starts a worker for the job's model, sends it every object under
  the input S3 prefix (split into records by line and batched up to MaxPayloadInMB, or one record per
  request, as SplitType/BatchStrategy say), and writes each object's answers to <output>/<name>.out
  (AssembleWith Line: one answer per line), as SageMaker does; DescribeTransformJob moves from
  InProgress to Completed or Failed (with the model's error).

Layout under work_dir mirrors /opt/ml: <job>/input/{data,config}, <job>/code, <job>/model,
<job>/output/data, <job>/train.log; endpoints/<endpoint>/<variant>-<n>/{model,code,worker.log};
transform/<job>/{model,code,worker.log,transform.log}.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import copy
import itertools
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError
from moto.sagemaker.models import (
    FakeTrainingJob,
    FakeTransformJob,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.models import SageMakerRuntimeBackend
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from localcloud import sagemaker_worker
from localcloud.specs import REGION

CURRENT_HOST = "algo-1"
SCRIPT_MODE_PREFIX = "sagemaker_"
FAILURE_REASON_LIMIT = 1024
ENV_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT")
MODEL_DIR_IN_CONTAINER = "/opt/ml/model"


# moto's response handler hands the backend neither Content-Type nor (over HTTP) the endpoint name
# from the URL path; carry both alongside the call.
class RequestContext(NamedTuple):
    content_type: str | None = None
    endpoint_name: str | None = None


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "sagemaker_request_context", default=None
)
_active: SageMakerExecutor | None = None
_originals: dict[tuple[type, str], Any] = {}


class ModelError(ServiceException):
    """What SageMaker returns (HTTP 424) when the model's container answers with an error."""

    code = "ModelError"

    def __init__(self, message: str, original_status_code: int, original_message: str) -> None:
        super().__init__(message)
        # Serialized as the ModelError shape's members (botocore names).
        self.OriginalStatusCode = original_status_code
        self.OriginalMessage = original_message


class RuntimeValidationError(ServiceException):
    """sagemaker-runtime's 400 for an unknown endpoint, variant or model."""

    code = "ValidationError"


class WorkerGoneError(Exception):
    """The worker process exited or did not answer in time."""


def install_sagemaker(
    s3_endpoint: str,
    work_dir: Path,
    base_env: dict[str, str],
    *,
    invocation_timeout_s: float = 60.0,
    startup_timeout_s: float = 120.0,
) -> SageMakerExecutor:
    """Patch moto's SageMaker backends so training jobs and endpoints run real code."""
    global _active  # noqa: PLW0603 - moto's classes are process-wide, so is the executor
    if _active is not None:
        raise RuntimeError("SageMaker emulation is already installed; close() the executor first")
    executor = SageMakerExecutor(s3_endpoint, work_dir, base_env, invocation_timeout_s, startup_timeout_s)
    _patch_moto()
    _active = executor
    return executor


# --------------------------------------------------------------------------------------------- S3


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"Not an S3 URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


class S3Files:
    """Downloads and uploads against the local S3, the way SageMaker's File mode does."""

    def __init__(self, endpoint_url: str) -> None:
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            config=Config(retries={"max_attempts": 2}),
        )

    def download_prefix(self, uri: str, target: Path) -> int:
        """Object first (like the SDK's local mode), else every object under the prefix."""
        bucket, prefix = split_s3_uri(uri)
        target.mkdir(parents=True, exist_ok=True)
        if prefix and not prefix.endswith("/") and self._object_exists(bucket, prefix):
            self._client.download_file(bucket, prefix, str(target / Path(prefix).name))
            return 1
        count = 0
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :].lstrip("/")
                if not relative or item["Key"].endswith("/"):
                    continue
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                self._client.download_file(bucket, item["Key"], str(destination))
                count += 1
        return count

    def download_file(self, uri: str, destination: Path) -> None:
        bucket, key = split_s3_uri(uri)
        destination.parent.mkdir(parents=True, exist_ok=True)
        self._client.download_file(bucket, key, str(destination))

    def upload_file(self, source: Path, uri: str) -> None:
        bucket, key = split_s3_uri(uri)
        self._client.upload_file(str(source), bucket, key)

    def list_objects(self, uri: str) -> list[str]:
        """Keys under the prefix, sorted (folders' placeholder objects left out)."""
        bucket, prefix = split_s3_uri(uri)
        keys = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/")]
        return sorted(keys)

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self._client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def write(self, uri: str, body: bytes) -> None:
        bucket, key = split_s3_uri(uri)
        self._client.put_object(Bucket=bucket, Key=key, Body=body)

    def _object_exists(self, bucket: str, key: str) -> bool:
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """The process and anything it spawned (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def tar_directory(source: Path, archive: Path) -> None:
    """Tar the directory's contents (no leading folder), as SageMaker packs /opt/ml/model."""
    with tarfile.open(archive, "w:gz") as tar:
        for child in sorted(source.iterdir()):
            tar.add(child, arcname=child.name)


def extract_archive(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


def decode_hyperparameter(value: Any) -> Any:
    """The SDK JSON-encodes hyperparameter values; plain strings pass through."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def process_base_env(base_env: dict[str, str]) -> dict[str, str]:
    inherited = {name: os.environ[name] for name in ENV_PASSED_THROUGH if name in os.environ}
    return {**inherited, "PYTHONUNBUFFERED": "1", **base_env}


def _with_python_path(env: dict[str, str], code_dir: Path) -> dict[str, str]:
    python_path = [str(code_dir), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(part for part in python_path if part)}


# ------------------------------------------------------------------------------------- training


def cli_arguments(hyperparameters: dict[str, Any]) -> list[str]:
    """`--name value` pairs sorted by name, as sagemaker-training's to_cmd_args builds them."""
    arguments: list[str] = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        if isinstance(value, dict):
            value = ",".join(f"{key}={item}" for key, item in sorted(value.items()))
        arguments += [f"--{name}" if len(name) > 1 else f"-{name}", str(value)]
    return arguments


def env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class JobLayout:
    """The job's /opt/ml tree, rooted in the local cloud's work directory."""

    root: Path

    @property
    def input_data(self) -> Path:
        return self.root / "input" / "data"

    @property
    def input_config(self) -> Path:
        return self.root / "input" / "config"

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def log(self) -> Path:
        return self.root / "train.log"

    def create(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        for folder in (self.input_data, self.input_config, self.code, self.model, self.output_data):
            folder.mkdir(parents=True)


def training_environment(job: FakeTrainingJob, layout: JobLayout, channels: list[str]) -> dict[str, str]:
    """The SM_* variables sagemaker-training sets for a script-mode entry point."""
    all_hps = {name: decode_hyperparameter(value) for name, value in (job.hyper_parameters or {}).items()}
    user_hps = {name: value for name, value in all_hps.items() if not name.startswith(SCRIPT_MODE_PREFIX)}
    channel_dirs = {name: str(layout.input_data / name) for name in channels}
    resource_config = {
        "current_host": CURRENT_HOST,
        "hosts": [CURRENT_HOST],
        "network_interface_name": "eth0",
    }
    training_env = {
        "job_name": job.training_job_name,
        "current_host": CURRENT_HOST,
        "hosts": [CURRENT_HOST],
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "hyperparameters": user_hps,
        "additional_framework_parameters": {
            name: value for name, value in all_hps.items() if name.startswith(SCRIPT_MODE_PREFIX)
        },
        "channel_input_dirs": channel_dirs,
        "input_data_config": {item["ChannelName"]: item for item in job.input_data_config or []},
        "resource_config": resource_config,
        "input_dir": str(layout.root / "input"),
        "input_config_dir": str(layout.input_config),
        "model_dir": str(layout.model),
        "output_dir": str(layout.output),
        "output_data_dir": str(layout.output_data),
        "module_dir": all_hps.get("sagemaker_submit_directory"),
        "user_entry_point": all_hps.get("sagemaker_program"),
        "module_name": str(all_hps.get("sagemaker_program", "")).removesuffix(".py"),
        "log_level": 20,
    }
    env = {f"SM_{key.upper()}": env_value(value) for key, value in training_env.items() if value is not None}
    env |= {f"SM_HP_{name.upper()}": env_value(value) for name, value in user_hps.items()}
    env |= {f"SM_CHANNEL_{name.upper()}": path for name, path in channel_dirs.items()}
    env |= {
        "SM_HPS": env_value(user_hps),
        "SM_CHANNELS": env_value(sorted(channels)),
        "SM_USER_ARGS": env_value(cli_arguments(user_hps)),
        "SM_TRAINING_ENV": env_value(training_env),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output / "intermediate"),
    }
    return env


def final_metrics(log_text: str, definitions: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Last value of each MetricDefinitions regex in the log, as FinalMetricDataList reports it."""
    now = utcnow()
    metrics = []
    for definition in definitions:
        values = [match.group(1) for match in re.finditer(definition["Regex"], log_text, re.MULTILINE)]
        numbers = [float(value) for value in values if _is_number(value)]
        if numbers:
            metrics.append({"MetricName": definition["Name"], "Value": numbers[-1], "Timestamp": now})
    return metrics


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def update_job(job: FakeTrainingJob | FakeTransformJob, **fields: Any) -> None:
    """moto's Describe*Job serializes the job's attributes (None omitted), so set them."""
    for name, value in fields.items():
        setattr(job, name, value)


class TrainingStoppedError(Exception):
    """The run ended because StopTrainingJob was called or MaxRuntimeInSeconds ran out."""


@dataclass
class TrainingRun:
    """One CreateTrainingJob, run on a background thread; mutates moto's job under the lock."""

    job: FakeTrainingJob
    layout: JobLayout
    metric_definitions: list[dict[str, str]]
    executor: SageMakerExecutor
    stop_reason: str | None = None
    process: subprocess.Popen[bytes] | None = None
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=25))

    def run(self) -> None:
        try:
            self._transition("Downloading", "Downloading input data and the training code")
            command, env = self._prepare()
            self._transition("Training", "Training in progress")
            exit_code = self._execute(command, env)
            metrics = final_metrics(self.layout.log.read_text(errors="replace"), self.metric_definitions)
            if self.stop_reason:
                raise TrainingStoppedError(self.stop_reason)
            if exit_code != 0:
                self._finish("Failed", "Failed", metrics, self._script_failure(exit_code))
                return
            self._transition("Uploading", "Uploading generated training model")
            artifacts = self._upload()
            self._finish("Completed", "Completed", metrics, None, artifacts)
        except TrainingStoppedError as stopped:
            reason = "MaxRuntimeInSeconds exceeded" if str(stopped) == "MaxRuntimeExceeded" else None
            self._finish("Stopped", str(stopped), [], reason)
        except Exception as error:  # bad input/config: report it on the job like SageMaker does
            self._log(f"local cloud: {type(error).__name__}: {error}")
            self._finish("Failed", "Failed", [], f"ClientError: {error}")

    def stop(self, reason: str) -> None:
        self.stop_reason = reason
        if self.process is not None and self.process.poll() is None:
            _kill_group(self.process)

    def _prepare(self) -> tuple[list[str], dict[str, str]]:
        self.layout.create()
        channels = [self._download_channel(channel) for channel in self.job.input_data_config or []]
        entry_point = self._download_code()
        env = training_environment(self.job, self.layout, channels)
        self._write_config_files(env)
        user_hps = json.loads(env["SM_HPS"])
        command = [sys.executable, str(entry_point), *cli_arguments(user_hps)]
        base = _with_python_path(process_base_env(self.executor.base_env), self.layout.code)
        return command, {"AWS_REGION": REGION, **base, **env}

    def _download_channel(self, channel: dict[str, Any]) -> str:
        name = channel["ChannelName"]
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        if self.executor.s3.download_prefix(uri, self.layout.input_data / name) == 0:
            raise ValueError(f"No S3 objects found under S3 URL {uri!r} given in input data source {name!r}")
        return str(name)

    def _download_code(self) -> Path:
        hyperparameters = self.job.hyper_parameters or {}
        program = decode_hyperparameter(hyperparameters.get("sagemaker_program"))
        submit_dir = decode_hyperparameter(hyperparameters.get("sagemaker_submit_directory"))
        if not program or not submit_dir:
            raise ValueError(
                "the local cloud runs script mode only: hyperparameters sagemaker_program and "
                "sagemaker_submit_directory are required"
            )
        archive = self.layout.root / "sourcedir.tar.gz"
        self.executor.s3.download_file(str(submit_dir), archive)
        extract_archive(archive, self.layout.code)
        entry_point = self.layout.code / str(program)
        if not entry_point.is_file():
            raise ValueError(f"entry point {program!r} is not in {submit_dir}")
        if (self.layout.code / "requirements.txt").exists():
            self._log(
                "local cloud: requirements.txt not installed (offline); using this interpreter's packages"
            )
        return entry_point

    def _write_config_files(self, env: dict[str, str]) -> None:
        training_env = json.loads(env["SM_TRAINING_ENV"])
        files = {
            "hyperparameters.json": self.job.hyper_parameters or {},
            "resourceconfig.json": training_env["resource_config"],
            "inputdataconfig.json": training_env["input_data_config"],
        }
        for name, content in files.items():
            (self.layout.input_config / name).write_text(json.dumps(content, default=str))

    def _execute(self, command: list[str], env: dict[str, str]) -> int:
        timeout = (self.job.stopping_condition or {}).get("MaxRuntimeInSeconds", 86400)
        with self.layout.log.open("ab") as log:
            log.write(f"local cloud: running {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command,
                cwd=self.layout.code,
                env=env,
                stdout=log,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            if self.stop_reason:  # stopped while the process was starting
                self.stop(self.stop_reason)
            pump = threading.Thread(target=self._pump_stderr, args=(self.process.stderr, log), daemon=True)
            pump.start()
            try:
                exit_code = self.process.wait(timeout=float(timeout))
            except subprocess.TimeoutExpired:
                self.stop("MaxRuntimeExceeded")
                exit_code = self.process.wait()
            pump.join(timeout=5)
        return exit_code

    def _pump_stderr(self, stderr: IO[bytes], log: IO[bytes]) -> None:
        for line in stderr:
            log.write(line)
            log.flush()
            self.stderr_tail.append(line.decode(errors="replace").rstrip())

    def _script_failure(self, exit_code: int) -> str:
        failure_file = self.layout.output / "failure"
        if failure_file.exists():
            message = failure_file.read_text(errors="replace").strip()
        else:
            message = "\n".join(line for line in self.stderr_tail if line)
        prefix = f"AlgorithmError: ExecuteUserScriptError: ExitCode {exit_code}\nErrorMessage "
        return prefix + message[-(FAILURE_REASON_LIMIT - len(prefix)) :]  # the error is at the end

    def _upload(self) -> dict[str, str]:
        output_path = self.job.output_data_config["S3OutputPath"].rstrip("/")
        prefix = f"{output_path}/{self.job.training_job_name}/output"
        model_archive = self.layout.root / "model.tar.gz"
        tar_directory(self.layout.model, model_archive)
        self.executor.s3.upload_file(model_archive, f"{prefix}/model.tar.gz")
        if any(self.layout.output_data.iterdir()):
            output_archive = self.layout.root / "output.tar.gz"
            tar_directory(self.layout.output_data, output_archive)
            self.executor.s3.upload_file(output_archive, f"{prefix}/output.tar.gz")
        return {"S3ModelArtifacts": f"{prefix}/model.tar.gz"}

    def _log(self, line: str) -> None:
        self.layout.log.parent.mkdir(parents=True, exist_ok=True)
        with self.layout.log.open("a") as log:
            log.write(line + "\n")

    def _transition(self, secondary_status: str, message: str) -> None:
        with self.executor.lock:
            if self.stop_reason:
                raise TrainingStoppedError(self.stop_reason)
            self._append_transition(secondary_status, message)

    def _append_transition(self, secondary_status: str, message: str) -> None:
        self._close_transition(self.job)
        self.job.secondary_status = secondary_status
        self.job.secondary_status_transitions = [
            *self.job.secondary_status_transitions,
            {"Status": secondary_status, "StartTime": utcnow(), "StatusMessage": message},
        ]
        self.job.last_modified_time = utcnow()

    def _finish(
        self,
        status: str,
        secondary_status: str,
        metrics: list[dict[str, Any]],
        failure_reason: str | None,
        artifacts: dict[str, str] | None = None,
    ) -> None:
        with self.executor.lock:
            self._append_transition(secondary_status, failure_reason or f"Training job {status.lower()}")
            self._close_transition(self.job)
            now = utcnow()
            seconds = max(1, int((now - self.job.training_start_time).total_seconds()))
            update_job(
                self.job,
                training_job_status=status,
                failure_reason=failure_reason,
                final_metric_data_list=metrics,
                model_artifacts=artifacts,
                training_end_time=now,
                training_time_in_seconds=seconds,
                billable_time_in_seconds=seconds,
            )

    @staticmethod
    def _close_transition(job: FakeTrainingJob) -> None:
        transitions = job.secondary_status_transitions
        if transitions and "EndTime" not in transitions[-1]:
            job.secondary_status_transitions = [*transitions[:-1], {**transitions[-1], "EndTime": utcnow()}]


# ------------------------------------------------------------------------------------ endpoints


class EndpointWorker:
    """A warm inference process for one model version; requests are serialized through a lock."""

    def __init__(
        self, model_dir: Path, code_dir: Path, program: str, env: dict[str, str], log_path: Path
    ) -> None:
        self.log_path = log_path
        self._lock = threading.Lock()
        with log_path.open("ab") as log:
            command = [sys.executable, sagemaker_worker.__file__, "--program", program]
            command += ["--model-dir", str(model_dir), "--code-dir", str(code_dir)]
            self._process = subprocess.Popen(
                command,
                cwd=code_dir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
                start_new_session=True,
            )

    def wait_ready(self, timeout_s: float) -> dict[str, Any]:
        """The worker's first frame: {"ready": true} once model_fn returned, or the load error."""
        meta, _ = self._receive(timeout_s)
        return meta

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, timeout_s: float
    ) -> tuple[dict[str, Any], bytes]:
        with self._lock:
            if self._process.poll() is not None or self._process.stdin is None:
                raise WorkerGoneError(f"worker exited with code {self._process.returncode}")
            try:
                sagemaker_worker.write_frame(
                    self._process.stdin, {"content_type": content_type, "accept": accept}, body
                )
            except BrokenPipeError as error:
                raise WorkerGoneError("worker exited") from error
            return self._receive(timeout_s)

    def close(self, *, finish_request_first: bool = False, grace_s: float = 60.0) -> None:
        """Stop the process; a hot swap lets the request in flight finish first."""
        acquired = self._lock.acquire(timeout=grace_s) if finish_request_first else False
        try:
            if self._process.poll() is None:
                _kill_group(self._process)
            self._process.wait(timeout=10)
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
        finally:
            if acquired:
                self._lock.release()

    def _receive(self, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        header = self._read_exact(sagemaker_worker.HEADER.size, timeout_s)
        meta_len, body_len = sagemaker_worker.HEADER.unpack(header)
        meta = json.loads(self._read_exact(meta_len, timeout_s))
        return meta, self._read_exact(body_len, timeout_s)

    def _read_exact(self, size: int, timeout_s: float) -> bytes:
        assert self._process.stdout is not None
        descriptor = self._process.stdout.fileno()
        data = bytearray()
        while len(data) < size:
            readable, _, _ = select.select([descriptor], [], [], timeout_s)
            if not readable:
                raise WorkerGoneError(f"no answer within {timeout_s:g} s")
            chunk = os.read(descriptor, size - len(data))
            if not chunk:
                raise WorkerGoneError(f"worker exited with code {self._process.wait(timeout=5)}")
            data += chunk
        return bytes(data)


@dataclass
class Deployment:
    """The worker serving one production variant of one endpoint at one model version."""

    config_name: str
    version: str
    worker: EndpointWorker


def _choose_variant(variants: list[dict[str, Any]], target_variant: str | None) -> dict[str, Any]:
    if target_variant:
        for variant in variants:
            if variant["VariantName"] == target_variant:
                return variant
        raise RuntimeValidationError(f"The variant {target_variant!r} does not exist on this endpoint.")
    weights = [float(variant.get("InitialVariantWeight", 1.0)) for variant in variants]
    return random.choices(variants, weights=weights)[0]  # noqa: S311 - traffic split, not security


def _container_of(model: Any) -> dict[str, Any]:
    return model.primary_container or (model.containers[0] if model.containers else {})


def _error_reply(variant: str, status: int, message: str, log_path: Path) -> ModelError:
    kind = "client" if 400 <= status < 500 else "server"
    return ModelError(
        f'Received {kind} error ({status}) from {variant} with message "{message}". '
        f"See {log_path} for more information.",
        original_status_code=status,
        original_message=message,
    )


# ------------------------------------------------------------------------------- batch transform

MEGABYTE = 1024 * 1024
DEFAULT_TRANSFORM_INVOCATION_TIMEOUT_S = 600.0  # ModelClientConfig.InvocationsTimeoutInSeconds' default


class TransformFailedError(Exception):
    """The model answered a batch with an error, or the job's input or settings cannot be used."""


def split_records(body: bytes, split_type: str | None) -> list[bytes]:
    """SplitType Line: one record per non-empty line; None: the whole object is one record."""
    if (split_type or "None") == "Line":
        return [line for line in body.splitlines() if line.strip()]
    if split_type not in (None, "None"):
        raise TransformFailedError(f"SplitType {split_type} is not supported by the local cloud (Line, None)")
    return [body] if body else []


def batch_records(records: list[bytes], strategy: str | None, max_payload_bytes: int) -> list[bytes]:
    """MultiRecord: consecutive records joined by newlines up to the payload limit; SingleRecord: one each."""
    if (strategy or "MultiRecord") == "SingleRecord":
        batches = records
    else:
        batches, size = [], 0
        current: list[bytes] = []
        for record in records:
            if current and size + len(record) + 1 > max_payload_bytes:
                batches.append(b"\n".join(current))
                current, size = [], 0
            current.append(record)
            size += len(record) + 1
        if current:
            batches.append(b"\n".join(current))
    too_big = next((len(batch) for batch in batches if len(batch) > max_payload_bytes), None)
    if too_big is not None:
        raise TransformFailedError(f"a record of {too_big} bytes exceeds MaxPayloadInMB")
    return batches


def assemble(answers: list[bytes], assemble_with: str | None) -> bytes:
    """AssembleWith Line: each answer followed by a newline; None: the answers back to back."""
    if (assemble_with or "None") == "Line":
        return b"".join(answer if answer.endswith(b"\n") else answer + b"\n" for answer in answers)
    return b"".join(answers)


@dataclass
class TransformRun:
    """One CreateTransformJob on a background thread: a worker for the model, every input object scored."""

    job: Any  # moto's FakeTransformJob (its attribute types are looser than its annotations)
    model: Any
    root: Path
    executor: SageMakerExecutor
    worker: EndpointWorker | None = None
    stopped: bool = False

    @property
    def log(self) -> Path:
        return self.root / "transform.log"

    def run(self) -> None:
        try:
            self._log(
                f"local cloud: transform job {self.job.transform_job_name} with model {self.job.model_name}"
            )
            self.worker = self.executor.start_transform_worker(
                self.root, self.model, self.job.environment or {}
            )
            for key in self._inputs():
                self._transform(key)
            self._finish("Completed", None)
        except (ModelError, TransformFailedError, WorkerGoneError) as error:
            self._log(f"local cloud: {type(error).__name__}: {error}")
            self._finish("Failed", f"ClientError: {error}"[:FAILURE_REASON_LIMIT])
        except Exception as error:  # S3 or configuration trouble: reported on the job like SageMaker does
            self._log(f"local cloud: {type(error).__name__}: {error}")
            self._finish("Failed", f"{type(error).__name__}: {error}"[:FAILURE_REASON_LIMIT])
        finally:
            if self.worker is not None:
                self.worker.close()

    def stop(self) -> None:
        self.stopped = True
        if self.worker is not None:
            self.worker.close()

    def _inputs(self) -> list[str]:
        source = ((self.job.transform_input or {}).get("DataSource") or {}).get("S3DataSource") or {}
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise TransformFailedError("the local cloud reads S3Prefix inputs only (no manifest files)")
        keys = self.executor.s3.list_objects(source["S3Uri"])
        if not keys:
            raise TransformFailedError(f"No S3 objects found under S3 URL {source['S3Uri']!r}")
        return keys

    def _transform(self, key: str) -> None:
        transform_input = self.job.transform_input or {}
        source_uri = transform_input["DataSource"]["S3DataSource"]["S3Uri"]
        bucket, prefix = split_s3_uri(source_uri)
        body = self.executor.s3.read(bucket, key)
        if (transform_input.get("CompressionType") or "None") != "None":
            raise TransformFailedError("the local cloud reads uncompressed input only (CompressionType None)")
        max_payload = int(self.job.max_payload_in_mb or 6) * MEGABYTE
        batches = batch_records(
            split_records(body, transform_input.get("SplitType")), self.job.batch_strategy, max_payload
        )
        output = self.job.transform_output or {}
        timeout = float(
            (self.job.model_client_config or {}).get("InvocationsTimeoutInSeconds")
            or DEFAULT_TRANSFORM_INVOCATION_TIMEOUT_S
        )
        answers = []
        for batch in batches:
            if self.stopped or self.worker is None:
                raise TransformFailedError("stopped")
            meta, answer = self.worker.invoke(
                batch, transform_input.get("ContentType"), output.get("Accept"), timeout
            )
            if not meta.get("ok"):
                raise TransformFailedError(
                    f"the model answered {meta.get('status_code')} for a batch of {key}: {meta.get('error')}. "
                    f"See {self.worker.log_path}"
                )
            answers.append(answer)
        relative = (
            key[len(prefix) :].lstrip("/") if key.startswith(prefix) and key != prefix else Path(key).name
        )
        target = f"{output['S3OutputPath'].rstrip('/')}/{relative}.out"
        self.executor.s3.write(target, assemble(answers, output.get("AssembleWith")))
        self._log(f"local cloud: {key}: {len(batches)} requests -> {target}")

    def _finish(self, status: str, failure_reason: str | None) -> None:
        with self.executor.lock:
            now = utcnow()
            self.job.transform_job_status = "Stopped" if self.stopped and status == "Failed" else status
            self.job.failure_reason = failure_reason
            self.job.transform_end_time = now
            self.job.last_modified_time = now

    def _log(self, line: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            log.write(line + "\n")


# ------------------------------------------------------------------------------------- executor


class SageMakerExecutor:
    """Runs training jobs and endpoint workers for the patched moto backends."""

    def __init__(
        self,
        s3_endpoint: str,
        work_dir: Path,
        base_env: dict[str, str],
        invocation_timeout_s: float,
        startup_timeout_s: float,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.base_env = dict(base_env)
        self.s3 = S3Files(s3_endpoint)
        self.invocation_timeout_s = invocation_timeout_s
        self.startup_timeout_s = startup_timeout_s
        self.lock = threading.RLock()
        self._runs: dict[str, TrainingRun] = {}
        self._threads: list[threading.Thread] = []
        self._deployments: dict[tuple[str, str], Deployment] = {}
        self._transforms: dict[str, TransformRun] = {}
        self._endpoint_locks: dict[str, threading.Lock] = {}
        self._sequence = itertools.count(1)
        self._closed = False

    # training -------------------------------------------------------------------------------

    def start_training(self, job: FakeTrainingJob, metric_definitions: list[dict[str, str]]) -> None:
        with self.lock:
            now = utcnow()
            job.algorithm_specification.pop("MetricDefinitions", None)
            if metric_definitions:
                job.algorithm_specification["MetricDefinitions"] = metric_definitions
            starting = {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances"}
            # moto created the job Completed; it is InProgress until the run finishes. None hides a field.
            update_job(
                job,
                training_job_status="InProgress",
                secondary_status="Starting",
                secondary_status_transitions=[starting],
                final_metric_data_list=[],
                model_artifacts=None,
                training_start_time=now,
                training_end_time=None,
                failure_reason=None,
                training_time_in_seconds=None,
                billable_time_in_seconds=None,
            )
            run = TrainingRun(job, JobLayout(self.work_dir / job.training_job_name), metric_definitions, self)
            self._runs[job.training_job_name] = run
            thread = threading.Thread(target=run.run, name=f"training-{job.training_job_name}", daemon=True)
            self._threads.append(thread)
        thread.start()

    def stop_training(self, job_name: str) -> None:
        with self.lock:
            run = self._runs.get(job_name)
            if run is not None and run.job.training_job_status == "InProgress":
                run.job.training_job_status = "Stopping"
                run.job.secondary_status = "Stopping"
                run.stop("Stopped")

    def training_log(self, job_name: str) -> Path:
        return JobLayout(self.work_dir / job_name).log

    # batch transform ------------------------------------------------------------------------

    def start_transform(self, job: FakeTransformJob, model: Any) -> None:
        with self.lock:
            now = utcnow()
            # moto created the job Completed; it is InProgress until the run finishes. None hides a field.
            update_job(
                job,
                transform_job_status="InProgress",
                failure_reason=None,
                transform_start_time=now,
                transform_end_time=None,
            )
            run = TransformRun(job, model, self.work_dir / "transform" / job.transform_job_name, self)
            self._transforms[job.transform_job_name] = run
            thread = threading.Thread(target=run.run, name=f"transform-{job.transform_job_name}", daemon=True)
            self._threads.append(thread)
        thread.start()

    def start_transform_worker(self, root: Path, model: Any, environment: dict[str, Any]) -> EndpointWorker:
        """A worker for the job's model (as an endpoint's), the job's Environment added to the container's."""
        shutil.rmtree(root / "model", ignore_errors=True)
        worker = self._spawn_worker(root, model, {name: str(value) for name, value in environment.items()})
        ready = worker.wait_ready(self.startup_timeout_s)
        if not ready.get("ready"):
            worker.close()
            raise TransformFailedError(f"model failed to load: {ready.get('error')}. See {worker.log_path}")
        return worker

    # endpoints ------------------------------------------------------------------------------

    def invoke(
        self, sagemaker: SageMakerModelBackend, endpoint_name: str, request: dict[str, Any]
    ) -> tuple[bytes, str, str, str]:
        """Serve one InvokeEndpoint request; returns (body, content type, variant, custom attributes)."""
        config_name, variant, model = self._resolve(sagemaker, endpoint_name, request["target_variant"])
        variant_name = variant["VariantName"]
        deployment = self._deployment(endpoint_name, config_name, variant_name, model)
        try:
            meta, body = deployment.worker.invoke(
                request["body"], request["content_type"], request["accept"], self.invocation_timeout_s
            )
        except WorkerGoneError as gone:
            with self.lock:
                swapped = self._deployments.get((endpoint_name, variant_name)) is not deployment
            if swapped:  # UpdateEndpoint retired this worker mid-request: the new model answers
                return self.invoke(sagemaker, endpoint_name, request)
            self._retire(deployment)
            raise _error_reply(variant_name, 500, str(gone), deployment.worker.log_path) from gone
        if not meta.get("ok"):
            raise _error_reply(variant_name, meta["status_code"], meta["error"], deployment.worker.log_path)
        return body, meta["content_type"], variant_name, ""

    def retire_endpoint(self, endpoint_name: str) -> None:
        with self.lock:
            doomed = [key for key in self._deployments if key[0] == endpoint_name]
            deployments = [self._deployments.pop(key) for key in doomed]
        for deployment in deployments:
            deployment.worker.close()

    def _resolve(
        self, sagemaker: SageMakerModelBackend, endpoint_name: str, target_variant: str | None
    ) -> tuple[str, dict[str, Any], Any]:
        endpoint = sagemaker.endpoints.get(endpoint_name)
        if endpoint is None:
            raise RuntimeValidationError(
                f"Endpoint {endpoint_name} of account {sagemaker.account_id} not found."
            )
        config = sagemaker.endpoint_configs.get(endpoint.endpoint_config_name)
        if config is None:
            raise RuntimeValidationError(f"Endpoint configuration {endpoint.endpoint_config_name} not found.")
        variant = _choose_variant(config.production_variants, target_variant)
        try:
            model = sagemaker.describe_model(variant["ModelName"])
        except SageMakerValidationError as missing:
            raise RuntimeValidationError(missing.message) from missing
        return endpoint.endpoint_config_name, variant, model

    def _deployment(self, endpoint_name: str, config_name: str, variant_name: str, model: Any) -> Deployment:
        """The warm worker for this model version, started (and the old one retired) on a change."""
        version = json.dumps([config_name, model.arn, model.creation_time, _container_of(model)], default=str)
        key = (endpoint_name, variant_name)
        with self.lock:
            endpoint_lock = self._endpoint_locks.setdefault(endpoint_name, threading.Lock())
        with endpoint_lock:
            current = self._deployments.get(key)
            if current is not None and current.version == version:
                return current
            deployment = Deployment(
                config_name, version, self._start_worker(endpoint_name, variant_name, model)
            )
            with self.lock:
                if self._closed:
                    deployment.worker.close()
                    raise RuntimeValidationError("The local cloud's SageMaker emulation is shut down.")
                self._deployments[key] = deployment
                # Variants of the endpoint's previous config go too (UpdateEndpoint replaced them).
                stale_keys = [
                    other
                    for other, old in self._deployments.items()
                    if other[0] == endpoint_name and old.config_name != config_name
                ]
                retired = [self._deployments.pop(other) for other in stale_keys]
        for old in [stale for stale in (current, *retired) if stale is not None]:
            old.worker.close(finish_request_first=True, grace_s=self.invocation_timeout_s)
        return deployment

    def _start_worker(self, endpoint_name: str, variant_name: str, model: Any) -> EndpointWorker:
        root = self.work_dir / "endpoints" / endpoint_name / f"{variant_name}-{next(self._sequence)}"
        worker: EndpointWorker | None = None
        try:
            worker = self._spawn_worker(root, model)
            ready = worker.wait_ready(self.startup_timeout_s)
        except (ClientError, OSError, ValueError, tarfile.TarError, WorkerGoneError) as error:
            if worker is not None:
                worker.close()
            # On AWS the endpoint would never reach InService; here the request says why.
            raise _error_reply(
                variant_name, 500, f"model failed to load: {error}", root / "worker.log"
            ) from error
        if not ready.get("ready"):
            worker.close()
            raise _error_reply(
                variant_name, 500, f"model failed to load: {ready.get('error')}", worker.log_path
            )
        return worker

    def _spawn_worker(
        self, root: Path, model: Any, extra_env: dict[str, str] | None = None
    ) -> EndpointWorker:
        """Download model.tar.gz and the code, then start the worker (it loads the model)."""
        container = _container_of(model)
        environment = {name: str(value) for name, value in (container.get("Environment") or {}).items()}
        environment |= extra_env or {}
        model_dir = root / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if container.get("ModelDataUrl"):
            self.s3.download_file(container["ModelDataUrl"], root / "model.tar.gz")
            extract_archive(root / "model.tar.gz", model_dir)
        code_dir = self._code_dir(environment.get("SAGEMAKER_SUBMIT_DIRECTORY"), model_dir, root)
        program = str(decode_hyperparameter(environment.get("SAGEMAKER_PROGRAM") or "inference.py"))
        env = _with_python_path(process_base_env(self.base_env), code_dir)
        env = {"AWS_REGION": REGION, **env, **environment, "SM_MODEL_DIR": str(model_dir)}
        return EndpointWorker(model_dir, code_dir, program, env, root / "worker.log")

    def _code_dir(self, submit_directory: str | None, model_dir: Path, root: Path) -> Path:
        """Where the inference code is: a sourcedir.tar.gz in S3, inside the model, or a local folder."""
        location = str(decode_hyperparameter(submit_directory)) if submit_directory else None
        if location is None:
            return model_dir / "code" if (model_dir / "code").is_dir() else model_dir
        if location.startswith("s3://"):
            self.s3.download_file(location, root / "sourcedir.tar.gz")
            extract_archive(root / "sourcedir.tar.gz", root / "code")
            return root / "code"
        if location.startswith(MODEL_DIR_IN_CONTAINER):
            return model_dir / location[len(MODEL_DIR_IN_CONTAINER) :].lstrip("/")
        local = Path(location.removeprefix("file://"))
        if not local.is_dir():
            raise ValueError(f"SAGEMAKER_SUBMIT_DIRECTORY {location} is not reachable")
        return local

    def _retire(self, deployment: Deployment) -> None:
        with self.lock:
            for key, value in list(self._deployments.items()):
                if value is deployment:
                    del self._deployments[key]
        deployment.worker.close()

    # lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop endpoint workers and running training jobs, and restore moto. Idempotent."""
        global _active  # noqa: PLW0603
        with self.lock:
            if self._closed:
                return
            self._closed = True
            deployments = list(self._deployments.values())
            self._deployments.clear()
            runs = list(self._runs.values())
            transforms = list(self._transforms.values())
        for deployment in deployments:
            deployment.worker.close()
        for run in runs:
            run.stop("Stopped")
        for transform in transforms:
            transform.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        if _active is self:
            _unpatch_moto()
            _active = None


# ----------------------------------------------------------------------------------- moto patches


def _executor() -> SageMakerExecutor | None:
    return _active if _active is not None and not _active._closed else None


def _create_training_job(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> FakeTrainingJob:
    # moto overwrites AlgorithmSpecification.MetricDefinitions with a sample: keep the caller's.
    specification = kwargs.get("algorithm_specification") or {}
    metric_definitions = copy.deepcopy(specification.get("MetricDefinitions") or [])
    job = _originals[(SageMakerModelBackend, "create_training_job")](backend, *args, **kwargs)
    executor = _executor()
    if executor is not None:
        executor.start_training(job, metric_definitions)
    return job


def _describe_training_job(backend: SageMakerModelBackend, training_job_name: str) -> dict[str, Any]:
    executor = _executor()
    original = _originals[(SageMakerModelBackend, "describe_training_job")]
    if executor is None:
        return original(backend, training_job_name)
    with executor.lock:  # a consistent snapshot while the training thread moves the job on
        return copy.deepcopy(original(backend, training_job_name))


def _stop_training_job(backend: SageMakerModelBackend, training_job_name: str) -> None:
    if training_job_name not in backend.training_jobs:
        raise SageMakerValidationError(message=f"Could not find training job '{training_job_name}'.")
    executor = _executor()
    if executor is not None:
        executor.stop_training(training_job_name)


def _create_transform_job(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> FakeTransformJob:
    name = kwargs.get("transform_job_name") or (args[0] if args else "")
    if name in backend.transform_jobs:  # moto would replace it silently; SageMaker refuses
        raise SageMakerValidationError(
            message=f"Job name must be unique within an AWS account and region, and a job with this name "
            f"already exists ({name})"
        )
    executor = _executor()
    model = None
    if executor is not None:  # an unknown model is refused at once, as SageMaker does
        model = backend.describe_model(kwargs.get("model_name") or args[1])
    job = _originals[(SageMakerModelBackend, "create_transform_job")](backend, *args, **kwargs)
    if executor is not None:
        executor.start_transform(job, model)
    return job


def _describe_transform_job(backend: SageMakerModelBackend, transform_job_name: str) -> dict[str, Any]:
    executor = _executor()
    original = _originals[(SageMakerModelBackend, "describe_transform_job")]
    if executor is None:
        return original(backend, transform_job_name)
    with executor.lock:  # a consistent snapshot while the transform thread moves the job on
        return copy.deepcopy(original(backend, transform_job_name))


def _update_endpoint(backend: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str) -> Any:
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        raise SageMakerValidationError(message=f"Could not find endpoint '{endpoint_name}'.")
    config = backend.endpoint_configs.get(endpoint_config_name)
    if config is None:
        raise SageMakerValidationError(
            message=f"Could not find endpoint configuration '{endpoint_config_name}'."
        )
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.last_modified_time = utcnow()
    return endpoint


def _delete_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> None:
    _originals[(SageMakerModelBackend, "delete_endpoint")](backend, endpoint_name)
    executor = _executor()
    if executor is not None:
        executor.retire_endpoint(endpoint_name)


def _update_endpoint_response(self: SageMakerResponse) -> ActionResult:
    endpoint = self.sagemaker_backend.update_endpoint(  # type: ignore[attr-defined]
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def _stop_training_job_response(self: SageMakerResponse) -> ActionResult:
    self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))  # type: ignore[attr-defined]
    return ActionResult({})


def _invoke_endpoint_response(self: SageMakerRuntimeResponse) -> Any:
    path_name = re.search(r"/endpoints/([^/]+)/invocations", self.path)
    endpoint_name = urllib.parse.unquote(path_name.group(1)) if path_name else None
    token = _request_context.set(RequestContext(self.headers.get("Content-Type"), endpoint_name))
    try:
        return _originals[(SageMakerRuntimeResponse, "invoke_endpoint")](self)
    finally:
        _request_context.reset(token)


def _invoke_endpoint(runtime: SageMakerRuntimeBackend, endpoint_name: str | None, unique_repr: bytes) -> Any:
    executor = _executor()
    context = _request_context.get() or RequestContext()
    if executor is None:
        return _originals[(SageMakerRuntimeBackend, "invoke_endpoint")](runtime, endpoint_name, unique_repr)
    # unique_repr is base64(JSON) of the x-amzn-sagemaker-* headers, Accept and the (text) body.
    fields = json.loads(base64.b64decode(unique_repr))
    headers = {name.lower(): value for name, value in fields.items()}
    body = fields.get("Body") or b""
    request = {
        "body": body.encode() if isinstance(body, str) else bytes(body),
        "content_type": context.content_type,
        "accept": fields.get("Accept"),
        "target_variant": headers.get("x-amzn-sagemaker-target-variant"),
    }
    sagemaker = sagemaker_backends[runtime.account_id][runtime.region_name]
    return executor.invoke(sagemaker, endpoint_name or context.endpoint_name or "", request)


_PATCHES: list[tuple[type, str, Callable[..., Any]]] = [
    (SageMakerModelBackend, "create_training_job", _create_training_job),
    (SageMakerModelBackend, "describe_training_job", _describe_training_job),
    (SageMakerModelBackend, "stop_training_job", _stop_training_job),
    (SageMakerModelBackend, "create_transform_job", _create_transform_job),
    (SageMakerModelBackend, "describe_transform_job", _describe_transform_job),
    (SageMakerModelBackend, "update_endpoint", _update_endpoint),
    (SageMakerModelBackend, "delete_endpoint", _delete_endpoint),
    (SageMakerResponse, "update_endpoint", _update_endpoint_response),
    (SageMakerResponse, "stop_training_job", _stop_training_job_response),
    (SageMakerRuntimeResponse, "invoke_endpoint", _invoke_endpoint_response),
    (SageMakerRuntimeBackend, "invoke_endpoint", _invoke_endpoint),
]


def _patch_moto() -> None:
    for owner, name, replacement in _PATCHES:
        _originals[(owner, name)] = owner.__dict__.get(name)
        setattr(owner, name, replacement)


def _unpatch_moto() -> None:
    for owner, name, _ in _PATCHES:
        original = _originals.pop((owner, name), None)
        if original is None:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
