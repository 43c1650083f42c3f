"""The local API Gateway over real HTTP: routing, proxy events, responses, Cognito auth, web UI, CORS.

A fake runtime stands in for localcloud.runtime.LambdaRuntime (it records the proxy events and answers with
small handler functions); Cognito is a real moto server in-process on a free loopback port.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from localcloud.gateway import (
    Gateway,
    MalformedProxyResponseError,
    PortInUseError,
    RouteMatch,
    Router,
    proxy_response,
)
from localcloud.specs import ACCOUNT_ID, AuthorizerSpec, RouteSpec
from tests.unit.localcloud import cognito_pool as cognito

AUTHORIZER = "CognitoAuthorizer"
MAX_BODY = 4096
INDEX_HTML = "<!doctype html><title>Trade2026</title><div id=app></div>"
APP_JS = "console.log('trade2026');"
SECRET = "top secret outside the web root"


# ------------------------------------------------------------------------------------- fakes


@dataclass(frozen=True)
class FakeInvokeResult:
    payload: bytes
    function_error: str | None
    duration_ms: float = 1.0


@dataclass
class FakeRuntime:
    """Records each proxy event and answers with the handler registered for the function name."""

    handlers: dict[str, Callable[[dict[str, Any]], Any]]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def invoke(self, name_or_arn: str, payload: bytes) -> FakeInvokeResult:
        event = json.loads(payload)
        self.events.append((name_or_arn, event))
        try:
            result = self.handlers[name_or_arn](event)
        except Exception as error:
            lambda_error = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return FakeInvokeResult(json.dumps(lambda_error).encode(), "Unhandled")
        return FakeInvokeResult(json.dumps(result).encode(), None)

    def last_event(self) -> dict[str, Any]:
        return self.events[-1][1]


def _json_handler(status: int = 200) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"resource": event["resource"]}),
            "isBase64Encoded": False,
        }

    return handler


def _parquet_handler(_: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"symbol": ["SPY", "QQQ"], "close": [512.5, 440.25]}), buffer)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/vnd.apache.parquet"},
        "body": base64.b64encode(buffer.getvalue()).decode(),
        "isBase64Encoded": True,
    }


def _failing_handler(_: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("position limit table is missing")


def _malformed_handler(_: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": {"not": "a string"}}


def _route(method: str, path: str, function: str, authorizer: str | None = None) -> RouteSpec:
    return RouteSpec(method=method, path=path, function_name=function, authorizer=authorizer, stage="Prod")


ROUTES = [
    _route("GET", "/v1/orders/{id}", "orders-get"),
    _route("GET", "/v1/orders/open", "orders-open"),
    _route("POST", "/v1/orders", "orders-post"),
    _route("ANY", "/v1/files/{proxy+}", "files"),
    _route("GET", "/v1/me", "me", AUTHORIZER),
    _route("GET", "/v1/report", "report"),
    _route("GET", "/v1/boom", "boom"),
    _route("GET", "/v1/malformed", "malformed"),
]


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cognito.fake_aws_environment().items():
            patch.setenv(name, value)
        server, endpoint = cognito.start_moto()
        try:
            yield cognito.create_pool(endpoint, "gateway-tests", "alice", ("trader", "viewer"))
        finally:
            server.stop()


@pytest.fixture(scope="module")
def web_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gateway")
    site = root / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text(INDEX_HTML)
    (site / "assets" / "app.js").write_text(APP_JS)
    (root / "secret").write_text(SECRET)  # no extension: the SPA fallback must not apply
    return site


@pytest.fixture(scope="module")
def runtime() -> FakeRuntime:
    return FakeRuntime(
        handlers={
            "orders-get": _json_handler(),
            "orders-open": _json_handler(),
            "orders-post": _json_handler(201),
            "files": _json_handler(),
            "me": _json_handler(),
            "report": _parquet_handler,
            "boom": _failing_handler,
            "malformed": _malformed_handler,
        }
    )


@pytest.fixture(scope="module")
def gateway(pool: Any, runtime: FakeRuntime, web_root: Path) -> Iterator[Gateway]:
    authorizers = {AUTHORIZER: AuthorizerSpec(name=AUTHORIZER, user_pool_ids=(pool.pool_id,))}
    gateway = Gateway(
        "127.0.0.1",
        0,
        ROUTES,
        authorizers,
        runtime,
        pool.endpoint,
        web_root,
        {"apiUrl": "http://127.0.0.1", "userPoolId": pool.pool_id, "userPoolClientId": pool.client_id},
        max_body_bytes=MAX_BODY,
    )
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def api(gateway: Gateway, runtime: FakeRuntime) -> str:
    runtime.events.clear()
    return gateway.url


def _raw_get(gateway: Gateway, raw_path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (requests would normalise dot segments)."""
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ---------------------------------------------------------------------------- route matching


