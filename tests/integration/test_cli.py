"""`trade2026 invoke` and `trade2026 status` against the running local cloud."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _cli(cloud, *args):
    return subprocess.run(
        [sys.executable, "-m", "localcloud", *args, "--state-dir", str(cloud.state_dir)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_invoke_runs_a_function_with_a_sample_event(cloud, repo_root):
    # Given the sample health event, When invoked through the CLI, Then the handler answers 200
    result = _cli(
        cloud, "invoke", "PlatformFunction", "--event", str(repo_root / "events/platform/get_health.json")
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "healthy"


def test_invoke_refuses_an_unknown_function(cloud, repo_root):
    result = _cli(
        cloud, "invoke", "NoSuchFunction", "--event", str(repo_root / "events/platform/get_health.json")
    )
    assert result.returncode == 2
    assert "Unknown function" in result.stdout


def test_status_shows_healthy_resources(cloud):
    result = _cli(cloud, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "healthy" in result.stdout


def test_token_prints_a_token_the_api_accepts(cloud):
    # Given the demo viewer, When the CLI prints its token, Then /v1/me accepts it and shows the viewer group
    result = _cli(cloud, "token", "--user", "demo-viewer")
    assert result.returncode == 0, result.stderr
    assert cloud.get("/v1/me", token=result.stdout.strip()).json()["groups"] == ["viewer"]


def test_up_says_clearly_when_a_port_is_taken(repo_root):
    # Given a port in use, When the platform is started on it, Then it stops at once and names the port
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "localcloud", "up", "--aws-port", str(port), "--no-demo-data"],
            check=False, capture_output=True, text=True, timeout=60, cwd=repo_root,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"Port {port}" in " ".join(result.stdout.split())
