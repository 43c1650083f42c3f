"""Errors the domain and adapters raise; trade2026.api maps each to one HTTP status, in one place."""

from __future__ import annotations


class Trade2026Error(Exception):
    """Base of every expected error. ``status`` is the HTTP status it maps to."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(Trade2026Error):
    status = 400
    code = "bad_request"


class Forbidden(Trade2026Error):
    status = 403
    code = "forbidden"


class NotFound(Trade2026Error):
    """Also used for resources that exist but belong to someone else (never leak existence)."""

    status = 404
    code = "not_found"


class Conflict(Trade2026Error):
    status = 409
    code = "conflict"


class Unprocessable(Trade2026Error):
    status = 422
    code = "unprocessable"


class ServiceUnavailable(Trade2026Error):
    """A dependency is throttling or down; the client may retry."""

    status = 503
    code = "service_unavailable"
