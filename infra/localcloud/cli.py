"""`trade2026` command line: run the platform locally, inspect it, invoke functions, deploy to AWS."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Table

from localcloud.cloud import LocalCloud, LocalCloudConfig, PortInUseError, use_fake_aws

ROOT = Path(__file__).resolve().parents[2]
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Trade2026: serverless trading platform.")
console = Console()


def _state(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "state.json"
    if not path.exists():
        console.print(
            "[red]The local cloud is not running here[/] (no .localcloud/state.json): run `make up`."
        )
        raise typer.Exit(1)
    return json.loads(path.read_text(encoding="utf-8"))


def wait_healthy(api_url: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{api_url}/v1/health", timeout=5)
            last = response.json()
            if response.status_code == 200:
                return last
        except (requests.RequestException, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"The platform did not become healthy within {timeout_s:.0f} s; last answer: {last}")


def _print_ready(cloud: LocalCloud, logins: list[Any], seconds: float) -> None:
    cfg = cloud.config
    console.print(
        f"\n[bold green]Trade2026 is up[/] (stage {cfg.stage}, healthy {seconds:.1f} s after start)"
    )
    console.print(f"  API      {cfg.api_url}/v1   (health: {cfg.api_url}/v1/health)")
    console.print(f"  Web UI   {cfg.api_url}/")
    console.print(f"  AWS      {cfg.aws_endpoint}   (moto; fake credentials: testing/testing)")
    console.print(f"  Logs     {cfg.state_path / 'logs'}")
    table = Table(title="Demo logins (local user pool; new passwords at each start)")
    for column in ("username", "password", "group"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.group)
    console.print(table)
    console.print("Stop with Ctrl-C.\n")


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


@app.command()
def up(
    api_port: Annotated[int, typer.Option(help="Port of the API gateway and web UI")] = 8080,
    aws_port: Annotated[int, typer.Option(help="Port of the AWS endpoint (moto)")] = 4566,
    stage: Annotated[str, typer.Option(help="Stage parameter of template.yaml")] = "dev",
    demo_data: Annotated[bool, typer.Option(help="Load the real daily demo market data")] = True,
    extra_template: Annotated[
        list[Path] | None, typer.Option(help="Deploy another template as its own stack (tests use this)")
    ] = None,
    state_dir: Annotated[Path | None, typer.Option(help="Where logs and state go")] = None,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for health")] = 60.0,
) -> None:
    """Start the whole platform on the embedded local cloud and keep it running until Ctrl-C."""
    started = time.monotonic()
    static_dir = ROOT / "frontend" / "dist"
    cloud = LocalCloud(
        LocalCloudConfig(
            root=ROOT,
            aws_port=aws_port,
            api_port=api_port,
            stage=stage,
            state_dir=state_dir,
            static_dir=static_dir if static_dir.is_dir() else None,
        )
    )
    # `kill` stops as cleanly as Ctrl-C; SIGINT too when started with it ignored (a `cmd &` of a script inherits that)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    try:
        cloud.start()
    except PortInUseError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    try:
        stack = cloud.deploy(f"trade2026-{stage}", ROOT / "template.yaml")
        for path in extra_template or []:
            cloud.deploy(path.parent.name.replace("_", "-"), path.resolve())
        from localcloud.demo import create_demo_account, create_demo_users

        logins = create_demo_users(
            cloud.client("cognito-idp"), stack.outputs["UserPoolId"], cloud.config.state_path
        )
        wait_healthy(cloud.config.api_url, ready_timeout)
        trader = next(login for login in logins if login.group == "trader")
        account = create_demo_account(
            cloud.client("cognito-idp"), stack.outputs["UserPoolClientId"], cloud.config.api_url, trader
        )
        _print_ready(cloud, logins, time.monotonic() - started)
        console.print(f"Paper trading account of {trader.username}: [bold]{account['id']}[/]")
        if demo_data:
            from localcloud.loader import load_demo_data

            load_demo_data(cloud, console)
        (cloud.config.state_path / "ready").write_text(
            f"{time.monotonic() - started:.3f}\n", encoding="utf-8"
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("Stopping the local cloud ...")
        (cloud.config.state_path / "ready").unlink(missing_ok=True)
        (cloud.config.state_path / "state.json").unlink(missing_ok=True)
        cloud.stop()
        console.print("Stopped.")


@app.command()
def status(state_dir: Annotated[Path, typer.Option()] = ROOT / ".localcloud") -> None:
    """Health of the running local cloud: every resource, function and route."""
    state = _state(state_dir)
    try:
        response = requests.get(f"{state['api_url']}/v1/health", timeout=10)
        health = response.json()
    except requests.RequestException as exc:
        console.print(f"[red]The API at {state['api_url']} does not answer: {exc}[/]")
        raise typer.Exit(1) from None
    table = Table(title=f"{state['api_url']}/v1/health: {health.get('status')}")
    for column in ("kind", "name", "healthy", "detail"):
        table.add_column(column)
    for resource in health.get("resources", []):
        mark = "[green]yes[/]" if resource["healthy"] else "[red]no[/]"
        table.add_row(resource["kind"], resource["name"], mark, resource["detail"])
    console.print(table)
    for name, stack in state["stacks"].items():
        console.print(f"[bold]{name}[/]: {len(stack['functions'])} functions, {len(stack['routes'])} routes")
        for logical_id, why in stack["not_emulated"].items():
            console.print(f"  [dim]{logical_id}: {why}[/]")
    _print_ops_summary(state)
    if response.status_code != 200:
        raise typer.Exit(1)


def _print_ops_summary(state: dict[str, Any]) -> None:
    """The numbers of GET /v1/ops/metrics (the same CloudWatch reads), last hour, and every alarm's state."""
    import boto3

    from trade2026.services.ops_metrics import summary

    use_fake_aws(state["aws_endpoint"])
    prefix = f"trade2026-{state['public_config'].get('stage', 'dev')}-"
    try:
        cloudwatch = boto3.client("cloudwatch", endpoint_url=state["aws_endpoint"], region_name="us-east-1")
        ops = summary(cloudwatch, f"{prefix}api", f"{prefix}marketdata-normalizer", f"{prefix}marketdata-dlq",
                      prefix, minutes=60)  # fmt: skip
    except Exception as exc:  # the summary is a convenience: never fail `status` over it
        console.print(f"[yellow]No metrics summary: {exc}[/]")
        return
    numbers = ", ".join(f"{m.name} {m.value:g}" for m in ops.metrics if m.value is not None)
    console.print(f"[bold]Last hour[/]: {numbers or 'no traffic yet'}")
    for alarm in ops.alarms:
        color = "red" if alarm.state == "ALARM" else "green"
        console.print(f"  alarm {alarm.name}: [{color}]{alarm.state}[/]")


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Logical id (PlatformFunction) or physical name")],
    event: Annotated[Path, typer.Option(help="JSON event file, e.g. events/platform/get_health.json")],
    state_dir: Annotated[Path, typer.Option()] = ROOT / ".localcloud",
) -> None:
    """Invoke a function of the running local cloud with an event file and print its result."""
    state = _state(state_dir)
    names = {lid: name for s in state["stacks"].values() for lid, name in s["functions"].items()}
    name = names.get(function, function)
    if name not in names.values():
        console.print(f"[red]Unknown function {function!r}.[/] Known: {', '.join(sorted(names))}")
        raise typer.Exit(2)
    try:
        payload = event.read_bytes()
        json.loads(payload)
    except (OSError, ValueError) as exc:
        console.print(f"[red]Cannot use {event} as an event: {exc}[/]")
        raise typer.Exit(2) from None
    use_fake_aws(state["aws_endpoint"])
    import boto3

    result = boto3.client("lambda").invoke(FunctionName=name, Payload=payload)
    body = result["Payload"].read().decode()
    try:
        console.print_json(body)
    except ValueError:
        console.print(body)
    if result.get("FunctionError"):
        raise typer.Exit(1)


