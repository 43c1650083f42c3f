"""template.yaml is the single source of truth: valid, translatable, complete and least-privilege."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from localcloud.template import function_environments, load_template, translate

ROOT = Path(__file__).resolve().parents[2]
STATEFUL_TYPES = {
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::S3::Bucket": "s3",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::SQS::Queue": "sqs",
    "AWS::Events::EventBus": "events",
    "AWS::Serverless::StateMachine": "states",
    "AWS::Cognito::UserPool": "cognito",
    "AWS::SNS::Topic": "sns",
}


@pytest.fixture(scope="module")
def sam() -> dict:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def cfn(sam: dict) -> dict:
    return translate(sam, {"Stage": "dev"})


def _functions(sam: dict) -> dict[str, dict]:
    return {k: v for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_reports_nothing():
    # Given the template, When cfn-lint checks it offline, Then it reports no error or warning
    from cfnlint.api import ManualArgs, lint

    matches = lint(
        (ROOT / "template.yaml").read_text(), config=ManualArgs(regions=["us-east-1", "eu-west-1"])
    )
    problems = [str(m) for m in matches if m.rule.id[0] in "EW"]  # I-rules are suggestions
    assert problems == []


def test_sam_translator_turns_it_into_cloudformation(cfn: dict):
    # Given the SAM template, When translated as `sam deploy` does, Then every function has a role and the API a body
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::ApiGateway::RestApi"} <= types
    body = next(r for r in cfn["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi")[
        "Properties"
    ]["Body"]
    assert body["paths"]["/v1/health"]["get"]["security"] == [{"NONE": []}]


def test_every_function_has_an_importable_handler_and_sample_events(sam: dict, monkeypatch):
    # Given each function of the template, When its handler module is imported from its CodeUri,
    # Then the handler attribute is callable and events/<capability>/ holds at least one sample
    environments = function_environments(sam)
    for logical_id, resource in _functions(sam).items():
        props = resource["Properties"]
        code_dir = ROOT / props["CodeUri"]
        for name, value in environments[props["CodeUri"].strip("/")].items():
            monkeypatch.setenv(name, value)
        module_name, _, attribute = props["Handler"].rpartition(".")
        spec = importlib.util.spec_from_file_location(f"handler_{logical_id}", code_dir / f"{module_name}.py")
        assert spec and spec.loader, f"{logical_id}: no module {module_name} in {code_dir}"
        module = importlib.util.module_from_spec(spec)
        monkeypatch.syspath_prepend(str(code_dir))
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        assert callable(getattr(module, attribute)), f"{logical_id}: {props['Handler']} is not callable"
        samples = list((ROOT / "events" / code_dir.name).glob("*.json"))
        assert samples, f"{logical_id}: events/{code_dir.name}/ has no sample event"
        for sample in samples:
            json.loads(sample.read_text())


def test_health_checks_every_stateful_resource(sam: dict):
    # Given the stateful resources of the template, When the platform function's health list is read,
    # Then each of them is in it (so GET /v1/health lists every deployed resource)
    env = sam["Resources"]["PlatformFunction"]["Properties"]["Environment"]["Variables"]["HEALTH_RESOURCES"]
    listed = {item["Fn::Sub"] for item in env["Fn::Join"][1]}
    expected = {
        f"{kind}=${{{logical_id}}}"
        for logical_id, r in sam["Resources"].items()
        if (kind := STATEFUL_TYPES.get(r["Type"]))
    }
    missing = {e for e in expected if e not in listed and e.replace("}", ".QueueName}") not in listed}
    assert not missing, f"HEALTH_RESOURCES misses {sorted(missing)}"


def test_buckets_are_encrypted_private_and_tls_only(sam: dict):
    # Given every bucket, Then it has default encryption, a full public access block and a TLS-only policy
    resources = sam["Resources"]
    policies = {
        r["Properties"]["Bucket"]["Ref"] for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"
    }
    for logical_id, r in resources.items():
        if r["Type"] != "AWS::S3::Bucket":
            continue
        props = r["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
        assert all(props["PublicAccessBlockConfiguration"].values()), logical_id
        assert logical_id in policies, f"{logical_id} has no TLS-only bucket policy"


def test_iam_is_least_privilege(cfn: dict):
    # Given the translated template, Then no statement allows every action on every resource,
    # and every function has a role of its own
    roles = {}
    for logical_id, r in cfn["Resources"].items():
        if r["Type"] == "AWS::Lambda::Function":
            role = r["Properties"]["Role"]
            assert "Fn::GetAtt" in role, f"{logical_id} must have its own role"
            roles.setdefault(role["Fn::GetAtt"][0], []).append(logical_id)
        if r["Type"] != "AWS::IAM::Role":
            continue
        for policy in r["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement.get("Action")
                actions = [actions] if isinstance(actions, str) else actions
                resources = statement.get("Resource")
                resources = [resources] if isinstance(resources, str | dict) else resources
                wildcard_action = any(a == "*" or a.endswith(":*") for a in actions)
                assert not (wildcard_action and "*" in resources), f"{logical_id}: {statement}"
    assert all(len(functions) == 1 for functions in roles.values()), roles
