"""The local Lambda runtime: runs the project's own handlers without Docker.

Each function gets a pool of warm worker processes (``python -m localcloud.lambda_worker``), each one a Lambda
execution environment: the function's environment plus the reserved Lambda variables, its code dir first on
sys.path, the handler module imported once. Handler output goes to ``<log_dir>/<function-name>.log``.

Errors come back as the AWS Python runtime returns them (``errorType`` = exception class name, so Step
Functions ``Retry``/``Catch`` match it), with ``Sandbox.Timedout``, ``Runtime.ImportModuleError`` and
``Runtime.ExitError`` for the environment's own failures.

``install_moto_lambda_patch`` routes moto's Lambda invocations (boto3 ``lambda.invoke`` against the moto
server, and moto's Step Functions Lambda tasks, which call that API) to this runtime.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localcloud.lambda_worker import lambda_error
from localcloud.specs import REGION, FunctionSpec

_log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_INIT_TIMEOUT_S = 60.0  # generous: pandas/awswrangler cold imports are slow on a busy 2-core machine
_CONCURRENCY_WAIT_S = 60.0  # how long an invoke waits for a free worker before answering "throttled"
_ASYNC_THREADS = 8


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes  # JSON bytes of the handler's return value, or of the Lambda error object
    function_error: str | None  # None on success; "Unhandled" when the handler raised or timed out
    duration_ms: float

    def json(self) -> Any:
        return json.loads(self.payload)


class UnknownFunctionError(KeyError):
    """No function of that name or ARN is registered."""

    def __str__(self) -> str:
        return str(self.args[0])


class _WorkerFailedError(Exception):
    """The execution environment failed (not the handler): carries the Lambda error object to return."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


class _PoolClosedError(Exception):
    """The function was re-registered (or the runtime closed) while this caller waited for a worker."""


