"""One local cloud per test session, started the way users start it (`trade2026 up`), used over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
SELFTEST_TEMPLATE = ROOT / "tests" / "fixtures" / "selftest" / "template.yaml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cloud:
    api_url: str
    aws_endpoint: str
    state_dir: Path
    config: dict[str, Any]
    logins: dict[str, dict[str, str]]
    process: subprocess.Popen[bytes]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, read_timeout=60),
        )

    def id_token(self, group: str) -> str:
        login = self.logins[group]
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self.config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": login["username"], "PASSWORD": login["password"]},
        )
        return result["AuthenticationResult"]["IdToken"]

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": token} if token else {}
        return requests.get(f"{self.api_url}{path}", headers=headers, timeout=30, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": token} if token else {}
        headers.update(kwargs.pop("headers", {}))
        return requests.post(f"{self.api_url}{path}", headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state_dir = tmp_path_factory.mktemp("localcloud")
    api_port, aws_port = _free_port(), _free_port()
    log = (state_dir / "up.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "localcloud", "up",
            "--api-port", str(api_port), "--aws-port", str(aws_port),
            "--no-demo-data", "--extra-template", str(SELFTEST_TEMPLATE),
            "--state-dir", str(state_dir),
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (state_dir / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The local cloud did not start:\n{(state_dir / 'up.log').read_text()[-4000:]}")
        time.sleep(0.2)
    state = json.loads((state_dir / "state.json").read_text())
    logins = {entry["group"]: entry for entry in json.loads((state_dir / "demo-logins.json").read_text())}
    yield Cloud(
        api_url=f"http://127.0.0.1:{api_port}",
        aws_endpoint=f"http://127.0.0.1:{aws_port}",
        state_dir=state_dir,
        config=state["public_config"],
        logins=logins,
        process=process,
    )
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def trader_token(cloud: Cloud) -> str:
    return cloud.id_token("trader")
