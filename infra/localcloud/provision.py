"""Create every resource of a translated template in the local cloud (moto), in dependency order.

Each CloudFormation type has one small creator that returns (Ref value, attributes). Types whose
behaviour the local cloud emulates itself (Lambda code, API Gateway, event source mappings) are
recorded as specs for the emulators; types with nothing to emulate locally are listed in
``Stack.skipped`` with the reason, so `trade2026 status` can say so.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from localcloud.intrinsics import Resolver, references
from localcloud.specs import (
    ACCOUNT_ID,
    FAKE_CREDENTIALS,
    REGION,
    AuthorizerSpec,
    EventSourceMappingSpec,
    FunctionSpec,
    RouteSpec,
    Stack,
)
from localcloud.template import local_path

Created = tuple[str, dict[str, Any]]
_NOT_EMULATED = {
    "AWS::Lambda::Permission": "invoke permissions are not enforced locally",
    "AWS::Lambda::LayerVersion": "the layer's code is installed in the local virtualenv",
    "AWS::ApiGateway::Deployment": "the local gateway serves the API body directly",
    "AWS::ApiGateway::Stage": "the local gateway serves the API body directly",
    "AWS::ApiGateway::Account": "no API Gateway account settings locally",
    "AWS::CloudFront::Distribution": "the local gateway serves the UI on 127.0.0.1",
    "AWS::CloudFront::OriginAccessControl": "the local gateway serves the UI on 127.0.0.1",
}
_EMPTY_ZIP = io.BytesIO()
with zipfile.ZipFile(_EMPTY_ZIP, "w") as _zip:
    _zip.writestr("README.txt", "Code runs from the project directory in the local cloud.")


class ProvisionError(Exception):
    pass


def _physical_name(stack: str, logical_id: str, max_len: int = 63) -> str:
    return f"{stack}-{logical_id}"[:max_len]


def s3_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule as CloudFormation writes it (Id, Prefix, TransitionInDays, ExpirationInDays) in the S3
    API's shape (ID, Filter, Days, Expiration)."""
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    if "Transitions" in rule:
        api["Transitions"] = [
            {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]} for t in rule["Transitions"]
        ]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "NoncurrentVersionTransitions" in rule:
        api["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            for t in rule["NoncurrentVersionTransitions"]
        ]
    for key in ("AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration"):
        if key in rule:
            api[key] = rule[key]
    return api


def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
    raw = props.get("Tags") or []
    if isinstance(raw, dict):
        return [{"Key": k, "Value": str(v)} for k, v in raw.items()]
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in raw]


