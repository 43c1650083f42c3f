"""A warm SageMaker inference worker: one process per deployed (endpoint, variant, model version).

Run as a script by localcloud.sagemaker (never imported by user code):

    python sagemaker_worker.py --model-dir DIR --code-dir DIR --program inference.py

It imports the inference module once, calls model_fn(model_dir) once, then serves framed requests
read from stdin with transform_fn, or input_fn -> predict_fn -> output_fn, falling back to the
framework container's defaults (JSON and CSV in, JSON out) where the module defines none.

Frames, both ways: 8-byte header (meta length, body length; big-endian uint32), meta JSON, body.
The protocol owns the original stdout; user prints go to stderr (the worker log), as in a container.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import struct
import sys
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import IO, Any

import numpy as np

HEADER = struct.Struct(">II")
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
# sagemaker-containers hands JSON and CSV bodies to input_fn as str, everything else as bytes.
TEXT_TYPES = (JSON_TYPE, CSV_TYPE)


class UnsupportedFormatError(ValueError):
    """The request's content type or accept type has no decoder/encoder (HTTP 415 in a container)."""

    status_code = 415


def write_frame(stream: IO[bytes], meta: dict[str, Any], body: bytes = b"") -> None:
    meta_bytes = json.dumps(meta).encode()
    stream.write(HEADER.pack(len(meta_bytes), len(body)) + meta_bytes + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    header = _read_exact(stream, HEADER.size)
    if header is None:
        return None
    meta_len, body_len = HEADER.unpack(header)
    meta = _read_exact(stream, meta_len) or b"{}"
    body = _read_exact(stream, body_len) if body_len else b""
    return json.loads(meta), body or b""


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = stream.read(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def media_type(content_type: str | None) -> str:
    """'text/csv; charset=utf-8' -> 'text/csv'."""
    return (content_type or "").split(";")[0].strip().lower()


def default_model_fn(model_dir: str) -> Any:
    raise NotImplementedError(
        f"Please provide a model_fn implementation in the inference module (model dir {model_dir})."
    )


def default_input_fn(body: str | bytes, content_type: str) -> np.ndarray:
    """Decode like the framework containers: JSON -> array, CSV -> np.genfromtxt."""
    text = body.decode() if isinstance(body, bytes) else body
    kind = media_type(content_type)
    if kind == JSON_TYPE:
        return np.array(json.loads(text))
    if kind == CSV_TYPE:
        return np.genfromtxt(io.StringIO(text), delimiter=",")
    raise UnsupportedFormatError(f"Content type {content_type} is not supported by this framework.")


def default_predict_fn(data: Any, model: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise NotImplementedError("Please provide a predict_fn implementation in the inference module.")


def default_output_fn(prediction: Any, accept: str) -> tuple[str, str]:
    """Encode like the framework containers; JSON unless CSV is asked for."""
    kind = media_type(accept)
    if kind == CSV_TYPE:
        buffer = io.StringIO()
        np.savetxt(buffer, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
        return buffer.getvalue(), CSV_TYPE
    if kind in (JSON_TYPE, "", "*/*"):
        return json.dumps(prediction, default=_to_json_compatible), JSON_TYPE
    raise UnsupportedFormatError(f"Accept type {accept} is not supported by this framework.")


def _to_json_compatible(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class Handlers:
    """The inference module's functions, with the container's defaults for the missing ones."""

    def __init__(self, module: ModuleType) -> None:
        self.model_fn: Callable[[str], Any] = getattr(module, "model_fn", default_model_fn)
        self.input_fn: Callable[[Any, str], Any] = getattr(module, "input_fn", default_input_fn)
        self.predict_fn: Callable[[Any, Any], Any] = getattr(module, "predict_fn", default_predict_fn)
        self.output_fn: Callable[[Any, str], Any] = getattr(module, "output_fn", default_output_fn)
        self.transform_fn: Callable[..., Any] | None = getattr(module, "transform_fn", None)

    def transform(self, model: Any, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        payload: str | bytes = body.decode() if media_type(content_type) in TEXT_TYPES else body
        accept = accept if media_type(accept) not in ("", "*/*") else JSON_TYPE
        if self.transform_fn is not None:
            result = self.transform_fn(model, payload, content_type, accept)
        else:
            data = self.input_fn(payload, content_type)
            result = self.output_fn(self.predict_fn(data, model), accept)
        # A tuple is (body, content type); anything else is a body of the accepted type.
        output, output_type = result if isinstance(result, tuple) else (result, accept)
        return _as_bytes(output), str(output_type)


def _as_bytes(output: Any) -> bytes:
    if isinstance(output, bytes | bytearray):
        return bytes(output)
    if isinstance(output, str):
        return output.encode()
    return json.dumps(output, default=_to_json_compatible).encode()


def load_handlers(code_dir: str, program: str) -> Handlers:
    sys.path.insert(0, code_dir)
    module_name = program.removesuffix(".py").replace("/", ".")
    return Handlers(importlib.import_module(module_name))


def serve(handlers: Handlers, model: Any, requests: IO[bytes], responses: IO[bytes]) -> None:
    while (frame := read_frame(requests)) is not None:
        meta, body = frame
        try:
            output, output_type = handlers.transform(
                model, body, meta.get("content_type") or JSON_TYPE, meta.get("accept") or ""
            )
        except Exception as error:  # any user-code failure becomes a ModelError, never a dead worker
            traceback.print_exc()
            write_frame(responses, _error_meta(error))
        else:
            write_frame(responses, {"ok": True, "content_type": output_type}, output)


def _error_meta(error: BaseException) -> dict[str, Any]:
    return {
        "ok": False,
        "status_code": getattr(error, "status_code", 500),
        "error": f"{type(error).__name__}: {error}",
    }


def _take_protocol_streams() -> tuple[IO[bytes], IO[bytes]]:
    """Keep stdin/stdout for frames; user code sees /dev/null as stdin and stderr as stdout."""
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    responses = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return requests, responses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--code-dir", required=True)
    parser.add_argument("--program", default="inference.py")
    args = parser.parse_args(argv)
    requests, responses = _take_protocol_streams()
    os.chdir(args.code_dir)
    try:
        handlers = load_handlers(args.code_dir, args.program)
        model = handlers.model_fn(args.model_dir)
    except BaseException as error:  # report why the model cannot load, then exit
        traceback.print_exc()
        write_frame(responses, {**_error_meta(error), "ready": False})
        return 1
    write_frame(responses, {"ready": True})
    serve(handlers, model, requests, responses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
