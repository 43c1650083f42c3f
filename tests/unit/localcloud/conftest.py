"""One moto server per test module of the local cloud's emulators (in-process, a free loopback port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from moto.server import ThreadedMotoServer

from localcloud.specs import REGION

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENV.items():
            env.setenv(name, value)
        env.setenv("MOTO_PORT", str(port))  # moto's Step Functions interpreter calls Lambda on this port
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        url = f"http://127.0.0.1:{port}"
        requests.post(
            f"{url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        )
        yield url
        server.stop()
