"""Every test runs with fake AWS credentials and may only reach loopback addresses."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkAccessError(RuntimeError):
    pass


def _check(address: object) -> None:
    if not isinstance(address, tuple):  # AF_UNIX paths are local by definition
        return
    host = str(address[0])
    if host in _LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
            return
    except ValueError:
        pass
    raise NetworkAccessError(f"Tests may only contact loopback; refused a connection to {address!r}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def repo_root() -> os.PathLike[str]:
    from pathlib import Path

    return Path(__file__).resolve().parents[1]
