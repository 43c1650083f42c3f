"""API Gateway (REST, Lambda proxy integration) emulator of the embedded local cloud.

One threaded HTTP server on 127.0.0.1 serves three things:
- the REST API: routes from the template's OpenAPI body (RouteSpec), each request turned into the
  version 1.0 proxy event AWS sends, run by the local Lambda runtime, and the proxy response mapped back;
  Cognito authorizers check the identity header first (jwt_verify.py);
- GET /config.json: the public settings the web UI reads (API URL, user pool id, client id, endpoint);
- the built web UI from static_dir, with index.html for client-side routes.

Where it differs from AWS, on purpose: an unknown path or method answers 404 {"message": "No route for
GET /v1/x"} (AWS: 403 "Missing Authentication Token"), and CORS preflights of /v1/* are answered by the
gateway itself, allowing only its own origin.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.security import safe_join
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from localcloud.jwt_verify import (
    CognitoJwtVerifier,
    InvalidTokenError,
    JwksUnavailableError,
    apigateway_claims,
    token_from_header,
)
from localcloud.metrics import observe
from localcloud.specs import ACCOUNT_ID, AuthorizerSpec, RouteSpec

logger = logging.getLogger("localcloud.gateway")

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit (API Gateway's own is 10 MB)
MAX_BODY_ENV = "LOCALCLOUD_MAX_BODY_BYTES"  # a lower request body limit for the local gateway, in bytes
API_PREFIX = "/v1/"
DEFAULT_API_ID = "local00api"
DEFAULT_BINARY_MEDIA_TYPES = (
    "application/octet-stream",
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/zip",
    "application/gzip",
    "application/pdf",
    "image/*",
    "audio/*",
    "video/*",
)
_PROXY_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_CORS_ALLOW_HEADERS = "Authorization,Content-Type,X-Amz-Date,X-Api-Key,X-Amz-Security-Token"
_ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class InvokeResultLike(Protocol):
    """What the gateway reads of localcloud.runtime.InvokeResult."""

    @property
    def payload(self) -> bytes: ...

    @property
    def function_error(self) -> str | None: ...


class Runtime(Protocol):
    """What the gateway needs of localcloud.runtime.LambdaRuntime."""

    def invoke(self, name_or_arn: str, payload: bytes) -> InvokeResultLike: ...


class PortInUseError(RuntimeError):
    """The gateway's port is taken by another program."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"Port {port} on {host} is already in use, so the API gateway cannot start. Stop the program "
            f"holding it (`ss -ltnp 'sport = :{port}'` names it; it may be another `make up`) or start the "
            "local cloud with another gateway port."
        )
        self.host = host
        self.port = port


class MalformedProxyResponseError(ValueError):
    """The handler's return value is not an API Gateway Lambda proxy response."""


# ---------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteMatch:
    route: RouteSpec
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Resource:
    template: str
    segments: tuple[str, ...]
    methods: dict[str, RouteSpec]  # upper-case method or ANY -> route