def _matched(router: Router, method: str, path: str) -> RouteMatch:
    match = router.match(method, path)
    assert match is not None, f"{method} {path} matched no route"
    return match


def test_exact_path_beats_templated_and_greedy_takes_the_rest() -> None:
    # Given resources with literal, {id} and {proxy+} segments
    router = Router(ROUTES)

    # When requests are matched / Then the most specific resource wins and parameters are captured
    assert _matched(router, "GET", "/v1/orders/open").route.function_name == "orders-open"
    by_id = _matched(router, "GET", "/v1/orders/42")
    assert (by_id.route.function_name, by_id.path_parameters) == ("orders-get", {"id": "42"})
    greedy = _matched(router, "DELETE", "/v1/files/2024/01/spy.parquet")
    assert (greedy.route.function_name, greedy.path_parameters) == ("files", {"proxy": "2024/01/spy.parquet"})
    assert router.match("GET", "/v1/files") is None  # {proxy+} needs at least one segment
    assert router.match("GET", "/v1/orders/42/fills") is None  # {id} is one segment only


def test_specific_method_beats_any_on_the_same_resource() -> None:
    # Given ANY and GET on one resource
    router = Router([_route("ANY", "/v1/x", "any"), _route("GET", "/v1/x", "get")])

    # When GET and POST arrive / Then GET takes its own route and POST falls to ANY
    assert _matched(router, "GET", "/v1/x").route.function_name == "get"
    assert _matched(router, "POST", "/v1/x").route.function_name == "any"


# --------------------------------------------------------------------------- proxy response


def test_proxy_response_merges_headers_and_decodes_base64() -> None:
    # Given a binary proxy response with both header maps
    payload = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/octet-stream", "X-One": "1"},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "body": base64.b64encode(b"\x00\xffPAR1").decode(),
        "isBase64Encoded": True,
    }

    # When mapped to HTTP
    response = proxy_response(json.dumps(payload).encode())

    # Then the bytes and every header value come through
    assert response.get_data() == b"\x00\xffPAR1"
    assert response.headers.getlist("X-Many") == ["a", "b"]
    assert response.headers["X-One"] == "1"


@pytest.mark.parametrize(
    "payload",
    [
        {"statusCode": 200, "body": {"a": 1}},  # body not a string
        {"statusCode": 200, "body": "{}", "cookies": ["a=1"]},  # a payload-2.0 key
        {"body": "{}"},  # no statusCode
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},  # not base64
        ["not", "an", "object"],
    ],
)
def test_malformed_proxy_responses_are_rejected(payload: Any) -> None:
    # Given handler output API Gateway would call malformed / When mapped / Then it is refused
    with pytest.raises(MalformedProxyResponseError):
        proxy_response(json.dumps(payload).encode())


# ------------------------------------------------------------------------------ proxy events


def test_get_builds_the_rest_proxy_event(api: str, runtime: FakeRuntime) -> None:
    # Given a GET with a path parameter, single and repeated query parameters and a custom header
    before_ms = time.time() * 1000

    # When it reaches the gateway
    response = requests.get(
        f"{api}/v1/orders/ord-42?symbol=SPY&side=buy&side=sell", headers={"X-Trace": "t-1"}, timeout=5
    )

    # Then the handler got the version 1.0 event AWS builds, and its response came back
    assert response.status_code == 200
    assert response.json() == {"resource": "/v1/orders/{id}"}
    assert response.headers.get("Set-Cookie") == "a=1, b=2"
    name, event = runtime.events[-1]
    assert name == "orders-get"
    assert event["resource"] == "/v1/orders/{id}"
    assert event["path"] == "/v1/orders/ord-42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "ord-42"}
    assert event["queryStringParameters"] == {"symbol": "SPY", "side": "sell"}
    assert event["multiValueQueryStringParameters"] == {"symbol": ["SPY"], "side": ["buy", "sell"]}
    assert event["headers"]["X-Trace"] == "t-1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t-1"]
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT_ID
    assert context["stage"] == "Prod"
    assert context["path"] == "/Prod/v1/orders/ord-42"
    assert context["resourcePath"] == "/v1/orders/{id}"
    assert context["httpMethod"] == "GET"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert before_ms <= context["requestTimeEpoch"] <= time.time() * 1000
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"].startswith("python-requests")
    assert "authorizer" not in context


