"""Verify Cognito user pool tokens the way an API Gateway Cognito authorizer does.

What the gateway checks before a protected route runs:
- RS256 signature against the pool's JWKS, fetched from `{cognito_endpoint}/{pool_id}/.well-known/jwks.json`
  (moto serves it there) and cached per pool;
- `iss` names one of the authorizer's pools;
- `exp` is in the future;
- `token_use` is `id` or `access`. (AWS accepts an access token only on methods with OAuth scopes; the
  local gateway accepts both so that either token the UI holds works.)

Facts seen with moto 5.2.5: `iss` is the AWS form `https://cognito-idp.{region}.amazonaws.com/{pool_id}`
(the region of the request that created the pool), the header's `kid` is "dummy", and every pool signs with
one key. The moto form of `iss` is therefore the AWS form; the `{cognito_endpoint}/{pool_id}` form is
accepted too, for emulators that issue it.

`apigateway_claims` turns verified claims into what the Lambda sees in `requestContext.authorizer.claims`:
every value a string, `exp`/`iat` as Java date strings, lists (such as `cognito:groups`) joined with commas,
as API Gateway REST APIs deliver them.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

ACCEPTED_TOKEN_USES = ("id", "access")
JWKS_REFRESH_MIN_INTERVAL_S = 5.0  # an unknown `kid` refetches the JWKS at most this often
_DATE_CLAIMS = ("exp", "iat")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired, of the wrong kind or from a pool the route does not trust."""


class JwksUnavailableError(Exception):
    """The user pool's JWKS could not be fetched (is the local cloud's moto server running?)."""


def token_from_header(value: str | None) -> str | None:
    """The token in an identity header: a raw JWT or "Bearer <jwt>"; None when absent or blank."""
    if value is None:
        return None
    token = value.strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
    return token or None


def aws_issuer(user_pool_id: str) -> str:
    """The `iss` AWS (and moto) writes into a pool's tokens; the pool id starts with its region."""
    region = user_pool_id.rsplit("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


class CognitoJwtVerifier:
    """Checks tokens of Cognito user pools served by a (local) Cognito endpoint. Thread-safe."""

    def __init__(
        self,
        cognito_endpoint: str,
        *,
        fetch_timeout_s: float = 5.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not cognito_endpoint.startswith(("http://", "https://")):
            raise ValueError(f"cognito_endpoint must be an http(s) URL, got {cognito_endpoint!r}")
        self._endpoint = cognito_endpoint.rstrip("/")
        self._fetch_timeout_s = fetch_timeout_s
        self._now = now
        self._lock = threading.Lock()
        self._key_sets: dict[str, tuple[KeySet, float]] = {}  # pool id -> (keys, fetched at)

    def verify(self, token: str, user_pool_ids: Iterable[str]) -> dict[str, Any]:
        """The token's claims when it is valid for one of the pools; raises InvalidTokenError otherwise."""
        pool_id = self._issuing_pool(token, tuple(user_pool_ids))
        try:
            verified = jwt.decode(token, self._key_set(pool_id, _unverified_kid(token)), algorithms=["RS256"])
            self._claims_registry(pool_id).validate(verified.claims)
        except JoseError as error:
            raise InvalidTokenError(
                f"token rejected: {error.error} {error.description or ''}".strip()
            ) from error
        return dict(verified.claims)

    def _issuing_pool(self, token: str, user_pool_ids: tuple[str, ...]) -> str:
        # The unverified `iss` only selects which JWKS to check the signature against.
        issuer = _unverified_claims(token).get("iss")
        for pool_id in user_pool_ids:
            if issuer in self._accepted_issuers(pool_id):
                return pool_id
        raise InvalidTokenError(f"token issuer {issuer!r} is none of the authorizer's pools {user_pool_ids}")

    def _accepted_issuers(self, pool_id: str) -> list[str]:
        return [aws_issuer(pool_id), f"{self._endpoint}/{pool_id}"]

    def _claims_registry(self, pool_id: str) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=int(self._now()),
            iss={"essential": True, "values": self._accepted_issuers(pool_id)},
            exp={"essential": True},
            token_use={"essential": True, "values": list(ACCEPTED_TOKEN_USES)},
        )

    def _key_set(self, pool_id: str, kid: str | None) -> KeySet:
        with self._lock:
            cached = self._key_sets.get(pool_id)
            if cached is not None and (_has_kid(cached[0], kid) or self._too_soon(cached[1])):
                return cached[0]
            key_set = self._fetch_key_set(pool_id)
            self._key_sets[pool_id] = (key_set, self._now())
            return key_set

    def _too_soon(self, fetched_at: float) -> bool:
        return self._now() - fetched_at < JWKS_REFRESH_MIN_INTERVAL_S

    def _fetch_key_set(self, pool_id: str) -> KeySet:
        url = f"{self._endpoint}/{pool_id}/.well-known/jwks.json"
        try:
            # The scheme was checked in __init__: only the configured (local) Cognito endpoint is contacted.
            with urllib.request.urlopen(url, timeout=self._fetch_timeout_s) as response:  # noqa: S310
                return KeySet.import_key_set(json.loads(response.read()))
        except (urllib.error.URLError, OSError, ValueError, JoseError) as error:
            raise JwksUnavailableError(
                f"cannot load the JWKS of user pool {pool_id} from {url}: {error}"
            ) from error


def _has_kid(key_set: KeySet, kid: str | None) -> bool:
    try:
        key_set.get_by_kid(kid)
    except InvalidKeyIdError:
        return False
    return True


def _unverified_parts(token: str) -> jws.CompactSignature:
    try:
        return jws.extract_compact(token.encode("ascii"))
    except (JoseError, UnicodeError, ValueError) as error:
        raise InvalidTokenError("token is not a readable JWT") from error


def _unverified_kid(token: str) -> str | None:
    kid = _unverified_parts(token).headers().get("kid")
    return kid if isinstance(kid, str) else None


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = json.loads(_unverified_parts(token).payload)
    except ValueError as error:
        raise InvalidTokenError("token payload is not JSON") from error
    if not isinstance(claims, dict):
        raise InvalidTokenError("token payload is not a JSON object")
    return claims


def apigateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as a REST API Cognito authorizer hands them to Lambda: all strings."""
    return {name: _claim_string(name, value) for name, value in claims.items()}


def _claim_string(name: str, value: Any) -> str:
    if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
        return _java_date(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_claim_string("", item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _java_date(epoch_s: int) -> str:
    """'Tue Apr 04 18:39:39 UTC 2023': how API Gateway renders exp/iat (locale-independent)."""
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment.strftime('%H:%M:%S')} UTC {moment.year}"
    )
