"""The Cognito token checks of the local API Gateway, against tokens of a real (in-process) moto server."""

from __future__ import annotations

import base64
import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from localcloud.jwt_verify import (
    CognitoJwtVerifier,
    InvalidTokenError,
    JwksUnavailableError,
    apigateway_claims,
    aws_issuer,
    token_from_header,
)
from tests.unit.localcloud import cognito_pool as cognito


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cognito.fake_aws_environment().items():
            patch.setenv(name, value)
        server, endpoint = cognito.start_moto()
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture(scope="module")
def pool(moto_endpoint: str) -> Any:
    return cognito.create_pool(moto_endpoint, "jwt-verify", "alice", ("trader", "viewer"))


@pytest.fixture(scope="module")
def other_pool(moto_endpoint: str) -> Any:
    return cognito.create_pool(moto_endpoint, "jwt-verify-other", "mallory", ())


def _claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _with_claims(token: str, **changes: Any) -> str:
    """The same header and signature around an edited payload: a forgery."""
    header, _, signature = token.split(".")
    claims = {**_claims_of(token), **changes}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def test_token_from_header_accepts_raw_and_bearer_tokens() -> None:
    # Given identity header values as clients send them / When parsed / Then the bare token or None
    assert token_from_header("abc.def.ghi") == "abc.def.ghi"
    assert token_from_header("Bearer abc.def.ghi") == "abc.def.ghi"
    assert token_from_header("bearer   abc.def.ghi ") == "abc.def.ghi"
    assert token_from_header("Bearer ") is None
    assert token_from_header("") is None
    assert token_from_header(None) is None


def test_moto_id_token_uses_the_aws_issuer_and_verifies(pool: Any) -> None:
    # Given an IdToken from moto's ADMIN_USER_PASSWORD_AUTH
    verifier = CognitoJwtVerifier(pool.endpoint)

    # When it is verified for its pool
    claims = verifier.verify(pool.id_token, [pool.pool_id])

    # Then moto wrote the AWS issuer form, and the claims (with the groups list) come back
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool.pool_id}"
    assert claims["iss"] == aws_issuer(pool.pool_id)
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == "alice"
    assert sorted(claims["cognito:groups"]) == ["trader", "viewer"]


def test_moto_access_token_verifies(pool: Any) -> None:
    # Given the access token of the same sign-in / When verified / Then it is accepted as an access token
    claims = CognitoJwtVerifier(pool.endpoint).verify(pool.access_token, [pool.pool_id])
    assert claims["token_use"] == "access"
    assert claims["username"] == "alice"


def test_tampered_claims_fail_the_signature_check(pool: Any) -> None:
    # Given the IdToken with its groups edited after signing
    forged = _with_claims(pool.id_token, **{"cognito:groups": ["admin"]})

    # When verified / Then it is refused
    with pytest.raises(InvalidTokenError):
        CognitoJwtVerifier(pool.endpoint).verify(forged, [pool.pool_id])


def test_expired_token_signed_by_the_pool_key_is_refused(pool: Any) -> None:
    # Given a token moto signed with the pool's real key but that expired a minute ago
    expired = cognito.mint_with_moto_key(pool, "id", expires_in=-60)
    verifier = CognitoJwtVerifier(pool.endpoint)
    assert verifier.verify(cognito.mint_with_moto_key(pool, "id", expires_in=60), [pool.pool_id])

    # When verified / Then only the expiry refuses it
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify(expired, [pool.pool_id])


def test_token_of_another_kind_is_refused(pool: Any) -> None:
    # Given a pool-signed token whose token_use is neither id nor access
    odd = cognito.mint_with_moto_key(pool, "refresh", expires_in=60)

    # When verified / Then it is refused
    with pytest.raises(InvalidTokenError):
        CognitoJwtVerifier(pool.endpoint).verify(odd, [pool.pool_id])


