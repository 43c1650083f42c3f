"""The HTTP layer every API function shares: one resolver factory, errors mapped to statuses in one place."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from trade2026.auth import Caller, caller_from_claims
from trade2026.errors import Trade2026Error
from trade2026.observability import logger

_CONFLICT_CODES = {"ConditionalCheckFailedException", "TransactionCanceledException"}
_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
}


def error_response(status: int, code: str, message: str, details: object | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _describe_validation_errors(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    details = [
        {
            "location": ".".join(str(part) for part in err.get("loc", ())),
            "problem": err.get("msg", "invalid"),
        }
        for err in errors
    ]
    if any(err.get("type") == "json_invalid" for err in errors):
        return "Request body is not valid JSON", details
    summary = "; ".join(f"{d['location']}: {d['problem']}" for d in details[:5])
    return f"Invalid request: {summary}", details


def _not_utf8(exc: UnicodeDecodeError) -> Response:
    return error_response(
        400, "bad_request", f"Request body is not valid UTF-8: {exc.reason} at byte {exc.start}"
    )


def _pynamodb_error(exc: PynamoDBException) -> Response:
    # PynamoDB wraps botocore's ClientError: the same mapping; DynamoDB's own input validation (an empty or
    # oversized key taken from the request) is the client's 400.
    if exc.cause_response_code == "ValidationException":
        logger.warning("DynamoDB rejected a request value", extra={"reason": exc.cause_response_message})
        return error_response(
            400, "bad_request", "A value in the request cannot be used as a key (empty or too long)"
        )
    if isinstance(exc.cause, ClientError):
        return _aws_error(exc.cause)
    return _unexpected(exc)


def _aws_error(exc: ClientError) -> Response:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in _CONFLICT_CODES:
        return error_response(409, "conflict", "The resource changed meanwhile; reload and retry")
    if code in _THROTTLE_CODES:
        return error_response(503, "service_unavailable", "The platform is busy; retry shortly")
    logger.exception("AWS call failed")
    return error_response(500, "internal_error", "Internal error; it has been logged")


def _unexpected(exc: Exception) -> Response:
    # A bug: log it with its traceback for us, tell the client nothing about internals.
    logger.exception("Unhandled error")
    return error_response(500, "internal_error", "Internal error; it has been logged")


def create_resolver() -> APIGatewayRestResolver:
    """An APIGatewayRestResolver with pydantic validation and the platform's error mapping."""
    origin = os.environ.get("CORS_ALLOW_ORIGIN")  # the UI's origin (template parameter UiOrigin)
    cors = None
    if origin:
        cors = CORSConfig(
            allow_origin=origin, allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["X-Next-Token"],
        )  # fmt: skip
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)

    @app.exception_handler(Trade2026Error)
    def _domain_error(exc: Trade2026Error) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        message, details = _describe_validation_errors(list(exc.errors()))
        status = 400 if message.startswith("Request body is not valid JSON") else 422
        return error_response(
            status, "bad_request" if status == 400 else "validation_error", message, details
        )

    @app.exception_handler(json.JSONDecodeError)
    def _bad_json(exc: json.JSONDecodeError) -> Response:
        return error_response(400, "bad_request", f"Request body is not valid JSON: {exc.msg}")

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def _in_progress(exc: IdempotencyAlreadyInProgressError) -> Response:
        return error_response(
            409, "in_progress", "A request with this Idempotency-Key is in progress; retry shortly"
        )

    @app.exception_handler(IdempotencyValidationError)
    def _key_reused(exc: IdempotencyValidationError) -> Response:
        return error_response(
            422, "idempotency_key_reused", "This Idempotency-Key was used with a different request body"
        )

    app.exception_handler(UnicodeDecodeError)(_not_utf8)
    app.exception_handler(PynamoDBException)(_pynamodb_error)
    app.exception_handler(ClientError)(_aws_error)
    app.exception_handler(Exception)(_unexpected)
    return app


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The signed-in caller of the request being handled (claims from the Cognito authorizer)."""
    return caller_from_claims(app.current_event.request_context.authorizer.claims)
