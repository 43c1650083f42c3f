"""The local gateway's request size limit: configured by LOCALCLOUD_MAX_BODY_BYTES, 413 with the reason above it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localcloud.gateway import MAX_BODY_BYTES, MAX_BODY_ENV, Gateway, configured_max_body_bytes


class NoRuntime:
    """The limit is checked before any route: nothing may be invoked."""

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused request reached a function")


@pytest.fixture
def small_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(MAX_BODY_ENV, "100")
    gateway = Gateway("127.0.0.1", 0, [], {}, NoRuntime(), "http://127.0.0.1:9", None)  # type: ignore[arg-type]
    gateway.start()
    try:
        yield gateway.url
    finally:
        gateway.stop()


def test_the_configured_limit_refuses_larger_bodies_with_413_and_the_reason(small_gateway: str):
    # Given a gateway started with LOCALCLOUD_MAX_BODY_BYTES=100, When a 101-byte body is POSTed
    response = requests.post(f"{small_gateway}/v1/orders", data=b"x" * 101, timeout=5)
    # Then it is a 413 naming the limit, in the API's JSON error shape
    assert response.status_code == 413
    assert "exceeds 100 bytes" in response.json()["message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", MAX_BODY_BYTES), ("1", 1), (" 2048 ", 2048), (str(MAX_BODY_BYTES), MAX_BODY_BYTES)],
)
def test_the_limit_comes_from_the_environment(value: str, expected: int):
    assert configured_max_body_bytes({MAX_BODY_ENV: value}) == expected


@pytest.mark.parametrize(
    ("value", "words"), [("0", "between 1 and"), ("7000000", "between 1 and"), ("6MB", "whole")]
)
def test_a_bad_limit_stops_the_start_with_the_reason(value: str, words: str):
    # Given a limit that is not a number of bytes Lambda could take, Then starting says why
    with pytest.raises(ValueError, match=words):
        configured_max_body_bytes({MAX_BODY_ENV: value})