@app.command()
def ingest(
    source: Annotated[str, typer.Option(help="sp500, nasdaq, stocks20, synthetic, or a .csv/.parquet file")],
    symbol: Annotated[str | None, typer.Option(help="Symbol to file a user's CSV/Parquet under")] = None,
    ticks: Annotated[int, typer.Option(help="synthetic: records to publish")] = 100_000,
    seed: Annotated[int, typer.Option(help="synthetic: random seed")] = 7,
    malformed: Annotated[float, typer.Option(help="synthetic: share of malformed records")] = 0.01,
    duplicates: Annotated[float, typer.Option(help="synthetic: share of exact duplicates")] = 0.0,
    minutes: Annotated[int, typer.Option(help="synthetic: length of the replayed session")] = 60,
    start: Annotated[
        str | None,
        typer.Option(help="synthetic: session start, ISO-8601 UTC (default: the session ends a minute ago)"),
    ] = None,
    state_dir: Annotated[Path, typer.Option()] = ROOT / ".localcloud",
) -> None:
    """Load market data into the running platform, with a progress bar and a summary."""
    from localcloud import loader
    from trade2026.errors import BadRequest
    from trade2026.services.marketdata_query import parse_time

    state = _state(state_dir)
    use_fake_aws(state["aws_endpoint"])
    outputs = next(s["outputs"] for name, s in state["stacks"].items() if name.startswith("trade2026-"))
    platform = loader.Platform(outputs)
    started = time.monotonic()
    try:
        if source in loader.DAILY_SOURCES:
            summary = loader.load_daily_sources(platform, [source], console)
        elif source == "synthetic":
            import boto3

            summary = loader.replay_synthetic(
                platform, boto3.client("kinesis"), boto3.client("sqs"), console,
                ticks=ticks, seed=seed, malformed=malformed, duplicates=duplicates, minutes=minutes,
                start_ns=parse_time(start, end_of_day=False, default=0) or None,
            )  # fmt: skip
        else:
            path = Path(source)
            if not path.is_file():
                console.print(f"[red]{source} is neither a known source ({', '.join(loader.DAILY_SOURCES)}, "
                              "synthetic) nor a file.[/]")  # fmt: skip
                raise typer.Exit(2)
            if not symbol:
                console.print("[red]--symbol is needed to import a file.[/]")
                raise typer.Exit(2)
            summary = loader.load_file(platform, path, symbol)
    except BadRequest as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from None
    table = Table(title=f"ingest {source} ({time.monotonic() - started:.1f} s)")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