class Router:
    """API Gateway REST resource matching: literal segments beat `{name}`, which beats `{name+}`."""

    def __init__(self, routes: list[RouteSpec]) -> None:
        by_template: dict[str, dict[str, RouteSpec]] = {}
        for route in routes:
            by_template.setdefault(_normalise(route.path), {})[route.method.upper()] = route
        self._resources = [
            _Resource(template, _segments(template), methods) for template, methods in by_template.items()
        ]
        self.stages = frozenset(route.stage for route in routes)

    def resource_methods(self, raw_path: str) -> list[str]:
        """Methods declared on the resource a path selects (empty when none does)."""
        resource = self._best_resource(_segments(raw_path))
        return [] if resource is None else sorted(resource[0].methods)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route for a request; None when no resource matches or it lacks the method."""
        best = self._best_resource(_segments(raw_path))
        if best is None:
            return None
        resource, params = best
        route = resource.methods.get(method.upper()) or resource.methods.get("ANY")
        return None if route is None else RouteMatch(route, params)

    def _best_resource(self, request_segments: tuple[str, ...]) -> tuple[_Resource, dict[str, str]] | None:
        candidates = []
        for resource in self._resources:
            matched = _match_segments(resource.segments, request_segments)
            if matched is not None:
                ranks, params = matched
                candidates.append((ranks, resource.template, resource, params))
        if not candidates:
            return None
        _, _, resource, params = min(candidates, key=lambda candidate: (candidate[0], candidate[1]))
        return resource, params


def _normalise(path: str) -> str:
    return "/" + "/".join(_segments(path))


def _segments(path: str) -> tuple[str, ...]:
    # A trailing slash selects the same resource, as on API Gateway.
    return tuple(path.strip("/").split("/")) if path.strip("/") else ()


def _match_segments(
    template: tuple[str, ...], request: tuple[str, ...]
) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Per-segment ranks (0 literal, 1 variable, 2 greedy) and the path parameters, or None."""
    ranks: list[int] = []
    params: dict[str, str] = {}
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            rest = request[index:]
            if index != len(template) - 1 or not rest or not all(rest):
                return None
            params[part[1:-2]] = "/".join(rest)
            return (*ranks, 2), params
        if index >= len(request) or not request[index]:
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = request[index]
            ranks.append(1)
        elif part == request[index]:
            ranks.append(0)
        else:
            return None
    return (tuple(ranks), params) if len(template) == len(request) else None


# ------------------------------------------------------------------------------------- proxy event


@dataclass(frozen=True)
class RequestInfo:
    """What the event builder needs of one HTTP request (raw, percent-encoded path)."""

    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    server_port: int
    protocol: str


def build_proxy_event(
    request: RequestInfo,
    match: RouteMatch,
    *,
    api_id: str,
    request_id: str,
    claims: dict[str, str] | None,
    binary_media_types: tuple[str, ...] = DEFAULT_BINARY_MEDIA_TYPES,
    now: float | None = None,
) -> dict[str, Any]:
    """The REST API Lambda proxy event (payload format 1.0) for a matched request."""
    headers = _event_headers(request)
    body, is_base64 = _event_body(request.body, headers.get("Content-Type", ""), binary_media_types)
    return {
        "resource": match.route.path,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(request.query) or None,  # the last value of a repeated name
        "multiValueQueryStringParameters": _multi_value(request.query) or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": _request_context(
            request, match, api_id=api_id, request_id=request_id, claims=claims, now=now or time.time()
        ),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_headers(request: RequestInfo) -> dict[str, str]:
    # API Gateway adds the X-Forwarded-* headers its load balancers set.
    headers = dict(request.headers)
    headers.setdefault("X-Forwarded-For", request.source_ip)
    headers.setdefault("X-Forwarded-Port", str(request.server_port))
    headers.setdefault("X-Forwarded-Proto", "http")
    return headers


