"""The shared error mapping's two additions (found by schemathesis): non-UTF-8 bodies and DynamoDB key validation."""

import base64
import json

from botocore.exceptions import ClientError
from pydantic import BaseModel
from pynamodb.exceptions import GetError, PutError

from trade2026.api import create_resolver


class Body(BaseModel):
    symbol: str


def _app():
    app = create_resolver()

    @app.post("/things")
    def create(body: Body) -> dict:
        if body.symbol == "EMPTYKEY":
            cause = ClientError({"Error": {"Code": "ValidationException", "Message": "empty key"}}, "GetItem")
            raise GetError("Failed to get item", cause=cause)
        if body.symbol == "RACE":
            cause = ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem"
            )
            raise PutError("Failed to put item", cause=cause)
        if body.symbol == "BROKEN":
            raise PutError("Failed to put item", cause=ClientError({"Error": {"Code": "Boom"}}, "PutItem"))
        return body.model_dump()

    return app


def _post(body: bytes, encoded: bool = False) -> tuple[int, dict]:
    event = {"httpMethod": "POST", "path": "/things", "resource": "/things", "isBase64Encoded": encoded,
             "body": base64.b64encode(body).decode() if encoded else body.decode("latin-1"),
             "headers": {"Content-Type": "application/json"}, "requestContext": {}}  # fmt: skip
    response = _app().resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_a_body_that_is_not_utf8_is_a_400_with_the_reason():
    # Given a base64 body whose bytes are not UTF-8 (schemathesis sent such bodies to every POST route)
    status, payload = _post(b"\x8f\xb3 not utf-8", encoded=True)
    # Then it is a 400 naming the problem, not a 500
    assert status == 400 and "not valid UTF-8" in payload["message"]


def test_dynamodb_key_validation_is_a_400_and_pynamodb_conflicts_a_409():
    # Given errors PynamoDB wraps around DynamoDB's answers
    assert _post(b'{"symbol": "EMPTYKEY"}')[0] == 400
    assert _post(b'{"symbol": "RACE"}') == (
        409,
        {"code": "conflict", "message": "The resource changed meanwhile; reload and retry"},
    )
    # And anything else from DynamoDB stays a 500 without internals
    status, payload = _post(b'{"symbol": "BROKEN"}')
    assert status == 500 and payload["code"] == "internal_error"
