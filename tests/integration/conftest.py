"""One local cloud per test session, started the way users start it (`trade2026 up`), used over HTTP."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.localcloud_process import running_local_cloud

ROOT = Path(__file__).resolve().parents[2]
SELFTEST_TEMPLATE = ROOT / "tests" / "fixtures" / "selftest" / "template.yaml"


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
    with running_local_cloud(state_dir, "--extra-template", str(SELFTEST_TEMPLATE)) as running:
        state = json.loads((state_dir / "state.json").read_text())
        logins = {entry["group"]: entry for entry in json.loads((state_dir / "demo-logins.json").read_text())}
        yield Cloud(
            api_url=running.api_url,
            aws_endpoint=running.aws_endpoint,
            state_dir=state_dir,
            config=state["public_config"],
            logins=logins,
            process=running.process,
        )


@pytest.fixture(scope="session")
def trader_token(cloud: Cloud) -> str:
    return cloud.id_token("trader")