def _multi_value(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _event_body(
    body: bytes, content_type: str, binary_media_types: tuple[str, ...]
) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if not _is_binary_type(content_type, binary_media_types):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # bytes that are not text travel base64-encoded, whatever the content type says
    return base64.b64encode(body).decode("ascii"), True


def _is_binary_type(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type:
        return False
    family = media_type.split("/", 1)[0]
    return any(pattern in (media_type, f"{family}/*", "*/*") for pattern in binary_media_types)


def _request_context(
    request: RequestInfo,
    match: RouteMatch,
    *,
    api_id: str,
    request_id: str,
    claims: dict[str, str] | None,
    now: float,
) -> dict[str, Any]:
    host = dict(request.headers).get("Host", "127.0.0.1")
    stage = match.route.stage
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "extendedRequestId": request_id,
        "httpMethod": request.method,
        "identity": _identity(request),
        "path": f"/{stage}{request.raw_path}",
        "protocol": request.protocol,
        "requestId": request_id,
        "requestTime": datetime.fromtimestamp(now, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": hashlib.sha256(match.route.path.encode()).hexdigest()[:6],
        "resourcePath": match.route.path,
        "stage": stage,
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return context


def _identity(request: RequestInfo) -> dict[str, str | None]:
    user_agent = dict(request.headers).get("User-Agent")
    nulls = (
        "cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId", "accessKey",
        "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user", "apiKey", "apiKeyId",
        "clientCert",
    )  # fmt: skip
    return {**dict.fromkeys(nulls), "sourceIp": request.source_ip, "userAgent": user_agent}


# ---------------------------------------------------------------------------------- proxy response


def proxy_response(payload: bytes) -> Response:
    """The HTTP response for a handler's proxy response; MalformedProxyResponseError when it is not one."""
    try:
        document = json.loads(payload)
    except ValueError as error:
        raise MalformedProxyResponseError(
            f"the handler returned no JSON object: {payload[:200]!r}"
        ) from error
    if not isinstance(document, dict):
        raise MalformedProxyResponseError(f"the handler returned {type(document).__name__}, not an object")
    unknown = set(document) - _PROXY_RESPONSE_KEYS
    if unknown:
        raise MalformedProxyResponseError(f"unknown keys in the proxy response: {sorted(unknown)}")
    headers = _response_headers(document.get("headers"), document.get("multiValueHeaders"))
    if "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"  # API Gateway's default for proxy responses
    return Response(
        _response_body(document), status=_status_code(document.get("statusCode")), headers=headers
    )


def _status_code(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise MalformedProxyResponseError(f"statusCode must be an HTTP status code, got {value!r}")
    return value


def _response_body(document: dict[str, Any]) -> bytes:
    body = document.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponseError(f"body must be a string (json.dumps it), got {type(body).__name__}")
    if not document.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise MalformedProxyResponseError("isBase64Encoded is true but body is not base64") from error


def _response_headers(single: Any, multi: Any) -> Headers:
    headers = Headers()
    # AWS merges both maps; a name in both gets every value.
    for name, values in _header_items(multi, multi_value=True):
        for value in values:
            headers.add(name, value)
    for name, values in _header_items(single, multi_value=False):
        if name not in headers:
            headers.add(name, values[0])
    return headers


def _header_items(mapping: Any, *, multi_value: bool) -> list[tuple[str, list[str]]]:
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        raise MalformedProxyResponseError(f"headers must be an object, got {type(mapping).__name__}")
    items = []
    for name, raw in mapping.items():
        if name.lower() in _HOP_BY_HOP:
            continue  # the server frames the body itself
        values = raw if multi_value else [raw]
        if not isinstance(values, list):
            raise MalformedProxyResponseError(f"multiValueHeaders[{name!r}] must be a list")
        items.append((name, [_header_value(name, value) for value in values]))
    return items


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponseError(f"header {name!r} has a {type(value).__name__} value")


def _json_response(status: int, message: str, error_type: str | None = None) -> Response:
    response = Response(json.dumps({"message": message}), status=status, content_type="application/json")
    if error_type:
        response.headers["x-amzn-ErrorType"] = error_type
    return response


def _log_lambda_error(function_name: str, payload: bytes) -> None:
    try:
        error = json.loads(payload)
    except ValueError:
        error = {"errorMessage": payload.decode("utf-8", "replace")}
    if not isinstance(error, dict):
        error = {"errorMessage": str(error)}
    trace = error.get("stackTrace") or []
    lines = trace if isinstance(trace, list) else [str(trace)]
    logger.error(
        "Lambda %s failed: %s: %s\n%s",
        function_name,
        error.get("errorType", "Error"),
        error.get("errorMessage", ""),
        "".join(line if str(line).endswith("\n") else f"{line}\n" for line in lines),
    )


# ------------------------------------------------------------------------------------------ server


class _LoggingHandler(WSGIRequestHandler):
    """Keep-alive HTTP/1.1 handler that logs through `localcloud.gateway` instead of printing."""

    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.INFO
        logger.log(level, "%s %s", self.address_string(), message % args if args else message)


class Gateway:
    """The local API Gateway: start() serves in a background thread until stop()."""

    def __init__(
        self,
        host: str,
        port: int,
        routes: list[RouteSpec],
        authorizers: dict[str, AuthorizerSpec],
        runtime: Runtime,
        cognito_endpoint: str,
        static_dir: Path | None,
        public_config: dict[str, Any] | None = None,
        *,
        api_id: str = DEFAULT_API_ID,
        max_body_bytes: int | None = None,
        binary_media_types: tuple[str, ...] = DEFAULT_BINARY_MEDIA_TYPES,
    ) -> None:
        self._host = host
        self._port = port
        self._runtime = runtime
        self._verifier = CognitoJwtVerifier(cognito_endpoint)
        self._static_dir = static_dir.resolve() if static_dir is not None else None
        # Public so the orchestrator can fill it in once the stacks are deployed.
        self.public_config: dict[str, Any] | None = public_config
        self._api_id = api_id
        self._max_body_bytes = configured_max_body_bytes() if max_body_bytes is None else max_body_bytes
        self._binary_media_types = binary_media_types
        self._routing: tuple[Router, dict[str, AuthorizerSpec]] = (Router(routes), dict(authorizers))
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # The AWS/ApiGateway metrics' dimensions (the orchestrator sets the deployed API's name).
        self.api_name = "trade2026-dev-api"
        self.stage_name = "v"

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (the real one after start() when 0 was asked for)."""
        return self._port

    def set_routes(self, routes: list[RouteSpec], authorizers: dict[str, AuthorizerSpec]) -> None:
        """Replace every route and authorizer (pass the union of all stacks); safe while serving."""
        self._routing = (Router(routes), dict(authorizers))

    def start(self) -> None:
        if self._server is not None:
            return
        listener = _listen(self._host, self._port)
        try:
            server = make_server(
                self._host, self._port, self._wsgi_app, threaded=True, request_handler=_LoggingHandler,
                fd=listener.fileno(),
            )  # fmt: skip
        finally:
            listener.close()  # the server holds its own duplicate of the descriptor
        self._port = server.port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="localcloud-gateway", daemon=True
        )
        self._thread.start()
        logger.info("API gateway listening on %s", self.url)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    # -------------------------------------------------------------------------- request handling

    def _wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        # One byte over the limit: a chunked body is cut at the limit silently, so reading one more byte
        # is how an oversized one shows.
        request.max_content_length = self._max_body_bytes + 1
        started = time.perf_counter()
        try:
            response = self._dispatch(request)
        except Exception:
            logger.exception("gateway failed on %s %s", request.method, request.path)
            response = _json_response(500, "Internal server error", "InternalServerErrorException")
        if _is_api_path(_raw_path(environ)):
            self._add_cors_origin(request, response)
            self._observe(response.status_code, (time.perf_counter() - started) * 1000)
        return response(environ, start_response)

    def _observe(self, status: int, latency_ms: float) -> None:
        """The AWS/ApiGateway metrics of one API request (CloudWatch's names and units)."""
        dims = {"ApiName": self.api_name, "Stage": self.stage_name}
        observe("AWS/ApiGateway", "Count", dims, 1, "Count")
        observe("AWS/ApiGateway", "4XXError", dims, float(400 <= status < 500), "Count")
        observe("AWS/ApiGateway", "5XXError", dims, float(status >= 500), "Count")
        observe("AWS/ApiGateway", "Latency", dims, latency_ms, "Milliseconds")

    def _dispatch(self, request: Request) -> Response:
        raw_path = _raw_path(request.environ)
        if request.method == "OPTIONS" and _is_api_path(raw_path):
            return self._preflight(request, raw_path)
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            body = None
        if body is None or len(body) > self._max_body_bytes:
            return _json_response(
                413,
                f"Request body exceeds {self._max_body_bytes} bytes, the limit of this API "
                "(on AWS: 10 MB at API Gateway, 6 MB into a function)",
                "RequestTooLarge",
            )
        router, authorizers = self._routing
        match, event_path = self._find_route(router, request.method, raw_path)
        if match is not None:
            return self._run_route(request, event_path, body, match, authorizers)
        if request.method in ("GET", "HEAD") and not _is_api_path(raw_path):
            return self._serve_ui(request)
        return self._no_route(router, request.method, raw_path)

    @staticmethod
    def _find_route(router: Router, method: str, raw_path: str) -> tuple[RouteMatch | None, str]:
        match = router.match(method, raw_path)
        if match is not None:
            return match, raw_path
        # Also accept the AWS URL shape /<stage>/v1/..., so a copied execute-api path works locally.
        stage, _, rest = raw_path.lstrip("/").partition("/")
        if stage in router.stages and rest:
            staged = router.match(method, f"/{rest}")
            if staged is not None and staged.route.stage == stage:
                return staged, f"/{rest}"
        return None, raw_path

    def _run_route(
        self,
        request: Request,
        event_path: str,
        body: bytes,
        match: RouteMatch,
        authorizers: dict[str, AuthorizerSpec],
    ) -> Response:
        request_id = str(uuid.uuid4())
        claims: dict[str, str] | None = None
        if match.route.authorizer is not None:
            authorized = self._authorize(request, authorizers.get(match.route.authorizer), match.route)
            if isinstance(authorized, Response):
                return authorized
            claims = authorized
        event = build_proxy_event(
            self._request_info(request, event_path, body),
            match,
            api_id=self._api_id,
            request_id=request_id,
            claims=claims,
            binary_media_types=self._binary_media_types,
        )
        response = self._invoke(match.route.function_name, event)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _authorize(
        self, request: Request, authorizer: AuthorizerSpec | None, route: RouteSpec
    ) -> dict[str, str] | Response:
        if authorizer is None:
            logger.error(
                "route %s %s names unknown authorizer %r", route.method, route.path, route.authorizer
            )
            return _json_response(500, "Authorizer configuration error", "AuthorizerConfigurationException")
        token = token_from_header(request.headers.get(authorizer.identity_header))
        if token is None:
            return _json_response(401, "Unauthorized", "UnauthorizedException")
        try:
            claims = self._verifier.verify(token, authorizer.user_pool_ids)
        except InvalidTokenError as error:
            logger.info("401 for %s %s: %s", request.method, request.path, error)
            return _json_response(401, "Unauthorized", "UnauthorizedException")
        except JwksUnavailableError as error:
            logger.error("authorizer %s: %s", authorizer.name, error)
            return _json_response(500, "Authorizer configuration error", "AuthorizerConfigurationException")
        return apigateway_claims(claims)

    def _request_info(self, request: Request, event_path: str, body: bytes) -> RequestInfo:
        return RequestInfo(
            method=request.method,
            raw_path=event_path,
            headers=list(request.headers.items()),
            query=list(request.args.items(multi=True)),
            body=body,
            source_ip=request.remote_addr or "127.0.0.1",
            server_port=self._port,
            protocol=request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        )

    def _invoke(self, function_name: str, event: dict[str, Any]) -> Response:
        try:
            result = self._runtime.invoke(function_name, json.dumps(event).encode("utf-8"))
        except Exception:
            logger.exception("invoking %s failed", function_name)
            return _json_response(502, "Internal server error", "InternalServerErrorException")
        if result.function_error is not None:
            _log_lambda_error(function_name, result.payload)
            return _json_response(502, "Internal server error", "InternalServerErrorException")
        try:
            return proxy_response(result.payload)
        except MalformedProxyResponseError as error:
            logger.error("Malformed Lambda proxy response from %s: %s", function_name, error)
            return _json_response(502, "Internal server error", "InternalServerErrorException")

    def _no_route(self, router: Router, method: str, raw_path: str) -> Response:
        methods = router.resource_methods(raw_path)
        detail = f" (this path accepts {', '.join(methods)})" if methods else ""
        return _json_response(404, f"No route for {method} {raw_path}{detail}", "NotFoundException")

    # ----------------------------------------------------------------------------- web UI, CORS

    def _serve_ui(self, request: Request) -> Response:
        if request.path == "/config.json" and self.public_config is not None:
            response = Response(json.dumps(self.public_config), content_type="application/json")
            response.headers["Cache-Control"] = "no-store"
            return response
        if self._static_dir is None:
            return _json_response(404, f"No route for {request.method} {request.path} (no web UI directory)")
        relative = request.path.lstrip("/") or "index.html"
        if safe_join(str(self._static_dir), relative) is None:
            return _json_response(404, "Not found", "NotFoundException")  # traversal or an unsafe name
        try:
            return send_from_directory(self._static_dir, relative, request.environ)
        except NotFound:
            pass
        if "." in relative.rsplit("/", 1)[-1]:
            return _json_response(404, f"No file {request.path} in the web UI", "NotFoundException")
        return self._index_html(request)

    def _index_html(self, request: Request) -> Response:
        # Client-side routes (/orders/42) all load the single-page app.
        assert self._static_dir is not None
        try:
            response = send_from_directory(self._static_dir, "index.html", request.environ)
        except NotFound:
            return _json_response(
                404, f"The web UI has no index.html in {self._static_dir}", "NotFoundException"
            )
        response.headers["Cache-Control"] = "no-cache"
        return response

    def _own_origins(self) -> set[str]:
        return {self.url, f"http://127.0.0.1:{self._port}", f"http://localhost:{self._port}"}

    def _allowed_origin(self, request: Request) -> str:
        origin = request.headers.get("Origin")
        return origin if origin in self._own_origins() else self.url

    def _add_cors_origin(self, request: Request, response: Response) -> None:
        # A handler's own CORS header passes through, as on AWS.
        if "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = self._allowed_origin(request)
            response.vary.add("Origin")

    def _preflight(self, request: Request, raw_path: str) -> Response:
        router, _ = self._routing
        declared = router.resource_methods(raw_path)
        methods = _ALL_METHODS if not declared or "ANY" in declared else sorted({*declared, "OPTIONS"})
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = ",".join(methods)
        response.headers["Access-Control-Allow-Headers"] = _CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        return response


def configured_max_body_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The request body limit: LOCALCLOUD_MAX_BODY_BYTES (1 byte up to Lambda's 6 MB), else 6 MB."""
    raw = (os.environ if environ is None else environ).get(MAX_BODY_ENV, "").strip()
    if not raw:
        return MAX_BODY_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_BODY_ENV}={raw!r} is not a whole number of bytes") from None
    if not 1 <= value <= MAX_BODY_BYTES:
        raise ValueError(
            f"{MAX_BODY_ENV}={value} must be between 1 and {MAX_BODY_BYTES} (Lambda's synchronous payload limit)"
        )
    return value


def _is_api_path(raw_path: str) -> bool:
    return raw_path.startswith(API_PREFIX) or raw_path == API_PREFIX.rstrip("/")


def _raw_path(environ: Mapping[str, Any]) -> str:
    """The request path as the client sent it (still percent-encoded), as API Gateway passes it on."""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw_uri:
        return str(environ.get("PATH_INFO") or "/")
    path = str(raw_uri).split("?", 1)[0].split("#", 1)[0]
    if "://" in path:  # absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path or "/"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from error
        raise
    return listener


__all__ = [
    "API_PREFIX",
    "MAX_BODY_BYTES",
    "MAX_BODY_ENV",
    "Gateway",
    "MalformedProxyResponseError",
    "PortInUseError",
    "RequestInfo",
    "RouteMatch",
    "Router",
    "build_proxy_event",
    "configured_max_body_bytes",
    "proxy_response",
]
