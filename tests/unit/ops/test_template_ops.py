"""The operations part of template.yaml: alarms, per-stage limits, logs, CORS, the lake's lifecycle.

cfn-lint and the SAM translation of the whole template are tests/unit/test_template.py; these check what the
operations hardening promises, on the template and on its translation for each stage's parameters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import load_template, translate

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def prod(sam: dict[str, Any]) -> dict[str, Any]:
    params = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in json.loads((ROOT / "infra/params/prod.json").read_text())
    }
    return translate(sam, params)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_every_alarm_notifies_the_ops_topic_and_is_triggered_by_the_local_alarm_test(sam: dict[str, Any]):
    # Given the template's alarms and the integration test that sets each one off
    from tests.integration.test_ops_notifications import ALARMS

    alarms = _of_type(sam, "AWS::CloudWatch::Alarm")
    names = {
        a["Properties"]["AlarmName"]["Fn::Sub"].removeprefix("trade2026-${Stage}-") for a in alarms.values()
    }
    # Then each alarm goes to the ops SNS topic, and the local test triggers every one of them (no more, no less)
    for logical_id, alarm in alarms.items():
        assert {"Ref": "OpsAlarmTopic"} in alarm["Properties"]["AlarmActions"], logical_id
    assert names == set(ALARMS)


def test_daily_loss_limit_near_alarm_watches_the_risk_metric_at_80_percent(sam: dict[str, Any]):
    # Given the "near the daily loss limit" alarm, Then it is the risk function's DailyLossLimitUsed (the platform
    # namespace, the service dimension Powertools gives the risk function's metrics) at or above 80 percent,
    # with recovery notified too
    props = sam["Resources"]["DailyLossLimitNearAlarm"]["Properties"]
    namespace = sam["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    risk = sam["Resources"]["RiskFunction"]["Properties"]["Environment"]["Variables"][
        "POWERTOOLS_SERVICE_NAME"
    ]
    assert (props["Namespace"], props["MetricName"], props["Dimensions"]) == (
        namespace, "DailyLossLimitUsed", [{"Name": "service", "Value": risk}],
    )  # fmt: skip
    assert (props["Threshold"], props["ComparisonOperator"]) == (80, "GreaterThanOrEqualToThreshold")
    assert props["OKActions"] == [{"Ref": "OpsAlarmTopic"}]


def test_every_function_logs_to_the_stage_log_group_with_its_retention(prod: dict[str, Any]):
    # Given the template translated with prod's parameters
    groups = _of_type(prod, "AWS::Logs::LogGroup")
    functions = _of_type(prod, "AWS::Lambda::Function")
    # Then every function sends its logs to the one stage log group, which keeps them LogRetentionDays
    assert functions
    for logical_id, function in functions.items():
        assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionsLogGroup"}}, (
            logical_id
        )
    assert groups["FunctionsLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    name = groups["FunctionsLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
    assert not name.lstrip("/").startswith("aws/")  # Lambda cannot use a custom group under aws/


def test_api_throttling_is_the_stage_parameter_on_every_method(prod: dict[str, Any]):
    # Given the API stage, Then its only setting for every method is throttling by the stage's parameters
    (stage,) = _of_type(prod, "AWS::ApiGateway::Stage").values()
    settings = [
        s
        for s in stage["Properties"]["MethodSettings"]
        if (s["ResourcePath"], s["HttpMethod"]) == ("/*", "*")
    ]
    assert settings == [{"ResourcePath": "/*", "HttpMethod": "*",
                         "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
                         "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"}}]  # fmt: skip


def test_orders_reserved_concurrency_is_the_stage_parameter(sam: dict[str, Any]):
    # Given the orders function, Then its reserved concurrency is the stage's (none where the parameter is -1)
    props = sam["Resources"]["OrdersFunction"]["Properties"]
    assert props.get("ReservedConcurrentExecutions") == {
        "Fn::If": [
            "HasOrdersReservedConcurrency",
            {"Ref": "OrdersReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_cors_allows_only_the_ui_origin_on_preflights_errors_and_handlers(
    prod: dict[str, Any], sam: dict[str, Any]
):
    # Given the translated API
    (api,) = _of_type(prod, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    origin = {"Fn::Sub": "'${UiOrigin}'"}
    # Then every path's preflight answers the UI's origin only
    for path, methods in body["paths"].items():
        headers = methods["options"]["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"
        ]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin, path
    # And API Gateway's own 4xx/5xx (401 before a handler runs, 413, 429) carry it too, 413 with a JSON reason
    responses = body["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX", "REQUEST_TOO_LARGE"):
        assert (
            responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            == origin
        )
    too_large = responses["REQUEST_TOO_LARGE"]
    assert (
        too_large["statusCode"] == "413"
        and "10 MB" in json.loads(too_large["responseTemplates"]["application/json"])["message"]
    )
    # And the handlers are told the same origin
    assert sam["Globals"]["Function"]["Environment"]["Variables"]["CORS_ALLOW_ORIGIN"] == {"Ref": "UiOrigin"}
    pattern = sam["Parameters"]["UiOrigin"]["AllowedPattern"]
    assert re.fullmatch(pattern, "https://app.example.org") and not re.fullmatch(pattern, "*")


def test_the_lake_drops_failed_uploads_and_old_versions(sam: dict[str, Any]):
    # Given the lake bucket's lifecycle, Then incomplete multipart uploads are aborted and replaced versions expire
    (rule,) = [r for r in sam["Resources"]["LakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
               if r.get("Prefix", "") == ""]  # fmt: skip
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
    assert (
        rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 30
    )  # time to recover an overwritten partition


def test_sweep_finish_may_publish_to_the_bus_and_notifications_read_sweep_owners(prod: dict[str, Any]):
    # Given the translated roles, Then the sweep's last step may put events on the platform bus
    policy = prod["Resources"]["SweepFinishEventsPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "SweepFinishFunctionRole"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "events:PutEvents",
        {"Fn::GetAtt": ["EventBus", "Arn"]},
    )
    assert "SweepFinishFunctionRole" in prod["Resources"]
