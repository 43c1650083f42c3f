"""Bad input anywhere gets a 4xx with a clear reason, never a 500 or a traceback."""

import pytest

pytestmark = pytest.mark.integration
ECHO = "/v1/selftest/echo"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("{not json", 400, "not valid JSON"),
        ('{"quantity": 5}', 422, "symbol"),
        ('{"symbol": "AAPL", "quantity": "five"}', 422, "quantity"),
        ('{"symbol": "AAPL", "quantity": -1}', 422, "greater than 0"),
        ('{"symbol": "AAPL", "quantity": 1, "outcome": "missing"}', 404, "No such thing"),
        ('{"symbol": "AAPL", "quantity": 1, "outcome": "conflict"}', 409, "changed"),
    ],
)
def test_bad_requests_get_a_4xx_with_the_reason(cloud, trader_token, body, status, words):
    # Given a request with a defect, When posted, Then the status says what kind and the message says what
    response = cloud.post(ECHO, trader_token, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert words in response.json()["message"]
    assert "Traceback" not in response.text


def test_a_good_request_passes(cloud, trader_token):
    response = cloud.post(ECHO, trader_token, json={"symbol": "AAPL", "quantity": 3})
    assert response.status_code == 200
    assert response.json() == {"symbol": "AAPL", "quantity": 3, "outcome": "ok"}


def test_an_unexpected_fault_is_a_500_without_internals(cloud, trader_token):
    # Given a handler bug, When hit, Then the client sees a generic 500 and no stack trace
    response = cloud.post(ECHO, trader_token, json={"symbol": "AAPL", "quantity": 1, "outcome": "crash"})
    assert response.status_code == 500
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
