"""The embedded local cloud: moto's server plus the emulators that make template.yaml run on one machine.

moto server (127.0.0.1:4566)  AWS APIs: DynamoDB, S3, Kinesis, SQS, SNS, EventBridge, Step Functions,
                              Cognito, IAM, Glue, SageMaker, CloudWatch ...
LambdaRuntime                 the template's handlers in worker processes (no Docker)
Gateway (127.0.0.1:8080)      the REST API's routes + Cognito authorizer, and the web UI's files
KinesisPoller                 event source mappings with AWS retry/bisect/on-failure semantics
EventBridge delivery          rules -> Lambda and Step Functions targets; rate(...) schedules fire (scheduler.py)
SageMaker executor            training jobs and endpoints run models/<model>/ code
DynamoDB fixes                transactions copy touched items only, Query reads one partition (moto copies or
                              lists whole tables): dynamodb_transactions.py, dynamodb_query.py
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from localcloud.provision import Provisioner
from localcloud.specs import REGION, Stack
from localcloud.template import load_template, translate

log = logging.getLogger("localcloud")

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # botocore without credentials probes the instance metadata address: never let it.
    "AWS_EC2_METADATA_DISABLED": "true",
}


class PortInUseError(RuntimeError):
    pass


def use_fake_aws(endpoint_url: str | None = None) -> None:
    """Point this process's AWS SDK at the local cloud with fake credentials (never at the internet)."""
    os.environ.update(FAKE_AWS_ENV)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url


def ensure_port_free(host: str, port: int, what: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"Port {port} on {host} is taken, so the {what} cannot start there. Stop whatever uses it "
                f"(`ss -ltnp 'sport = :{port}'` shows it; a previous `make up` may still run) or pick "
                f"another port with {flag}."
            ) from None


@dataclass
class LocalCloudConfig:
    root: Path
    host: str = "127.0.0.1"
    aws_port: int = 4566
    api_port: int = 8080
    stage: str = "dev"
    state_dir: Path | None = None
    static_dir: Path | None = None

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def state_path(self) -> Path:
        return self.state_dir or self.root / ".localcloud"


