"""Plain descriptions of what the provisioner read from template.yaml.

The provisioner (provision.py) fills these from the translated CloudFormation; the emulators
(runtime, kinesis, gateway, events, sagemaker) consume them. Nothing here talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The local cloud's only credentials: fake, so that no SDK ever looks for real ones (or probes metadata).
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Lambda::Function, as the local runtime needs it."""

    logical_id: str
    name: str  # physical FunctionName
    arn: str
    handler: str  # "app.handler" -> module app, attribute handler
    code_dir: Path  # directory put first on sys.path (the function's CodeUri)
    environment: dict[str, str]
    timeout_s: int = 3
    memory_mb: int = 128


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """One AWS::Lambda::EventSourceMapping on a Kinesis stream."""

    function_name: str
    stream_name: str
    stream_arn: str
    batch_size: int = 100
    batching_window_s: int = 0
    starting_position: str = "LATEST"  # LATEST | TRIM_HORIZON
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1  # -1 = retry until the record expires (AWS default)
    bisect_on_error: bool = False
    on_failure_destination: str | None = None  # SQS queue ARN


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Cognito user pool authorizer of the REST API."""

    name: str
    user_pool_ids: tuple[str, ...]
    identity_header: str = "Authorization"


@dataclass(frozen=True)
class RouteSpec:
    """One method of the REST API's OpenAPI body, integrated with a Lambda proxy."""

    method: str  # GET, POST, ... or ANY
    path: str  # "/v1/orders/{id}" as in the OpenAPI body; "{proxy+}" allowed
    function_name: str
    authorizer: str | None  # AuthorizerSpec.name, None when the route is public
    stage: str = "Prod"


@dataclass
class Stack:
    """Everything one template deployed: physical ids and attributes by logical id."""

    name: str
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by physical name
    event_source_mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)
    authorizers: dict[str, AuthorizerSpec] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> why not emulated
    outputs: dict[str, str] = field(default_factory=dict)