def test_token_of_a_pool_the_authorizer_does_not_name_is_refused(pool: Any, other_pool: Any) -> None:
    # Given a valid token of another pool (moto signs every pool with one key, so only `iss` tells them apart)
    verifier = CognitoJwtVerifier(pool.endpoint)

    # When verified for the first pool / Then it is refused, while its own pool accepts it
    with pytest.raises(InvalidTokenError, match="issuer"):
        verifier.verify(other_pool.id_token, [pool.pool_id])
    assert verifier.verify(other_pool.id_token, [pool.pool_id, other_pool.pool_id])


def test_token_signed_by_a_foreign_key_with_the_same_kid_is_refused(pool: Any) -> None:
    # Given claims copied from a real token, signed by an attacker's RSA key that claims moto's kid
    attacker_key = RSAKey.generate_key(2048)
    claims = _claims_of(pool.id_token)
    forged = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, attacker_key)

    # When verified / Then the signature check refuses it
    with pytest.raises(InvalidTokenError):
        CognitoJwtVerifier(pool.endpoint).verify(forged, [pool.pool_id])


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b", "a.b.c", "ééé.b.c"])
def test_unreadable_tokens_are_refused(pool: Any, token: str) -> None:
    # Given garbage in the identity header / When verified / Then InvalidTokenError, never a crash
    with pytest.raises(InvalidTokenError):
        CognitoJwtVerifier(pool.endpoint).verify(token, [pool.pool_id])


def test_unsigned_token_is_refused(pool: Any) -> None:
    # Given the real claims under alg "none"
    header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"dummy"}').rstrip(b"=").decode()
    payload = pool.id_token.split(".")[1]

    # When verified / Then refused
    with pytest.raises(InvalidTokenError):
        CognitoJwtVerifier(pool.endpoint).verify(f"{header}.{payload}.", [pool.pool_id])


def test_jwks_is_fetched_once_per_pool(pool: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a verifier whose HTTP fetches are counted
    fetched: list[str] = []
    real_urlopen = urllib.request.urlopen

    def counting_urlopen(url: str, *args: Any, **kwargs: Any) -> Any:
        fetched.append(url)
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting_urlopen)
    verifier = CognitoJwtVerifier(pool.endpoint)

    # When three tokens of the pool are verified
    for token in (pool.id_token, pool.access_token, pool.id_token):
        verifier.verify(token, [pool.pool_id])

    # Then the pool's JWKS was fetched once, from moto's well-known path
    assert fetched == [f"{pool.endpoint}/{pool.pool_id}/.well-known/jwks.json"]


def test_unreachable_cognito_endpoint_is_reported(pool: Any) -> None:
    # Given a loopback port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    verifier = CognitoJwtVerifier(f"http://127.0.0.1:{dead_port}", fetch_timeout_s=1)

    # When a token is verified / Then the failure names the JWKS URL rather than blaming the token
    with pytest.raises(JwksUnavailableError, match=r"jwks\.json"):
        verifier.verify(pool.id_token, [pool.pool_id])


def test_apigateway_claims_are_strings_as_rest_apis_deliver_them() -> None:
    # Given decoded claims of mixed JSON types
    claims = {
        "sub": "u-1",
        "cognito:groups": ["trader", "viewer"],
        "email_verified": True,
        "auth_time": 1680629979,
        "exp": 1680633579,
        "iat": 1680629979,
        "address": {"country": "NZ"},
    }

    # When converted for requestContext.authorizer.claims
    converted = apigateway_claims(claims)

    # Then every value is a string in API Gateway's rendering
    assert converted == {
        "sub": "u-1",
        "cognito:groups": "trader,viewer",
        "email_verified": "true",
        "auth_time": "1680629979",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "address": '{"country":"NZ"}',
    }


def test_endpoint_must_be_http() -> None:
    # Given a non-HTTP endpoint / When the verifier is built / Then it refuses (urlopen would read files)
    with pytest.raises(ValueError, match="http"):
        CognitoJwtVerifier("file:///etc")
