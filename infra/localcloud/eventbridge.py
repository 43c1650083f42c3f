"""EventBridge rules that deliver to Lambda functions and Step Functions state machines.

moto 5.2.5 delivers rule targets only to SQS, CloudWatch Logs, archives and other buses, and raises
NotImplementedError for any other target (which fails PutEvents). ``install_eventbridge_delivery`` wraps
``moto.events.models.Rule.send_to_targets``: moto's own code still serves the targets it supports, and after
it, for an event that matches the rule's pattern (moto's matcher), ``arn:aws:lambda:`` targets are invoked
asynchronously through the local runtime and ``arn:aws:states:`` targets get a StartExecution, in a background
thread so PutEvents never waits. Input, InputPath and InputTransformer are applied as AWS does. Delivery
failures are logged and never break PutEvents. Rules in state DISABLED deliver nothing, as on AWS.

Installing also gives unnamed StartExecution calls a UUID name (install_stepfunctions_execution_names).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from localcloud.runtime import LambdaRuntime, local_client
from localcloud.specs import REGION

_log = logging.getLogger(__name__)

_MOTO_TARGET_SERVICES = {"logs", "sqs", "events"}  # what moto's send_to_targets knows how to deliver
_LOCAL_TARGET_SERVICES = {"lambda", "states"}


class _Delivery:
    """Where matched events go: the runtime for Lambda, the Step Functions API for state machines."""

    def __init__(self, runtime: LambdaRuntime, stepfunctions_endpoint: str) -> None:
        self.runtime = runtime
        self.stepfunctions_endpoint = stepfunctions_endpoint
        self.executor = ThreadPoolExecutor(4, thread_name_prefix="eventbridge-delivery")

    def deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any], transform: bool) -> None:
        arn, rule_name = target["Arn"], rule.name
        try:
            payload = target_input(target, event, transform, rule_arn=rule.arn, rule_name=rule_name)
            if _service(arn) == "lambda":
                self.runtime.invoke_async(arn, payload.encode("utf-8"))
            else:
                self.executor.submit(self._start_execution, rule_name, arn, payload)
        except Exception:
            _log.exception("rule %s: delivery to %s failed", rule_name, arn)

    def _start_execution(self, rule_name: str, state_machine_arn: str, payload: str) -> None:
        try:
            region = state_machine_arn.split(":")[3] or REGION
            stepfunctions = local_client("stepfunctions", self.stepfunctions_endpoint, region)
            stepfunctions.start_execution(
                stateMachineArn=state_machine_arn, name=str(uuid.uuid4()), input=payload
            )
        except Exception:
            _log.exception("rule %s: StartExecution of %s failed", rule_name, state_machine_arn)


# The delivery the patched method uses; a holder so re-installing switches it without a global statement.
_installed: dict[str, _Delivery] = {}


def install_eventbridge_delivery(runtime: LambdaRuntime, stepfunctions_endpoint: str) -> None:
    """Make moto's EventBridge rules deliver to Lambda and Step Functions targets (installing again
    switches the runtime and endpoint)."""
    from moto.events.models import Rule

    install_stepfunctions_execution_names()
    previous = _installed.get("delivery")
    _installed["delivery"] = _Delivery(runtime, stepfunctions_endpoint)
    if previous is not None:
        previous.executor.shutdown(wait=False)
    if getattr(Rule, "_localcloud_patched", False):
        return
    original_send_to_targets: Any = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if getattr(self, "state", "ENABLED") == "DISABLED":
            return
        by_kind: dict[str, list[dict[str, Any]]] = {"moto": [], "local": [], "other": []}
        for target in self.targets:
            by_kind[_target_kind(target["Arn"])].append(target)
        if by_kind["moto"]:
            view = copy.copy(self)  # a shallow copy: other threads keep seeing the rule's full target list
            view.targets = by_kind["moto"]
            original_send_to_targets(view, original_event, transform_input)
        if not self.event_pattern.matches_event(original_event):
            return
        for target in by_kind["other"]:
            _log.warning(
                "rule %s: target %s is not emulated locally; event dropped", self.name, target["Arn"]
            )
        delivery = _installed.get("delivery")
        for target in by_kind["local"]:
            if delivery is not None:
                delivery.deliver(self, target, original_event, transform_input)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]
    Rule._localcloud_patched = True  # type: ignore[attr-defined]


def install_stepfunctions_execution_names() -> None:
    """StartExecution without a name gets a UUID name, as on AWS (moto 5.2.5 workaround).

    With ``execute_state_machine`` on, moto's interpreter backend names such an execution "None", so every
    later unnamed StartExecution of that state machine fails with ExecutionAlreadyExists. Idempotent.
    """
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    if getattr(StepFunctionsParserBackend, "_localcloud_named", False):
        return
    original_start_execution: Any = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: Any = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return original_start_execution(
            self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    StepFunctionsParserBackend._localcloud_named = True  # type: ignore[attr-defined]


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def _target_kind(arn: str) -> str:
    service = _service(arn)
    if service in _MOTO_TARGET_SERVICES:
        return "moto"
    return "local" if service in _LOCAL_TARGET_SERVICES else "other"


def aws_event(moto_event: dict[str, Any]) -> dict[str, Any]:
    """moto's internal event message as AWS delivers it (ISO time, no moto-only keys)."""
    event = {key: value for key, value in moto_event.items() if key != "ingestion-time"}
    moment = event.get("time")
    if isinstance(moment, int | float):
        event["time"] = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(moment, datetime):
        event["time"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def target_input(
    target: dict[str, Any],
    moto_event: dict[str, Any],
    transform: bool = True,
    rule_arn: str = "",
    rule_name: str = "",
) -> str:
    """The JSON text a target receives: the event, or its Input / InputPath / InputTransformer."""
    event = aws_event(moto_event)
    if not transform:
        return json.dumps(event)
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        return json.dumps(_first_match(target["InputPath"], event))
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    values = {name: _first_match(path, event) for name, path in transformer.get("InputPathsMap", {}).items()}
    values |= {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": event.get("time"),
    }
    return render_input_template(transformer["InputTemplate"], values)


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def render_input_template(template: str, values: dict[str, Any]) -> str:
    """Fill an InputTemplate as EventBridge does.

    In a JSON template a placeholder outside quotes becomes the value as JSON (strings quoted, a missing path
    null) and one inside a string literal becomes its text. Any other template is text with values inserted
    as text; a Lambda payload must be JSON, so that text is sent as a JSON string.
    """
    is_json = template.lstrip().startswith(("{", "["))
    rendered: list[str] = []
    in_string = False
    index = 0
    while index < len(template):
        char = template[index]
        match = _PLACEHOLDER.match(template, index) if char == "<" else None
        if match and match.group(1) in values:
            rendered.append(_placeholder_text(values[match.group(1)], is_json, in_string))
            index = match.end()
            continue
        if is_json and in_string and char == "\\":
            rendered.append(template[index : index + 2])  # an escape: keep it, and what it escapes
            index += 2
            continue
        if is_json and char == '"':
            in_string = not in_string
        rendered.append(char)
        index += 1
    text = "".join(rendered)
    if is_json:
        json.loads(text)  # an invalid result is a delivery failure, logged by the caller
        return text
    return json.dumps(text)


def _placeholder_text(value: Any, is_json: bool, in_string: bool) -> str:
    as_text = value if isinstance(value, str) else json.dumps(value)
    if not is_json:
        return as_text
    if in_string:
        return json.dumps(as_text)[1:-1]  # escaped for its place inside a JSON string literal
    return json.dumps(value)


def _first_match(path: str, event: dict[str, Any]) -> Any:
    from jsonpath_ng.ext import parse

    matches = parse(path).find(event)
    return matches[0].value if matches else None
