"""Errors map to statuses in one place: trade2026.api."""

import json

import pytest
from botocore.exceptions import ClientError
from pydantic import BaseModel

from trade2026.api import create_resolver
from trade2026.auth import caller_from_claims
from trade2026.errors import Forbidden, NotFound


class Order(BaseModel):
    symbol: str
    quantity: int


def _app():
    app = create_resolver()

    @app.post("/orders")
    def create(body: Order) -> dict:
        if body.symbol == "GONE":
            raise NotFound("No order GONE")
        if body.symbol == "RACE":
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem"
            )
        if body.symbol == "BUSY":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "PutItem")
        return body.model_dump()

    return app


def _post(body: str) -> tuple[int, dict]:
    event = {"httpMethod": "POST", "path": "/orders", "resource": "/orders", "body": body,
             "headers": {"Content-Type": "application/json"}, "requestContext": {}}  # fmt: skip
    response = _app().resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{bad", 400, "bad_request"),
        ('{"symbol": "X"}', 422, "validation_error"),
        ('{"symbol": "X", "quantity": "many"}', 422, "validation_error"),
        ('{"symbol": "GONE", "quantity": 1}', 404, "not_found"),
        ('{"symbol": "RACE", "quantity": 1}', 409, "conflict"),
        ('{"symbol": "BUSY", "quantity": 1}', 503, "service_unavailable"),
    ],
)
def test_each_failure_maps_to_its_status(body, status, code):
    # Given a route, When it gets input or raises an error of each kind, Then the status and code match
    got_status, payload = _post(body)
    assert (got_status, payload["code"]) == (status, code)
    assert payload["message"]


def test_validation_message_names_the_field():
    _, payload = _post('{"symbol": "X"}')
    assert "quantity" in payload["message"]


def test_caller_groups_parse_api_gateway_string_forms():
    # API Gateway passes list claims as strings; both forms give the same groups
    for raw in ("[admin trader]", "admin,trader", ["admin", "trader"]):
        assert caller_from_claims({"sub": "u1", "cognito:groups": raw}).groups == {"admin", "trader"}


def test_require_any_refuses_other_groups_and_lets_admins_through():
    viewer = caller_from_claims({"sub": "u1", "cognito:groups": "viewer"})
    with pytest.raises(Forbidden, match="trader"):
        viewer.require_any("trader")
    caller_from_claims({"sub": "u2", "cognito:groups": "admin"}).require_any("trader")


def test_answers_allow_the_ui_origin_only(monkeypatch: pytest.MonkeyPatch):
    # Given the UI's origin configured (template parameter UiOrigin -> CORS_ALLOW_ORIGIN)
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://ui.example.com")
    event = {"httpMethod": "POST", "path": "/orders", "resource": "/orders", "body": '{"symbol": "X", "quantity": 1}',
             "requestContext": {}}  # fmt: skip
    # When the UI and another site call
    from_ui = _app().resolve({**event, "headers": {"origin": "https://ui.example.com"}}, None)
    from_elsewhere = _app().resolve({**event, "headers": {"origin": "https://evil.example.com"}}, None)
    # Then only the UI's origin is allowed, and the pagination header is readable by it
    headers = from_ui["multiValueHeaders"]
    assert headers["Access-Control-Allow-Origin"] == ["https://ui.example.com"]
    assert "X-Next-Token" in headers["Access-Control-Expose-Headers"][0]
    assert "Access-Control-Allow-Origin" not in from_elsewhere["multiValueHeaders"]