def function_name_of(name_or_arn: str) -> str:
    """Name from a name, a partial ARN (account:function:name) or a full ARN, qualifier dropped."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


def _region_of(spec: FunctionSpec) -> str:
    parts = spec.arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else REGION


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], log_path: Path) -> None:
        self.spec = spec
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "localcloud.lambda_worker"],
                cwd=spec.code_dir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,  # its own process group: a kill takes the handler's children too
            )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._in_fd = self._process.stdin.fileno()
        self._out_fd = self._process.stdout.fileno()
        self._poller = select.poll()  # poll, not select: fds may exceed FD_SETSIZE in a busy process
        self._poller.register(self._out_fd, select.POLLIN)

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def wait_ready(self) -> None:
        """Wait for the cold start (module import); raises _WorkerFailedError with the init error."""
        try:
            message = self._read_frame(time.monotonic() + _INIT_TIMEOUT_S)
        except TimeoutError:
            self.kill()
            raise _WorkerFailedError(
                lambda_error("Sandbox.Timedout", f"Init timed out after {_INIT_TIMEOUT_S:.2f} seconds")
            ) from None
        except EOFError:
            raise _WorkerFailedError(self._exit_error("")) from None
        if not message.get("ready"):
            self.kill()
            raise _WorkerFailedError(message["error"])

    def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request; returns the worker's answer or raises _WorkerFailedError (timeout, crash)."""
        timeout_s = self.spec.timeout_s
        deadline_ms = int((time.time() + timeout_s) * 1000)  # the handler's context counts down to it
        try:
            self._write_frame({**request, "deadline_ms": deadline_ms})
            return self._read_frame(time.monotonic() + timeout_s)
        except TimeoutError:
            self.kill()
            raise _WorkerFailedError(
                lambda_error("Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds")
            ) from None
        except (EOFError, BrokenPipeError):
            raise _WorkerFailedError(self._exit_error(request["request_id"])) from None

    def terminate(self) -> None:
        """SIGKILL the process group; safe while another thread reads our pipes."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Terminate and reap; only by the thread that owns this worker (it closes the pipes)."""
        self.terminate()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()

    def _exit_error(self, request_id: str) -> dict[str, Any]:
        code = self._process.wait()
        reason = f"signal: {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        self.kill()
        return lambda_error(
            "Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
        )

    def _write_frame(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        data = memoryview(_HEADER.pack(len(body)) + body)
        while data:
            written = os.write(self._in_fd, data)
            data = data[written:]

    def _read_frame(self, deadline: float) -> dict[str, Any]:
        header = self._read_exactly(_HEADER.size, deadline)
        body = self._read_exactly(_HEADER.unpack(header)[0], deadline)
        message: dict[str, Any] = json.loads(body)
        return message

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise TimeoutError
            if not self._poller.poll(remaining_s * 1000):
                continue
            chunk = os.read(self._out_fd, size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return bytes(data)


class _FunctionPool:
    """Warm workers of one function: reuse an idle one, spawn while under the cap, else wait."""

    def __init__(
        self, spec: FunctionSpec, environment: dict[str, str], log_path: Path, max_workers: int
    ) -> None:
        self.spec = spec
        self._environment = environment
        self._log_path = log_path
        self._max_workers = max_workers
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._reserved = 0  # workers being spawned
        self._closed = False

    def acquire(self) -> _Worker:
        with self._cond:
            deadline = time.monotonic() + _CONCURRENCY_WAIT_S
            while not self._idle and len(self._all) + self._reserved >= self._max_workers:
                remaining_s = deadline - time.monotonic()
                if self._closed:
                    raise _PoolClosedError
                if remaining_s <= 0:
                    raise _WorkerFailedError(lambda_error("TooManyRequestsException", "Rate Exceeded."))
                self._cond.wait(remaining_s)
            if self._closed:
                raise _PoolClosedError
            if self._idle:
                return self._idle.pop()
            self._reserved += 1
        return self._spawn()

    def release(self, worker: _Worker) -> None:
        with self._cond:
            keep = worker.alive and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
            self._cond.notify()
        if not keep:
            worker.kill()

    def close(self, kill_busy: bool) -> None:
        """Retire every worker: idle ones now, busy ones on release, or now too with ``kill_busy``."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            busy = [worker for worker in self._all if worker not in idle]
            self._all.difference_update(idle)
            self._idle.clear()
            self._cond.notify_all()
        for worker in idle:
            worker.kill()
        if kill_busy:
            for worker in busy:
                worker.terminate()  # its caller sees the pipe close and answers Runtime.ExitError

    def _spawn(self) -> _Worker:
        try:
            worker = _Worker(self.spec, self._worker_environment(), self._log_path)
        except BaseException:
            self._unreserve(None)
            raise
        try:
            worker.wait_ready()
        except BaseException:
            worker.kill()
            self._unreserve(None)
            raise
        self._unreserve(worker)
        return worker

    def _unreserve(self, worker: _Worker | None) -> None:
        with self._cond:
            self._reserved -= 1
            if worker is not None:
                self._all.add(worker)
            self._cond.notify()

    def _worker_environment(self) -> dict[str, str]:
        env = dict(self._environment)
        # Each execution environment writes its own log stream, as on AWS.
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        return env


class LambdaRuntime:
    """Registered functions, their warm worker pools, synchronous and asynchronous invocation."""

    def __init__(
        self,
        base_env: dict[str, str],
        log_dir: Path,
        max_workers_per_function: int = 4,
        async_retry_delays_s: tuple[float, ...] = (1.0, 2.0),
    ) -> None:
        self._base_env = dict(base_env)
        self._log_dir = Path(log_dir)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._max_workers = max_workers_per_function
        self._async_retry_delays_s = async_retry_delays_s
        self._lock = threading.Lock()
        self._specs: dict[str, FunctionSpec] = {}
        self._pools: dict[str, _FunctionPool] = {}
        self._closed = threading.Event()
        self._async_executor = ThreadPoolExecutor(_ASYNC_THREADS, thread_name_prefix="lambda-async")
        self._async_cond = threading.Condition()
        self._async_pending = 0

    # -- registry -------------------------------------------------------------------------------------

    def register(self, spec: FunctionSpec) -> None:
        """Add a function or replace its previous spec (its warm workers are retired)."""
        with self._lock:
            if self._specs.get(spec.name) == spec:
                return
            self._specs[spec.name] = spec
            old_pool = self._pools.pop(spec.name, None)
        if old_pool is not None:
            old_pool.close(kill_busy=False)  # in-flight invocations finish on the old code, as on AWS

    def function(self, name_or_arn: str) -> FunctionSpec:
        name = function_name_of(name_or_arn)
        with self._lock:
            spec = self._specs.get(name)
            if spec is None:
                known = ", ".join(sorted(self._specs)) or "none"
                raise UnknownFunctionError(f"Function not found: {name_or_arn} (registered: {known})")
            return spec

    def has_function(self, name_or_arn: str) -> bool:
        with self._lock:
            return function_name_of(name_or_arn) in self._specs

    def log_path(self, name_or_arn: str) -> Path:
        return self._log_dir / f"{self.function(name_or_arn).name}.log"

    # -- invocation -----------------------------------------------------------------------------------

    def invoke(self, name_or_arn: str, payload: bytes) -> InvokeResult:
        """RequestResponse invocation: blocks until the handler answers, fails or times out."""
        spec = self.function(name_or_arn)
        request = {
            "request_id": str(uuid.uuid4()),
            "payload": _event_text(payload),
            "invoked_function_arn": name_or_arn if name_or_arn.startswith("arn:") else spec.arn,
        }
        started = time.perf_counter()
        answer, function_error = self._run(spec.name, request)
        return InvokeResult(answer, function_error, (time.perf_counter() - started) * 1000)

    def invoke_async(self, name_or_arn: str, payload: bytes) -> None:
        """InvocationType=Event: queued; on error retried twice (AWS async semantics), then logged."""
        self.function(name_or_arn)  # unknown functions fail now, as the Invoke API would
        _event_text(payload)
        if self._closed.is_set():
            raise RuntimeError("LambdaRuntime is closed")
        with self._async_cond:
            self._async_pending += 1
        try:
            future = self._async_executor.submit(self._run_async, name_or_arn, payload)
        except RuntimeError:
            self._async_done()
            raise
        future.add_done_callback(lambda _: self._async_done())  # also runs when close() cancels it

    def wait_async_idle(self, timeout_s: float) -> bool:
        """True once every queued asynchronous invocation (retries included) has finished."""
        with self._async_cond:
            return self._async_cond.wait_for(lambda: self._async_pending == 0, timeout_s)

    def close(self) -> None:
        """Kill every worker and drop queued async invocations; idempotent."""
        self._closed.set()
        self._async_executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close(kill_busy=True)

    # -- internals ------------------------------------------------------------------------------------

    def _run(self, name: str, request: dict[str, Any]) -> tuple[bytes, str | None]:
        for _ in range(3):  # a re-registration while we waited sends us to the new pool
            pool = self._pool(name)
            try:
                return self._run_in(pool, request)
            except _PoolClosedError:
                continue
        raise RuntimeError(f"function {name} keeps being re-registered")

    def _run_in(self, pool: _FunctionPool, request: dict[str, Any]) -> tuple[bytes, str | None]:
        try:
            worker = pool.acquire()
        except _WorkerFailedError as failure:
            return self._failed(pool.spec, request, failure.error)
        try:
            answer = worker.invoke(request)
        except _WorkerFailedError as failure:
            return self._failed(pool.spec, request, failure.error)
        finally:
            pool.release(worker)
        if answer["ok"]:
            return answer["payload"].encode("utf-8"), None
        return json.dumps(answer["error"]).encode("utf-8"), "Unhandled"

    def _failed(
        self, spec: FunctionSpec, request: dict[str, Any], error: dict[str, Any]
    ) -> tuple[bytes, str | None]:
        error = {**error, "requestId": request["request_id"]}
        self._append_log(spec.name, f"{request['request_id']} {error['errorType']}: {error['errorMessage']}")
        return json.dumps(error).encode("utf-8"), "Unhandled"

    def _pool(self, name: str) -> _FunctionPool:
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("LambdaRuntime is closed")
            pool = self._pools.get(name)
            if pool is None:
                spec = self._specs[name]
                pool = _FunctionPool(
                    spec, self._environment(spec), self._log_dir / f"{name}.log", self._max_workers
                )
                self._pools[name] = pool
            return pool

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        """base env, then the function's Variables, then the reserved variables Lambda always sets."""
        region = _region_of(spec)
        reserved = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(Path(spec.code_dir).resolve()),
            "TZ": ":UTC",
        }
        return {**self._base_env, **spec.environment, **reserved}

    def _run_async(self, name_or_arn: str, payload: bytes) -> None:
        attempts = 0
        for delay_s in (*self._async_retry_delays_s, None):
            attempts += 1
            error = self._attempt(name_or_arn, payload)
            if error is None:
                return
            if delay_s is None or self._closed.wait(delay_s):
                break
        message = f"async invocation failed after {attempts} attempts: {error}"
        _log.warning("%s: %s", name_or_arn, message)
        self._append_log(function_name_of(name_or_arn), message)

    def _attempt(self, name_or_arn: str, payload: bytes) -> str | None:
        """One async attempt; returns None on success, else why it failed."""
        try:
            result = self.invoke(name_or_arn, payload)
        except Exception as error:  # the runtime closing or the function being removed
            return f"{type(error).__name__}: {error}"
        return None if result.function_error is None else result.payload.decode("utf-8")

    def _async_done(self) -> None:
        with self._async_cond:
            self._async_pending -= 1
            self._async_cond.notify_all()

    def _append_log(self, name: str, line: str) -> None:
        with (self._log_dir / f"{name}.log").open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat()} {line}\n")