class Provisioner:
    def __init__(self, root: Path, endpoint_url: str) -> None:
        self.root = root
        config = Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=60)
        session = boto3.Session(**FAKE_CREDENTIALS, region_name=REGION)
        self._client: Callable[[str], Any] = lambda service: session.client(
            service, endpoint_url=endpoint_url, config=config
        )
        self._creators: dict[str, Callable[[Stack, str, dict[str, Any]], Created]] = {
            "AWS::DynamoDB::Table": self._dynamodb_table,
            "AWS::S3::Bucket": self._s3_bucket,
            "AWS::S3::BucketPolicy": self._s3_bucket_policy,
            "AWS::Kinesis::Stream": self._kinesis_stream,
            "AWS::SQS::Queue": self._sqs_queue,
            "AWS::SQS::QueuePolicy": lambda _s, _l, p: ("policy", {}),
            "AWS::SNS::Topic": self._sns_topic,
            "AWS::SNS::Subscription": self._sns_subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._event_rule,
            "AWS::IAM::Role": self._iam_role,
            "AWS::Lambda::Function": self._lambda_function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::Glue::Database": self._glue_database,
            "AWS::SSM::Parameter": self._ssm_parameter,
        }

    # ------------------------------------------------------------------ driver
    def deploy(self, stack_name: str, cfn: dict[str, Any], parameters: dict[str, str] | None = None) -> Stack:
        resources: dict[str, dict[str, Any]] = cfn["Resources"]
        params = {
            name: str((parameters or {}).get(name, spec.get("Default", "")))
            for name, spec in (cfn.get("Parameters") or {}).items()
        }
        stack = Stack(name=stack_name)
        resolver = Resolver(
            stack_name, params, stack.refs, stack.attrs, cfn.get("Mappings"), cfn.get("Conditions")
        )
        for logical_id in self._creation_order(resources):
            resource = resources[logical_id]
            rtype = resource["Type"]
            stack.types[logical_id] = rtype
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                stack.skipped[logical_id] = f"condition {resource['Condition']} is false"
                continue
            creator = self._creators.get(rtype)
            if creator is None:
                stack.skipped[logical_id] = _NOT_EMULATED.get(rtype, f"{rtype} is not emulated locally")
                stack.refs[logical_id] = _physical_name(stack_name, logical_id)
                stack.attrs[logical_id] = {}
                continue
            props = resolver.resolve(resource.get("Properties") or {})
            try:
                ref, attrs = creator(stack, logical_id, props)
            except Exception as exc:
                raise ProvisionError(f"Creating {logical_id} ({rtype}) failed: {exc}") from exc
            stack.refs[logical_id] = ref
            stack.attrs[logical_id] = attrs
        for name, output in (cfn.get("Outputs") or {}).items():
            if "Condition" not in output or resolver.condition(output["Condition"]):
                stack.outputs[name] = str(resolver.resolve(output["Value"]))
        return stack

    @staticmethod
    def _creation_order(resources: dict[str, dict[str, Any]]) -> list[str]:
        graph: dict[str, set[str]] = {}
        for logical_id, resource in resources.items():
            depends = resource.get("DependsOn") or []
            depends = [depends] if isinstance(depends, str) else depends
            graph[logical_id] = {
                dep for dep in references(resource.get("Properties") or {}) | set(depends) if dep in resources
            }
        try:
            return list(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            raise ProvisionError(f"Circular dependency between resources: {exc.args[1]}") from exc

    # ------------------------------------------------------------------ storage
    def _dynamodb_table(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("TableName") or _physical_name(stack.name, logical_id, 255)
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = p.get("ProvisionedThroughput") or {
                "ReadCapacityUnits": 5,
                "WriteCapacityUnits": 5,
            }
        for key in (
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "StreamSpecification",
            "SSESpecification",
        ):
            if key in p:
                args[key] = p[key]
        if "SSESpecification" in args:
            args["SSESpecification"] = {"Enabled": bool(args["SSESpecification"].get("SSEEnabled", True))}
        if _tags(p):
            args["Tags"] = _tags(p)
        dynamodb = self._client("dynamodb")
        table = dynamodb.create_table(**args)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        attrs = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        return name, attrs

    def _s3_bucket(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("BucketName") or _physical_name(stack.name, logical_id).lower()
        s3 = self._client("s3")
        s3.create_bucket(Bucket=name)
        if "BucketEncryption" in p:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in p:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"]
            )
        if "VersioningConfiguration" in p:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
        if "LifecycleConfiguration" in p:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [s3_lifecycle_rule(r) for r in p["LifecycleConfiguration"]["Rules"]]
                },
            )
        return name, {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        }

    def _s3_bucket_policy(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        document = dict(p["PolicyDocument"])
        # The local cloud speaks plain HTTP on loopback, so TLS-only statements would deny everything.
        kept = [
            st
            for st in document["Statement"]
            if "aws:SecureTransport" not in json.dumps(st.get("Condition", {}))
        ]
        if len(kept) < len(document["Statement"]):
            stack.skipped[logical_id] = (
                "TLS-only statements not enforced: the local cloud is plain HTTP on loopback"
            )
        if kept:
            self._client("s3").put_bucket_policy(
                Bucket=p["Bucket"], Policy=json.dumps({**document, "Statement": kept})
            )
        return p["Bucket"], {}

    def _kinesis_stream(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("Name") or _physical_name(stack.name, logical_id, 128)
        kinesis = self._client("kinesis")
        mode = (p.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        else:
            kinesis.create_stream(StreamName=name, ShardCount=int(p.get("ShardCount", 1)))
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
        )
        if p.get("RetentionPeriodHours"):
            kinesis.increase_stream_retention_period(
                StreamName=name, RetentionPeriodHours=int(p["RetentionPeriodHours"])
            )
        return name, {"Arn": f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{name}"}

    def _sqs_queue(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("QueueName") or _physical_name(stack.name, logical_id, 80)
        attributes = {
            key: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in p.items()
            if key not in ("QueueName", "Tags")
        }
        url = self._client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}", "QueueName": name, "QueueUrl": url}

    def _sns_topic(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("TopicName") or _physical_name(stack.name, logical_id, 256)
        arn = self._client("sns").create_topic(Name=name)["TopicArn"]
        return arn, {"TopicArn": arn, "TopicName": name}

    def _sns_subscription(self, _stack: Stack, _logical_id: str, p: dict[str, Any]) -> Created:
        # moto delivers to lambda (routed to the local runtime), sqs and http(s) endpoints.
        args = {"TopicArn": p["TopicArn"], "Protocol": p["Protocol"], "Endpoint": p["Endpoint"]}
        if p.get("FilterPolicy"):
            args["Attributes"] = {"FilterPolicy": json.dumps(p["FilterPolicy"])}
        arn = self._client("sns").subscribe(**args, ReturnSubscriptionArn=True)["SubscriptionArn"]
        return arn, {}

    # ------------------------------------------------------------------ events
    def _event_bus(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("Name") or _physical_name(stack.name, logical_id, 256)
        arn = self._client("events").create_event_bus(Name=name)["EventBusArn"]
        return name, {"Arn": arn, "Name": name}

    def _event_rule(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("Name") or _physical_name(stack.name, logical_id, 64)
        bus = p.get("EventBusName", "default")
        bus = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        events = self._client("events")
        args: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": p.get("State", "ENABLED")}
        if "EventPattern" in p:
            pattern = p["EventPattern"]
            args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if "ScheduleExpression" in p:
            args["ScheduleExpression"] = p["ScheduleExpression"]
        arn = events.put_rule(**args)["RuleArn"]
        targets = [
            {
                k: v
                for k, v in target.items()
                if k
                in (
                    "Id",
                    "Arn",
                    "Input",
                    "InputPath",
                    "InputTransformer",
                    "RoleArn",
                    "DeadLetterConfig",
                    "RetryPolicy",
                )
            }
            for target in p.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        ref = name if bus == "default" else f"{bus}|{name}"
        return ref, {"Arn": arn}

    # ------------------------------------------------------------------ compute
    def _iam_role(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("RoleName") or _physical_name(stack.name, logical_id, 64)
        iam = self._client("iam")
        role = iam.create_role(
            RoleName=name,
            Path=p.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
        )["Role"]
        for policy in p.get("Policies", []):
            # SAM's policy templates omit Version (IAM then assumes 2008-10-17); moto insists on one.
            policy["PolicyDocument"].setdefault("Version", "2012-10-17")
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
        return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _lambda_function(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("FunctionName") or _physical_name(stack.name, logical_id, 64)
        code = p.get("Code") or {}
        code_dir = local_path(self.root, code.get("S3Bucket"), code.get("S3Key"))
        if code_dir is None or not code_dir.is_dir():
            raise ProvisionError(f"{logical_id}: CodeUri must be a local directory, got {code}")
        environment = {k: str(v) for k, v in ((p.get("Environment") or {}).get("Variables") or {}).items()}
        timeout = int(p.get("Timeout", 3))
        memory = int(p.get("MemorySize", 128))
        arn = self._client("lambda").create_function(
            FunctionName=name,
            Runtime=p.get("Runtime", "python3.11"),
            Role=p["Role"],
            Handler=p["Handler"],
            Code={"ZipFile": _EMPTY_ZIP.getvalue()},
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": environment},
        )["FunctionArn"]
        stack.functions[name] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=p["Handler"],
            code_dir=code_dir,
            environment=environment,
            timeout_s=timeout,
            memory_mb=memory,
        )
        return name, {"Arn": arn}

    def _event_source_mapping(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        source = str(p["EventSourceArn"])
        if ":kinesis:" not in source:
            stack.skipped[logical_id] = f"event source {source} is not emulated (only Kinesis)"
            return logical_id, {}
        on_failure = ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        function = (
            str(p["FunctionName"]).rsplit(":", 1)[-1]
            if ":function:" not in str(p["FunctionName"])
            else str(p["FunctionName"]).split(":function:", 1)[1].split(":", 1)[0]
        )
        stack.event_source_mappings.append(
            EventSourceMappingSpec(
                function_name=function,
                stream_name=source.rsplit("/", 1)[-1],
                stream_arn=source,
                batch_size=int(p.get("BatchSize", 100)),
                batching_window_s=int(p.get("MaximumBatchingWindowInSeconds", 0)),
                starting_position=p.get("StartingPosition", "LATEST"),
                report_batch_item_failures="ReportBatchItemFailures"
                in (p.get("FunctionResponseTypes") or []),
                maximum_retry_attempts=int(p.get("MaximumRetryAttempts", -1)),
                bisect_on_error=bool(p.get("BisectBatchOnFunctionError", False)),
                on_failure_destination=on_failure,
            )
        )
        return logical_id, {}

    def _state_machine(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("StateMachineName") or _physical_name(stack.name, logical_id, 80)
        if "DefinitionString" in p:
            definition = p["DefinitionString"]
        elif "Definition" in p:
            definition = json.dumps(p["Definition"])
        else:
            location = p["DefinitionS3Location"]
            path = local_path(self.root, location.get("Bucket"), location.get("Key"))
            if path is None:
                raise ProvisionError(f"{logical_id}: DefinitionUri must be a local file")
            definition = path.read_text(encoding="utf-8")
        for key, value in (p.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        leftover = re.findall(r"\$\{[A-Za-z0-9_]+\}", definition)
        if leftover:
            raise ProvisionError(f"{logical_id}: unresolved DefinitionSubstitutions {sorted(set(leftover))}")
        arn = self._client("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=p["RoleArn"],
            type=p.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        return arn, {"Arn": arn, "Name": name}

    # ------------------------------------------------------------------ API
    def _rest_api(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        body = p.get("Body") or {}
        for name, scheme in (body.get("securityDefinitions") or {}).items():
            authorizer = scheme.get("x-amazon-apigateway-authorizer") or {}
            if authorizer.get("type") == "cognito_user_pools":
                pools = tuple(str(arn).rsplit("/", 1)[-1] for arn in authorizer.get("providerARNs", []))
                stack.authorizers[name] = AuthorizerSpec(name, pools, scheme.get("name", "Authorization"))
        for path, methods in (body.get("paths") or {}).items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration") or {}
                match = re.search(
                    r"functions/(arn:aws:lambda:[^/]+)/invocations", str(integration.get("uri", ""))
                )
                if match is None:
                    continue
                security = [name for req in operation.get("security", []) for name in req]
                authorizer_name = next((n for n in security if n in stack.authorizers), None)
                stack.routes.append(
                    RouteSpec(
                        method="ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
                        path=path,
                        function_name=match.group(1).split(":function:", 1)[1].split(":", 1)[0],
                        authorizer=authorizer_name,
                    )
                )
        api_id = re.sub(r"[^a-z0-9]", "", logical_id.lower())[:10] or "api"
        return api_id, {"RootResourceId": "root", "Name": p.get("Name", logical_id)}

    # ------------------------------------------------------------------ identity
    def _user_pool(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("UserPoolName") or _physical_name(stack.name, logical_id, 128)
        args: dict[str, Any] = {"PoolName": name}
        for key in (
            "Policies",
            "AutoVerifiedAttributes",
            "UsernameAttributes",
            "UsernameConfiguration",
            "AdminCreateUserConfig",
            "Schema",
            "DeletionProtection",
        ):
            if key in p:
                args[key] = p[key]
        pool = self._client("cognito-idp").create_user_pool(**args)["UserPool"]
        pool_id = pool["Id"]
        return pool_id, {
            "Arn": pool["Arn"],
            "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "ProviderURL": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "UserPoolId": pool_id,
        }

    def _user_pool_client(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        args = {
            k: v
            for k, v in p.items()
            if k
            in (
                "UserPoolId",
                "ClientName",
                "GenerateSecret",
                "ExplicitAuthFlows",
                "PreventUserExistenceErrors",
                "AccessTokenValidity",
                "IdTokenValidity",
                "RefreshTokenValidity",
                "TokenValidityUnits",
                "ReadAttributes",
                "WriteAttributes",
            )
        }
        args.setdefault("ClientName", _physical_name(stack.name, logical_id, 128))
        client = self._client("cognito-idp").create_user_pool_client(**args)["UserPoolClient"]
        return client["ClientId"], {"ClientId": client["ClientId"]}

    def _user_pool_group(self, _stack: Stack, _logical_id: str, p: dict[str, Any]) -> Created:
        args = {k: v for k, v in p.items() if k in ("GroupName", "UserPoolId", "Description", "Precedence")}
        self._client("cognito-idp").create_group(**args)
        return p["GroupName"], {}

    # ------------------------------------------------------------------ operations
    def _log_group(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("LogGroupName") or f"/trade2026/{stack.name}/{logical_id}"
        logs = self._client("logs")
        logs.create_log_group(logGroupName=name)
        if p.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
        return name, {"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"}

    def _alarm(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("AlarmName") or _physical_name(stack.name, logical_id, 255)
        args = {k: v for k, v in p.items() if k != "AlarmName"}
        self._client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        return name, {"Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}"}

    def _dashboard(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("DashboardName") or _physical_name(stack.name, logical_id, 255)
        self._client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
        return name, {}

    def _glue_database(self, _stack: Stack, _logical_id: str, p: dict[str, Any]) -> Created:
        database = p["DatabaseInput"]
        self._client("glue").create_database(CatalogId=p.get("CatalogId", ACCOUNT_ID), DatabaseInput=database)
        return database["Name"], {}

    def _ssm_parameter(self, stack: Stack, logical_id: str, p: dict[str, Any]) -> Created:
        name = p.get("Name") or f"/{stack.name}/{logical_id}"
        self._client("ssm").put_parameter(Name=name, Value=str(p["Value"]), Type=p.get("Type", "String"))
        return name, {"Type": p.get("Type", "String"), "Value": p["Value"]}