@dataclass
class LocalCloud:
    config: LocalCloudConfig
    stacks: dict[str, Stack] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._moto: Any = None
        self._runtime: Any = None
        self._gateway: Any = None
        self._sagemaker: Any = None
        self._pollers: list[Any] = []
        self._metrics: Any = None
        self._scheduler: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        cfg = self.config
        ensure_port_free(cfg.host, cfg.aws_port, "AWS endpoint (moto)", "--aws-port")
        ensure_port_free(cfg.host, cfg.api_port, "API gateway", "--api-port")
        cfg.state_path.mkdir(parents=True, exist_ok=True)
        use_fake_aws(cfg.aws_endpoint)
        # moto's Step Functions interpreter builds its Lambda client from MOTO_PORT.
        os.environ["MOTO_PORT"] = str(cfg.aws_port)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        from moto.server import ThreadedMotoServer

        from localcloud.awsstats import install_aws_stats
        from localcloud.dynamodb_query import install_partition_query
        from localcloud.dynamodb_transactions import install_dynamodb_transactions
        from localcloud.eventbridge import install_eventbridge_delivery
        from localcloud.gateway import Gateway
        from localcloud.runtime import LambdaRuntime, install_moto_lambda_patch
        from localcloud.sagemaker import install_sagemaker

        install_aws_stats()
        install_dynamodb_transactions()
        install_partition_query()
        self._moto = ThreadedMotoServer(ip_address=cfg.host, port=cfg.aws_port, verbose=False)
        self._moto.start()
        requests.post(
            f"{cfg.aws_endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()

        base_env = {
            **FAKE_AWS_ENV,
            "AWS_ENDPOINT_URL": cfg.aws_endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            "TRADE2026_LOCAL": "1",
            "PATH": os.environ.get("PATH", ""),
            # Under `make test` (coverage's subprocess patch) the workers measure the handlers' code too.
            # ... and tests/performance/fault_runs.py injects failures into chosen functions.
            **{n: v for n, v in os.environ.items() if n.startswith(("COVERAGE_", "LOCALCLOUD_FAULT_"))},
        }
        self._runtime = LambdaRuntime(base_env=base_env, log_dir=cfg.state_path / "logs")
        install_moto_lambda_patch(self._runtime)
        install_eventbridge_delivery(self._runtime, cfg.aws_endpoint)
        self._sagemaker = install_sagemaker(cfg.aws_endpoint, cfg.state_path / "sagemaker", base_env)
        self._gateway = Gateway(
            host=cfg.host,
            port=cfg.api_port,
            routes=[],
            authorizers={},
            runtime=self._runtime,
            cognito_endpoint=cfg.aws_endpoint,
            static_dir=cfg.static_dir,
        )
        self._gateway.start()
        from localcloud.metrics import MetricsEmulator

        # CloudWatch metrics (EMF logs, gateway, Kinesis, SQS, Step Functions) and alarm evaluation -> SNS.
        self._metrics = MetricsEmulator(self.client, cfg.state_path / "logs")
        self._metrics.start()
        from localcloud.scheduler import RateScheduler

        self._scheduler = RateScheduler(self.client("events"))  # rate(...) rules, e.g. the outbox sweep
        self._scheduler.start()

    def deploy(self, stack_name: str, template_path: Path, parameters: dict[str, str] | None = None) -> Stack:
        """Provision one template (like `sam deploy`) and hand its functions/routes/mappings to the emulators."""
        params = {"Stage": self.config.stage, **(parameters or {})}
        cfn = translate(load_template(template_path), params)
        # Local paths in a template (CodeUri, DefinitionUri) are relative to its own directory, as for sam.
        stack = Provisioner(template_path.parent, self.config.aws_endpoint).deploy(stack_name, cfn, params)
        for spec in stack.functions.values():
            self._runtime.register(spec)
        from localcloud.kinesis import KinesisPoller

        for mapping in stack.event_source_mappings:
            poller = KinesisPoller(mapping, self._runtime, self.config.aws_endpoint, self.config.aws_endpoint)
            poller.start()
            self._pollers.append(poller)
        self.stacks[stack_name] = stack
        routes = [route for s in self.stacks.values() for route in s.routes]
        authorizers = {name: a for s in self.stacks.values() for name, a in s.authorizers.items()}
        self._gateway.set_routes(routes, authorizers)
        api_names = [
            stack.attrs.get(lid, {}).get("Name")
            for lid, t in stack.types.items()
            if t == "AWS::ApiGateway::RestApi"
        ]
        if len(self.stacks) == 1 and api_names and api_names[0]:  # the first (main) stack names the API
            self._gateway.api_name = api_names[0]
        self._gateway.public_config = self.public_config()
        self._write_state()
        return stack

    def stop(self) -> None:
        for service in (self._metrics, self._scheduler):
            if service is not None:
                service.stop()
        for poller in self._pollers:
            poller.stop()
        for part in (self._gateway,):
            if part is not None:
                part.stop()
        for part in (self._sagemaker, self._runtime):
            if part is not None:
                part.close()
        if self._moto is not None:
            self._moto.stop()
        self._moto = None

    # ------------------------------------------------------------------ what users see
    def public_config(self) -> dict[str, Any]:
        outputs = {k: v for s in self.stacks.values() for k, v in s.outputs.items()}
        return {
            "apiUrl": self.config.api_url,
            "region": REGION,
            "userPoolId": outputs.get("UserPoolId"),
            "userPoolClientId": outputs.get("UserPoolClientId"),
            "cognitoEndpoint": self.config.aws_endpoint,
            "stage": self.config.stage,
            "local": True,
        }

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.config.aws_endpoint,
            region_name=REGION,
            config=Config(retries={"max_attempts": 2}),
        )

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "aws_endpoint": self.config.aws_endpoint,
            "api_url": self.config.api_url,
            "public_config": self.public_config(),
            "stacks": {
                name: {
                    "outputs": s.outputs,
                    "functions": {spec.logical_id: spec.name for spec in s.functions.values()},
                    "resources": {lid: {"type": s.types[lid], "ref": s.refs.get(lid)} for lid in s.types},
                    "not_emulated": s.skipped,
                    "routes": [f"{r.method} {r.path}" for r in s.routes],
                }
                for name, s in self.stacks.items()
            },
        }
        (self.config.state_path / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