def test_text_body_is_passed_as_a_string(api: str, runtime: FakeRuntime) -> None:
    # Given a JSON order / When POSTed / Then the event carries it verbatim and the handler's 201 returns
    order: dict[str, Any] = {"symbol": "SPY", "qty": 10}
    response = requests.post(f"{api}/v1/orders", json=order, timeout=5)
    assert response.status_code == 201
    event = runtime.last_event()
    assert json.loads(event["body"]) == order
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None


def test_binary_body_is_base64_encoded(api: str, runtime: FakeRuntime) -> None:
    # Given bytes that are not text, sent as octet-stream to a greedy route
    data = bytes(range(256))

    # When PUT
    response = requests.put(
        f"{api}/v1/files/raw/ticks.bin",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=5,
    )

    # Then the handler sees them base64-encoded, flagged as such
    assert response.status_code == 200
    event = runtime.last_event()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data
    assert event["pathParameters"] == {"proxy": "raw/ticks.bin"}


def test_base64_response_is_decoded_to_parquet_bytes(api: str) -> None:
    # Given a handler returning a Parquet file base64-encoded / When downloaded
    response = requests.get(f"{api}/v1/report", timeout=5)

    # Then the client receives the Parquet bytes themselves
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column("symbol").to_pylist() == ["SPY", "QQQ"]


def test_handler_error_is_502_and_logged(api: str, caplog: pytest.LogCaptureFixture) -> None:
    # Given a handler that raises
    with caplog.at_level(logging.ERROR, logger="localcloud.gateway"):
        # When it is called
        response = requests.get(f"{api}/v1/boom", timeout=5)

    # Then the client gets API Gateway's 502 and the developer's log has the Lambda error and traceback
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "position limit table is missing" in caplog.text
    assert "_failing_handler" in caplog.text


def test_malformed_response_is_502(api: str, caplog: pytest.LogCaptureFixture) -> None:
    # Given a handler whose body is a dict / When called / Then 502 with the reason logged
    with caplog.at_level(logging.ERROR, logger="localcloud.gateway"):
        response = requests.get(f"{api}/v1/malformed", timeout=5)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "body must be a string" in caplog.text


def test_unknown_path_and_wrong_method_are_404_with_a_clear_message(api: str, runtime: FakeRuntime) -> None:
    # Given no route for the path, and a route without the method / When requested
    missing = requests.get(f"{api}/v1/nothing", timeout=5)
    wrong_method = requests.delete(f"{api}/v1/orders", timeout=5)

    # Then both are 404s naming the request, and no function ran
    assert missing.status_code == 404
    assert missing.json() == {"message": "No route for GET /v1/nothing"}
    assert wrong_method.status_code == 404
    assert wrong_method.json()["message"] == "No route for DELETE /v1/orders (this path accepts POST)"
    assert runtime.events == []


def test_stage_prefixed_path_reaches_the_same_route(api: str, runtime: FakeRuntime) -> None:
    # Given the AWS URL shape /<stage>/v1/... / When requested / Then it routes, with the path AWS would pass
    response = requests.get(f"{api}/Prod/v1/orders/7", timeout=5)
    assert response.status_code == 200
    assert runtime.last_event()["path"] == "/v1/orders/7"
    assert runtime.last_event()["requestContext"]["path"] == "/Prod/v1/orders/7"


def _chunks(total: int) -> Iterator[bytes]:
    for start in range(0, total, 1000):
        yield b"x" * min(1000, total - start)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413(api: str, runtime: FakeRuntime, chunked: bool) -> None:
    # Given a body one byte over the gateway's limit, sized up front or streamed in chunks
    size = MAX_BODY + 1
    data: Any = _chunks(size) if chunked else b"x" * size

    # When POSTed / Then 413 JSON and no invocation
    response = requests.post(f"{api}/v1/orders", data=data, timeout=5)
    assert response.status_code == 413
    assert "exceeds" in response.json()["message"]
    assert runtime.events == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_at_the_limit_is_passed_whole(api: str, runtime: FakeRuntime, chunked: bool) -> None:
    # Given a body of exactly the limit / When POSTed / Then the handler gets all of it
    data: Any = _chunks(MAX_BODY) if chunked else b"x" * MAX_BODY
    response = requests.post(f"{api}/v1/orders", data=data, timeout=5)
    assert response.status_code == 201
    assert len(runtime.last_event()["body"]) == MAX_BODY


