"""The platform's public face: health, authentication, errors."""

import json

import pytest

pytestmark = pytest.mark.integration


def test_health_lists_every_deployed_resource_as_healthy(cloud):
    # Given the running platform, When anyone asks for its health, Then it is 200 and every resource is healthy
    response = cloud.get("/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    state = json.loads((cloud.state_dir / "state.json").read_text())
    platform = next(s for name, s in state["stacks"].items() if name.startswith("trade2026-"))
    stateful = {
        r["ref"] for r in platform["resources"].values()
        if r["type"] in ("AWS::S3::Bucket", "AWS::Events::EventBus", "AWS::Cognito::UserPool",
                         "AWS::DynamoDB::Table", "AWS::Kinesis::Stream", "AWS::SNS::Topic",
                         "AWS::StepFunctions::StateMachine")
    }  # fmt: skip
    listed = {r["name"] for r in body["resources"]}
    assert stateful <= listed, f"not in health: {stateful - listed}"
    assert all(r["healthy"] for r in body["resources"])


def test_protected_route_without_token_is_401(cloud):
    # Given no token, When a protected route is called, Then API Gateway's authorizer answers 401
    assert cloud.get("/v1/me").status_code == 401


def test_protected_route_with_a_forged_token_is_401(cloud, trader_token):
    # Given a token whose payload was altered, When used, Then the signature check fails with 401
    header, payload, signature = trader_token.split(".")
    forged = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    assert cloud.get("/v1/me", token=forged).status_code == 401


def test_signed_in_caller_sees_their_identity_and_groups(cloud, trader_token):
    # Given the demo trader's ID token, When /v1/me is called, Then it names the trader and the trader group
    response = cloud.get("/v1/me", token=f"Bearer {trader_token}")
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["username"] == cloud.logins["trader"]["username"]
    assert me["email"] == f"{me['username']}@trade2026.local"
    assert me["groups"] == ["trader"]


def test_unknown_route_is_a_clear_404(cloud):
    response = cloud.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert "no-such-thing" in response.json()["message"]


def test_web_config_names_the_local_user_pool(cloud):
    # Given the gateway, When the UI fetches /config.json, Then it learns the API URL and the user pool
    config = cloud.get("/config.json").json()
    assert config["apiUrl"] == cloud.api_url
    assert config["userPoolId"].startswith("us-east-1_")
