"""`trade2026 train`: start a training run through the API (as the demo trader) and follow its progress.

Registered in cli.py with `app.command()(train_cli.train)`. The same request as POST /v1/models/train; the
run goes through the train_model state machine (data set -> SageMaker training jobs -> evaluate -> register
-> endpoint), and this command prints each step until it ends, then the model's headline numbers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[2]
LABELS = {"triple-barrier": "triple_barrier", "fixed-horizon": "fixed_horizon", "meta": "meta"}
console = Console()


def _login(state_dir: Path, user: str) -> tuple[str, str]:
    """(API URL, ID token of the demo user) of the running local cloud."""
    state_path = state_dir / "state.json"
    if not state_path.exists():
        console.print(
            "[red]The local cloud is not running here[/] (no .localcloud/state.json): run `make up`."
        )
        raise typer.Exit(1)
    state = json.loads(state_path.read_text(encoding="utf-8"))
    logins = {entry["username"]: entry for entry in json.loads((state_dir / "demo-logins.json").read_text())}
    from localcloud.cloud import use_fake_aws

    use_fake_aws(state["aws_endpoint"])
    import boto3

    result = boto3.client("cognito-idp").initiate_auth(
        ClientId=state["public_config"]["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": logins[user]["password"]},
    )
    return str(state["api_url"]), str(result["AuthenticationResult"]["IdToken"])


def build_request(
    symbols: str, label: str, feature_set: str, start: str | None, end: str | None, horizon: int,
    event_step: int, cv_folds: int, hyperparameters: str, max_trials: int, cpcv_groups: int = 0,
    cpcv_test_groups: int = 2,
) -> dict[str, Any]:  # fmt: skip
    if label not in LABELS:
        raise typer.BadParameter(f"--label must be one of {', '.join(LABELS)}; got {label!r}")
    try:
        grid = json.loads(hyperparameters) if hyperparameters else {}
    except ValueError as exc:
        raise typer.BadParameter(f"--hyperparameters is not JSON: {exc}") from None
    return {
        "symbols": [s.strip() for s in symbols.split(",") if s.strip()],
        "start": start, "end": end, "feature_set": feature_set,
        "label": {"kind": LABELS[label], "horizon": horizon}, "event_step": event_step,
        "cv_folds": cv_folds, "cpcv_groups": cpcv_groups, "cpcv_test_groups": cpcv_test_groups,
        "hyperparameters": grid, "max_trials": max_trials,
    }  # fmt: skip


def follow(api_url: str, token: str, run_id: str, timeout_s: float) -> dict[str, Any]:
    """Poll the run, printing each new step, until it ends (or the timeout)."""
    seen = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = requests.get(
            f"{api_url}/v1/models/runs/{run_id}", headers={"Authorization": token}, timeout=30
        ).json()
        if run.get("step") != seen:
            seen = run.get("step")
            console.print(f"[cyan]{time.strftime('%H:%M:%S')}[/] {run['status']:<9} {seen}")
        if run["status"] in ("SUCCEEDED", "FAILED"):
            return dict(run)
        time.sleep(2)
    console.print(f"[yellow]Still running after {timeout_s:.0f} s[/]: GET /v1/models/runs/{run_id} shows it.")
    raise typer.Exit(3)


def _print_result(api_url: str, token: str, run: dict[str, Any]) -> None:
    if run["status"] == "FAILED":
        console.print(f"[red]Training failed:[/] {run.get('error')}")
        raise typer.Exit(1)
    evaluation = run["progress"].get("evaluation", {})
    model = requests.get(
        f"{api_url}/v1/models/{run['model_id']}", headers={"Authorization": token}, timeout=30
    ).json()
    table = Table(title=f"model {model['id']} ({model['family']} v{model['version']}, {model['stage']})")
    table.add_column("metric")
    table.add_column("validation", justify="right")
    for name in ("auc", "log_loss", "accuracy", "precision", "recall", "f1"):
        value = evaluation.get("validation", {}).get(name)
        table.add_row(name, "-" if value is None else f"{value:.4f}")
    console.print(table)
    if evaluation.get("cpcv"):
        cpcv = evaluation["cpcv"]
        console.print(
            f"combinatorial purged CV ({cpcv['n_groups']} groups, {cpcv['n_test_groups']} test): AUC over "
            f"{cpcv['n_paths']} paths {cpcv['auc_mean']:.4f} +/- {cpcv['auc_std']:.4f}"
        )
    if evaluation.get("meta_labeling"):
        meta = evaluation["meta_labeling"]
        console.print(f"meta-labeling: primary {meta['primary']}, with the meta model {meta['meta']}")
    console.print(f"endpoint: {model.get('endpoint') or '(not deployed: not the champion)'}")


def train(
    symbols: Annotated[str, typer.Option(help="Comma-separated symbols, e.g. AAPL,MSFT,JPM")],
    label: Annotated[str, typer.Option(help="triple-barrier, fixed-horizon or meta")] = "triple-barrier",
    feature_set: Annotated[str, typer.Option(help="alpha_v1 (close only) or alpha_ohlcv_v1")] = "alpha_v1",
    start: Annotated[str | None, typer.Option(help="First sample date, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="Last bar date, YYYY-MM-DD")] = None,
    horizon: Annotated[int, typer.Option(help="Label horizon / vertical barrier in bars")] = 10,
    event_step: Annotated[int, typer.Option(help="A sample every n-th bar")] = 5,
    cv_folds: Annotated[int, typer.Option(help="Purged k-fold CV inside training (0: none)")] = 0,
    cpcv_groups: Annotated[int, typer.Option(help="Combinatorial purged CV: N time groups (0: none)")] = 0,
    cpcv_test_groups: Annotated[int, typer.Option(help="Combinatorial purged CV: k test groups")] = 2,
    hyperparameters: Annotated[
        str, typer.Option(help='JSON, lists are searched: {"max_depth": [2, 3]}')
    ] = "",
    max_trials: Annotated[int, typer.Option(help="At most this many hyperparameter trials")] = 4,
    wait: Annotated[bool, typer.Option(help="Follow the run until it ends")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the run")] = 1800.0,
    user: Annotated[str, typer.Option(help="Demo user who runs it")] = "demo-trader",
    state_dir: Annotated[Path, typer.Option()] = ROOT / ".localcloud",
) -> None:
    """Train a model (POST /v1/models/train) and follow it: data set, training jobs, evaluation, registry, endpoint."""
    body = build_request(symbols, label, feature_set, start, end, horizon, event_step, cv_folds, hyperparameters,
                         max_trials, cpcv_groups, cpcv_test_groups)  # fmt: skip
    api_url, token = _login(state_dir, user)
    response = requests.post(
        f"{api_url}/v1/models/train", json=body, headers={"Authorization": token}, timeout=120
    )
    if response.status_code != 202:
        console.print(f"[red]Refused ({response.status_code}):[/] {response.text}")
        raise typer.Exit(2)
    run_id = response.json()["id"]
    console.print(f"run {run_id} started")
    if wait:
        _print_result(api_url, token, follow(api_url, token, run_id, timeout))