@app.command()
def token(
    user: Annotated[str, typer.Option(help="demo-admin, demo-trader or demo-viewer")] = "demo-trader",
    state_dir: Annotated[Path, typer.Option()] = ROOT / ".localcloud",
) -> None:
    """Print an ID token of a demo user of the running local cloud (for curl: -H "Authorization: $TOKEN")."""
    state = _state(state_dir)
    logins = {entry["username"]: entry for entry in json.loads((state_dir / "demo-logins.json").read_text())}
    if user not in logins:
        console.print(f"[red]Unknown demo user {user!r}.[/] Known: {', '.join(sorted(logins))}")
        raise typer.Exit(2)
    use_fake_aws(state["aws_endpoint"])
    import boto3

    result = boto3.client("cognito-idp").initiate_auth(
        ClientId=state["public_config"]["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": logins[user]["password"]},
    )
    print(result["AuthenticationResult"]["IdToken"])


def _sam_status(*args: str) -> int:
    if shutil.which("sam") is None:
        console.print(
            "[red]The AWS SAM CLI is not installed.[/] See docs/deployment.md (pip install aws-sam-cli)."
        )
        raise typer.Exit(2)
    return subprocess.call(["sam", *args], cwd=ROOT)


def _sam(*args: str) -> None:
    raise typer.Exit(_sam_status(*args))


@app.command()
def build() -> None:
    """`sam build` of template.yaml (layer and functions for arm64)."""
    _sam("build", "--template-file", "template.yaml")


@app.command()
def deploy(
    stage: Annotated[str, typer.Option(help="samconfig.toml environment: dev, staging or prod")] = "dev",
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Then publish the web UI (publish-ui)")] = True,
) -> None:
    """`sam deploy --config-env STAGE` to your AWS account (needs real credentials), then publish the web UI."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        console.print("[red]AWS_ENDPOINT_URL is set: unset it to deploy to AWS.[/]")
        raise typer.Exit(2)
    # An unchanged stack is no failure here: the UI may still have changed.
    status = _sam_status("deploy", "--config-env", stage, "--no-fail-on-empty-changeset")
    if status != 0 or not ui:
        raise typer.Exit(status)
    publish_ui(stage=stage)


@app.command(name="publish-ui")
def publish_ui(
    stage: Annotated[str, typer.Option(help="Stage of the deployed stack: dev, staging or prod")] = "dev",
    stack_name: Annotated[str | None, typer.Option(help="Stack name (default trade2026-STAGE)")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region (default: your profile's)")] = None,
) -> None:
    """Upload the web UI (frontend/dist, built if stale) and its config.json to the deployed stack's
    CloudFront distribution (AWS only; `deploy` runs it)."""
    from localcloud import publish_ui as publisher

    overrides = publisher.local_endpoint_variables()
    if overrides:
        console.print(f"[red]{', '.join(overrides)} is set: unset it to publish the UI to AWS.[/]")
        raise typer.Exit(2)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        publisher.run(
            boto3.Session(region_name=region), stack_name or f"trade2026-{stage}", ROOT / "frontend", console
        )
    except publisher.PublishError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    except (BotoCoreError, ClientError) as exc:
        console.print(f"[red]AWS refused the UI publish: {exc}[/]")
        raise typer.Exit(1) from None


def _register_train() -> None:
    from localcloud import train_cli

    app.command(name="train")(train_cli.train)


_register_train()


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(1)
