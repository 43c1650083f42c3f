"""One Lambda execution environment: imports a handler once, then serves invocations.

Started by runtime.py as ``python -m localcloud.lambda_worker`` with cwd = the function's code dir and the
function's environment (which holds ``_HANDLER`` and ``LAMBDA_TASK_ROOT``).

Pipes: the parent writes requests on our stdin and reads answers on our stdout; stderr is the function's log
file. At start-up we move the protocol to private duplicates of fds 0 and 1 and point fd 1 at the log, so
whatever the handler prints (Powertools logs JSON to stdout) lands in the log and never in the protocol.

Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import struct
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")

Handler = Callable[[Any, Any], Any]


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode("utf-8")
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(stream, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = stream.read(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def lambda_error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    """The error object the AWS Python runtime returns (Step Functions matches errorType)."""
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack or []}


class LambdaContext:
    """The attributes and method of the AWS Python runtime's context object."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id: str = request["request_id"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def _json_default(value: Any) -> Any:
    # The AWS runtime's marshaller writes Decimal as a number (DynamoDB items are full of them).
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load_handler(handler_name: str) -> tuple[Handler | None, dict[str, Any] | None]:
    """Import the handler module (the cold start). Returns (handler, None) or (None, error)."""
    module_path, _, attribute = handler_name.rpartition(".")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        return None, lambda_error(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        )
    except Exception as error:
        return None, lambda_error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        )
    handler = getattr(module, attribute, None)
    if not callable(handler):
        return None, lambda_error(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        )
    return handler, None


def run_handler(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    """Call the handler on one request; the answer carries the result JSON or the Lambda error object."""
    event = json.loads(request["payload"])
    context = LambdaContext(request)
    try:
        result = handler(event, context)
    except Exception as error:
        return _handler_failure(error, request)
    try:
        return {"ok": True, "payload": json.dumps(result, default=_json_default)}
    except (TypeError, ValueError) as error:
        failure = lambda_error("Runtime.MarshalError", f"Unable to marshal response: {error}")
        return {"ok": False, "error": {**failure, "requestId": request["request_id"]}}


def _handler_failure(error: Exception, request: dict[str, Any]) -> dict[str, Any]:
    # Drop our own frame (run_handler) like the AWS bootstrap drops its own.
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
    failure = lambda_error(type(error).__name__, str(error), frames)
    failure["requestId"] = request["request_id"]
    # The log shows it as the AWS runtime writes it to CloudWatch.
    print(f"[ERROR] {type(error).__name__}: {error}\nTraceback (most recent call last):\n{''.join(frames)}")
    return {"ok": False, "error": failure}


def _take_over_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Keep the protocol on private fds; handler stdout and stderr both go to the log (our stderr)."""
    protocol_in = os.fdopen(os.dup(0), "rb", buffering=0)
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return protocol_in, protocol_out


def _log_line(text: str) -> None:
    print(text, flush=True)


def serve(protocol_in: BinaryIO, protocol_out: BinaryIO) -> None:
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or str(Path.cwd())
    sys.path.insert(0, task_root)
    handler, init_error = load_handler(os.environ["_HANDLER"])
    write_frame(protocol_out, {"ready": init_error is None, "error": init_error})
    if handler is None:
        _log_line(f"INIT_FAILED {json.dumps(init_error)}")
        return
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    while (request := read_frame(protocol_in)) is not None:
        request_id = request["request_id"]
        _log_line(f"START RequestId: {request_id} Version: {version}")
        started = time.perf_counter()
        answer = run_handler(_faulty(handler), request)
        duration_ms = (time.perf_counter() - started) * 1000
        sys.stdout.flush()
        sys.stderr.flush()
        _log_line(f"END RequestId: {request_id}")
        _log_line(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms")
        _save_coverage()
        write_frame(protocol_out, answer)


def _faulty(handler: Handler) -> Handler:
    """Fault injection (tests/performance/fault_runs.py): with LOCALCLOUD_FAULT_RATE=p for the functions named in
    LOCALCLOUD_FAULT_FUNCTIONS, an invocation fails with probability p, half the time before the handler runs and
    half the time after it (its work done, its answer lost), as a crash or a timeout would."""
    rate = float(os.environ.get("LOCALCLOUD_FAULT_RATE", "0") or 0)
    targets = set(os.environ.get("LOCALCLOUD_FAULT_FUNCTIONS", "").split(","))
    if rate <= 0 or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") not in targets:
        return handler
    import random

    def faulty(event: Any, context: Any) -> Any:
        draw = random.random()  # noqa: S311 - fault injection, not cryptography
        if draw < rate / 2:
            raise RuntimeError("injected fault (before the handler)")
        result = handler(event, context)
        if draw < rate:
            raise RuntimeError("injected fault (after the handler)")
        return result

    return faulty


def _save_coverage() -> None:
    """Under coverage (`make test`), write what this invocation ran: workers end by SIGKILL, never atexit."""
    if "coverage" not in sys.modules:
        return
    import coverage

    current = coverage.Coverage.current()
    if current is not None:
        current.save()


def main() -> None:
    protocol_in, protocol_out = _take_over_stdio()
    serve(protocol_in, protocol_out)


if __name__ == "__main__":
    main()