def local_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A boto3 client for the local cloud, with fake credentials so botocore never looks for real ones."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - fake: the local cloud accepts any
        config=config,
    )


def _event_text(payload: bytes | str | None) -> str:
    """The invocation payload as JSON text; empty means {} (as the Invoke API does)."""
    if payload is None or len(payload) == 0:
        return "{}"
    text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else payload
    json.loads(text)  # InvalidRequestContentException on AWS: refuse before invoking
    return text


# -- moto integration ---------------------------------------------------------------------------------

# The runtime moto's patched methods use; a holder so re-installing switches it without a global statement.
_patched: dict[str, LambdaRuntime] = {}


def install_moto_lambda_patch(runtime: LambdaRuntime) -> None:
    """Route moto's Lambda invocations of functions known to ``runtime`` to it (moto 5.2.5 internals).

    ``LambdaFunction._invoke_lambda`` (moto's Docker path, used by its S3/SNS/SQS/... notifications) and
    ``LambdaFunction.invoke`` (the Invoke API: we also need InvocationType=Event to be asynchronous and
    ``X-Amz-Function-Error: Unhandled`` like AWS) are replaced; unknown functions keep moto's behaviour.
    Installing again only switches the runtime.
    """
    from moto.awslambda.models import LambdaFunction

    _patched["runtime"] = runtime
    if getattr(LambdaFunction, "_localcloud_patched", False):
        return
    original_invoke_lambda = LambdaFunction._invoke_lambda
    original_invoke = LambdaFunction.invoke

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        local = _runtime_for(self.function_name)
        if local is None:
            return original_invoke_lambda(self, event)
        result = local.invoke(self.function_name, _moto_event_bytes(event))
        return result.payload.decode("utf-8"), result.function_error is not None, ""

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> str | bytes:
        local = _runtime_for(self.function_name)
        if local is None:
            return original_invoke(self, body, request_headers, response_headers)
        return _invoke_from_moto(local, self.function_name, body, request_headers, response_headers)

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    LambdaFunction._localcloud_patched = True  # type: ignore[attr-defined]


