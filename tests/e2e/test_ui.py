"""The web UI end to end: a real Chromium signs in, reads the dashboard and market data, runs a backtest and a
sweep, switches roles (ui_flow.mjs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import FRONTEND, OPENAPI, ROOT, UiCloud

pytestmark = pytest.mark.e2e

UI_FLOW = Path(__file__).with_name("ui_flow.mjs")
CHROMIUM = Path("/usr/bin/chromium")


def market_api_deployed() -> bool:
    # A guard on a known future route, not a skip: the Market page steps run as soon as the market data API
    # is in the generated OpenAPI document (and so deployed by template.yaml).
    return "/v1/marketdata/symbols" in json.loads(OPENAPI.read_text())["paths"]


def backtests_api_deployed() -> bool:
    return "/v1/backtests/strategies" in json.loads(OPENAPI.read_text())["paths"]


def load_sp500(cloud: UiCloud) -> None:
    """Real daily S&P 500 bars (shipped by the `arch` package), loaded the way users load data."""
    command = [sys.executable, "-m", "localcloud", "ingest", "--source", "sp500"]
    command += ["--state-dir", str(cloud.state_dir)]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"ingest failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("TRADE2026_E2E_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("ui-screenshots")


def test_ui_sign_in_dashboard_roles_and_expiry(ui_cloud: UiCloud, screenshot_dir: Path) -> None:
    """Given the platform and its built UI, when a trader then a viewer use it, then every check passes."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the browser test (see frontend/README.md)"
    assert CHROMIUM.exists(), "the browser test drives the system Chromium at /usr/bin/chromium"
    # Given demo market data, once the market data API exists
    market = market_api_deployed()
    backtests = market and backtests_api_deployed()
    if market:
        load_sp500(ui_cloud)
    settings = {
        "baseUrl": ui_cloud.base_url,
        "frontendDir": str(FRONTEND),
        "logins": ui_cloud.logins,
        "screenshotDir": str(screenshot_dir),
        "market": market,
        "backtests": backtests,
    }
    # When the scripted user goes through the UI in Chromium
    command = [node, str(UI_FLOW), json.dumps(settings)]
    result = subprocess.run(command, check=False, cwd=FRONTEND, capture_output=True, text=True, timeout=300)
    # Then every step passed, and left its screenshot
    output = f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}\nscreenshots: {screenshot_dir}"
    assert result.returncode == 0, output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    names = [step["step"] for step in report["steps"]]
    expected = ["login-page", "login-wrong-password", "dashboard-trader", "reload-keeps-session"]
    if market:
        expected += ["market-sp500", "market-weekly-ema", "market-download-csv"]
    if backtests:
        expected += [
            "backtests-tearsheet",
            "backtests-api-error",
            "backtests-sweep-pbo",
            "backtests-history-reopen",
            "backtests-walkforward",
        ]
    expected += ["signed-out", "dashboard-viewer"]
    if backtests:
        expected += ["backtests-viewer"]
    expected += ["rejected-token-back-to-login", "expiring-token-back-to-login"]
    assert names == expected, output
    assert all(Path(step["screenshot"]).stat().st_size > 10_000 for step in report["steps"]), output