def test_routes_added_later_are_served(gateway: Gateway, api: str, pool: Any) -> None:
    # Given a second stack's route added while the gateway runs
    authorizers = {AUTHORIZER: AuthorizerSpec(name=AUTHORIZER, user_pool_ids=(pool.pool_id,))}
    gateway.set_routes([*ROUTES, _route("GET", "/v1/extra", "orders-open")], authorizers)
    try:
        # When requested / Then it is routed
        assert requests.get(f"{api}/v1/extra", timeout=5).status_code == 200
    finally:
        gateway.set_routes(ROUTES, authorizers)
    assert requests.get(f"{api}/v1/extra", timeout=5).status_code == 404


# ------------------------------------------------------------------------------ Cognito auth


def test_missing_token_is_401(api: str, runtime: FakeRuntime) -> None:
    # Given no Authorization header / When a protected route is called / Then 401 and no invocation
    response = requests.get(f"{api}/v1/me", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert runtime.events == []


def test_tampered_token_is_401(api: str, pool: Any, runtime: FakeRuntime) -> None:
    # Given the real IdToken with one signature character changed
    header, payload, signature = pool.id_token.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    tampered = f"{header}.{payload}.{flipped}"

    # When used / Then 401 and no invocation
    response = requests.get(f"{api}/v1/me", headers={"Authorization": tampered}, timeout=5)
    assert response.status_code == 401
    assert runtime.events == []


@pytest.mark.parametrize("scheme", ["", "Bearer "])
def test_valid_id_token_passes_claims_to_the_handler(
    api: str, pool: Any, runtime: FakeRuntime, scheme: str
) -> None:
    # Given moto's IdToken for alice (groups trader and viewer), raw or as a Bearer token
    headers = {"Authorization": f"{scheme}{pool.id_token}"}

    # When the protected route is called
    response = requests.get(f"{api}/v1/me", headers=headers, timeout=5)

    # Then it runs with the claims as API Gateway passes them: all strings, groups comma-joined
    assert response.status_code == 200
    claims = runtime.last_event()["requestContext"]["authorizer"]["claims"]
    assert claims["cognito:username"] == "alice"
    assert claims["token_use"] == "id"
    assert claims["aud"] == pool.client_id
    assert set(claims["cognito:groups"].split(",")) == {"trader", "viewer"}
    assert all(isinstance(value, str) for value in claims.values())


def test_valid_access_token_is_accepted(api: str, pool: Any, runtime: FakeRuntime) -> None:
    # Given moto's access token / When used / Then the route runs with its claims
    response = requests.get(f"{api}/v1/me", headers={"Authorization": pool.access_token}, timeout=5)
    assert response.status_code == 200
    assert runtime.last_event()["requestContext"]["authorizer"]["claims"]["token_use"] == "access"


# ------------------------------------------------------------------------------- web UI, CORS


def test_static_files_and_config(api: str, pool: Any) -> None:
    # Given the built UI in static_dir and the public config / When fetched
    index = requests.get(f"{api}/", timeout=5)
    script = requests.get(f"{api}/assets/app.js", timeout=5)
    config = requests.get(f"{api}/config.json", timeout=5)

    # Then each comes back with its content type
    assert index.status_code == 200
    assert index.text == INDEX_HTML
    assert index.headers["Content-Type"].startswith("text/html")
    assert script.text == APP_JS
    assert "javascript" in script.headers["Content-Type"]
    assert config.json()["userPoolId"] == pool.pool_id


def test_client_side_routes_fall_back_to_index_html(api: str) -> None:
    # Given a client-side route and a missing asset / When fetched
    spa_route = requests.get(f"{api}/orders/42", timeout=5)
    missing_asset = requests.get(f"{api}/assets/missing.js", timeout=5)

    # Then the route loads the app and the asset is a plain 404
    assert spa_route.status_code == 200
    assert spa_route.text == INDEX_HTML
    assert missing_asset.status_code == 404


TRAVERSALS = [
    "/../secret",
    "/%2e%2e/secret",
    "/assets/..%2f..%2fsecret",
    "/assets/../../secret",
    "/..%5csecret",
]


@pytest.mark.parametrize("raw_path", TRAVERSALS)
def test_directory_traversal_is_refused(gateway: Gateway, raw_path: str) -> None:
    # Given a path escaping static_dir / When requested byte for byte / Then 404 without the file's content
    status, body = _raw_get(gateway, raw_path)
    assert status == 404
    assert SECRET.encode() not in body
    assert INDEX_HTML.encode() not in body


def test_preflight_allows_only_the_gateways_own_origin(api: str, gateway: Gateway) -> None:
    # Given preflights from the gateway's own origin and from another site
    own = f"http://localhost:{gateway.port}"
    request_headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    same = requests.options(f"{api}/v1/orders", headers={"Origin": own, **request_headers}, timeout=5)
    other = requests.options(
        f"{api}/v1/orders", headers={"Origin": "https://evil.example", **request_headers}, timeout=5
    )

    # Then only the own origin is allowed, with the resource's methods and the Authorization header
    assert same.status_code == 204
    assert same.headers["Access-Control-Allow-Origin"] == own
    assert "POST" in same.headers["Access-Control-Allow-Methods"].split(",")
    assert "Authorization" in same.headers["Access-Control-Allow-Headers"]
    assert other.headers["Access-Control-Allow-Origin"] == gateway.url


def test_api_responses_carry_the_allowed_origin(api: str, gateway: Gateway) -> None:
    # Given a same-origin API call / When answered (even with an error) / Then the origin header is set
    ok = requests.get(f"{api}/v1/orders/1", headers={"Origin": gateway.url}, timeout=5)
    unauthorized = requests.get(f"{api}/v1/me", timeout=5)
    assert ok.headers["Access-Control-Allow-Origin"] == gateway.url
    assert unauthorized.headers["Access-Control-Allow-Origin"] == gateway.url
    assert "Access-Control-Allow-Origin" not in requests.get(f"{api}/", timeout=5).headers


# -------------------------------------------------------------------------------- lifecycle


def test_port_in_use_raises_a_clear_error(runtime: FakeRuntime, pool: Any) -> None:
    # Given a loopback port another program listens on
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        gateway = Gateway("127.0.0.1", port, ROUTES, {}, runtime, pool.endpoint, None)

        # When the gateway starts / Then PortInUseError names the port
        with pytest.raises(PortInUseError, match=f"Port {port} on 127.0.0.1 is already in use"):
            gateway.start()


def test_stop_frees_the_port(runtime: FakeRuntime, pool: Any) -> None:
    # Given a started gateway on a free port
    gateway = Gateway("127.0.0.1", 0, ROUTES, {}, runtime, pool.endpoint, None)
    gateway.start()
    port = gateway.port
    assert requests.get(f"{gateway.url}/v1/orders/1", timeout=5).status_code == 200

    # When stopped / Then the same port can be bound again
    gateway.stop()
    again = Gateway("127.0.0.1", port, ROUTES, {}, runtime, pool.endpoint, None)
    again.start()
    again.stop()


# ------------------------------------------------------------------- Powertools compatibility


def test_powertools_rest_resolver_runs_behind_the_gateway(pool: Any) -> None:
    # Given a handler written as every function of the project is: a Powertools APIGatewayRestResolver
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

    app = APIGatewayRestResolver()

    @app.get("/v1/orders/<order_id>")
    def get_order(order_id: str) -> dict[str, Any]:
        claims = app.current_event.request_context.authorizer.claims
        return {
            "order_id": order_id,
            "symbols": app.current_event.get_multi_value_query_string_values("symbol"),
            "groups": claims["cognito:groups"].split(","),
        }

    @app.get("/v1/orders/<order_id>/fills.parquet")
    def get_fills(order_id: str) -> Response:
        return Response(200, "application/vnd.apache.parquet", body=b"PAR1\x00\xff" + order_id.encode())

    def lambda_handler(event: dict[str, Any]) -> dict[str, Any]:
        return app.resolve(event, None)  # type: ignore[arg-type]  # the fake runtime has no context

    runtime = FakeRuntime(handlers={"orders": lambda_handler})
    routes = [_route("GET", "/v1/orders/{id}", "orders", AUTHORIZER), _route("ANY", "/v1/{proxy+}", "orders")]
    authorizers = {AUTHORIZER: AuthorizerSpec(name=AUTHORIZER, user_pool_ids=(pool.pool_id,))}
    gateway = Gateway("127.0.0.1", 0, routes, authorizers, runtime, pool.endpoint, None)
    gateway.start()
    try:
        # When the UI calls it with alice's token, and downloads a binary file
        order = requests.get(
            f"{gateway.url}/v1/orders/o-7?symbol=SPY&symbol=QQQ",
            headers={"Authorization": f"Bearer {pool.id_token}"},
            timeout=5,
        )
        fills = requests.get(f"{gateway.url}/v1/orders/o-7/fills.parquet", timeout=5)
    finally:
        gateway.stop()

    # Then Powertools routes the event, reads parameters and claims, and its binary response arrives intact
    assert order.status_code == 200, order.text
    assert order.json()["order_id"] == "o-7"
    assert order.json()["symbols"] == ["SPY", "QQQ"]
    assert sorted(order.json()["groups"]) == ["trader", "viewer"]
    assert fills.status_code == 200
    assert fills.content == b"PAR1\x00\xffo-7"