def _runtime_for(function_name: str) -> LambdaRuntime | None:
    local = _patched.get("runtime")
    if local is None or local._closed.is_set() or not local.has_function(function_name):
        return None
    return local


def _moto_event_bytes(event: Any) -> bytes:
    """moto passes the request body already json.loads-ed, or the string "{}" for an empty body."""
    if event is None or event == "{}":
        return b"{}"
    if isinstance(event, bytes):
        return event
    return json.dumps(event).encode("utf-8")


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, Mapping) and not hasattr(headers, "getlist"):
        lowered = {str(key).lower(): value for key, value in headers.items()}
        return lowered.get(name.lower())
    value = headers.get(name)  # werkzeug headers are case-insensitive
    return None if value is None else str(value)


def _invoke_from_moto(
    local: LambdaRuntime, function_name: str, body: Any, request_headers: Any, response_headers: Any
) -> bytes:
    payload = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type == "Event":
        local.invoke_async(function_name, payload)
        return b""
    if invocation_type == "DryRun":
        return b""
    result = local.invoke(function_name, payload)
    if result.function_error is not None:
        response_headers["x-amz-function-error"] = result.function_error
    if (_header(request_headers, "X-Amz-Log-Type") or "") == "Tail":
        response_headers["x-amz-log-result"] = base64.b64encode(_log_tail(local, function_name)).decode()
    return result.payload


def _log_tail(local: LambdaRuntime, function_name: str, size: int = 4096) -> bytes:
    """The end of the function's log (AWS returns the last 4 KB of the invocation's log)."""
    try:
        with local.log_path(function_name).open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(log.tell() - size, 0))
            return log.read()
    except OSError:
        return b""
