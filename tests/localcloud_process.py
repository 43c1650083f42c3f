"""Start `trade2026 up` as a subprocess on free ports, the way users start it; shared by test fixtures."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningCloud:
    api_url: str
    aws_endpoint: str
    state_dir: Path
    process: subprocess.Popen[bytes]


@contextmanager
def running_local_cloud(state_dir: Path, *extra_args: str, timeout_s: float = 120) -> Iterator[RunningCloud]:
    """The local cloud, ready (demo users created), until the block ends; then stopped with Ctrl-C."""
    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    command = [
        sys.executable, "-m", "localcloud", "up", "--api-port", str(api_port), "--aws-port", str(aws_port),
        "--no-demo-data", "--state-dir", str(state_dir), *extra_args,
    ]  # fmt: skip
    with (state_dir / "up.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not (state_dir / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"The local cloud did not start:\n{(state_dir / 'up.log').read_text()[-4000:]}")
            time.sleep(0.2)
        try:
            yield RunningCloud(
                f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", state_dir, process
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
