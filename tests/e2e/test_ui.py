"""The web UI end to end: a real Chromium signs in, reads the dashboard and market data, runs a backtest and a
sweep, submits, replaces and cancels an order, runs the optimizer, saves and loads a screen, deploys a strategy
into a slot (shadow, decisions, hot-swap, rollback), sets notification preferences and receives a test webhook,
trains a model with combinatorial purged CV and scores it in batch into the lake, switches roles (ui_flow.mjs)."""

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


# The steps of ui_flow.mjs in order, each group once its API is deployed (a setting of the same name).
STEPS: list[tuple[str | None, list[str]]] = [
    (None, ["login-page", "login-wrong-password", "dashboard-trader", "reload-keeps-session"]),
    ("market", ["market-sp500", "market-weekly-ema", "market-download-csv"]),
    ("models", ["models-training-started"]),
    ("backtests", ["backtests-tearsheet", "backtests-api-error", "backtests-sweep-pbo", "backtests-history-reopen",
                   "backtests-walkforward"]),
    ("trading", ["trading-rejected", "trading-limit-order",
                 "trading-replace-cancel",
                 "dashboard-account", "risk-trader", "reports"]),
    ("portfolio", ["portfolio-optimizer"]),
    ("analytics", ["analytics-scanner"]),
    ("screens", ["analytics-screen-saved", "analytics-screen-loaded", "analytics-screen-deleted"]),
    ("analytics", ["analytics-time-machine", "analytics-physics", "simulations"]),
    ("strategies", ["strategies-lifecycle"]),
    ("slots", ["strategies-gate-refused", "strategies-slot-refused", "strategies-slot-deploy",
               "strategies-slot-decisions", "strategies-slot-swap-rollback"]),
    ("notifications", ["notifications-test-delivery"]),
    ("models", ["models-training-registered", "models-batch-succeeded"]),
    (None, ["signed-out"]),
    ("trading", ["risk-admin-limits"]),
    (None, ["dashboard-viewer"]),
    ("trading", ["trading-viewer"]),
    ("backtests", ["backtests-viewer"]),
    ("slots", ["strategies-viewer"]),
    ("models", ["models-viewer"]),
    (None, ["rejected-token-back-to-login", "expiring-token-back-to-login"]),
]  # fmt: skip


def expected_steps(settings: dict[str, object]) -> list[str]:
    return [name for flag, names in STEPS if flag is None or settings[flag] for name in names]


def market_api_deployed() -> bool:
    # A guard on a known future route, not a skip: the Market page steps run as soon as the market data API
    # is in the generated OpenAPI document (and so deployed by template.yaml).
    return "/v1/marketdata/symbols" in json.loads(OPENAPI.read_text())["paths"]


def backtests_api_deployed() -> bool:
    return "/v1/backtests/strategies" in json.loads(OPENAPI.read_text())["paths"]


def trading_api_deployed() -> bool:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return "/v1/accounts/{account_id}/orders" in paths and "/v1/accounts/{account_id}/positions" in paths


def analytics_api_deployed() -> bool:
    paths = json.loads(OPENAPI.read_text())["paths"]
    wanted = ("/v1/scanners/{name}/run", "/v1/alpha/time-machine/find-matches", "/v1/physics/signals",
              "/v1/simulations")  # fmt: skip
    return all(path in paths for path in wanted)


def models_api_deployed() -> bool:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return "/v1/models/train" in paths and "/v1/models/runs/{run_id}" in paths


def strategies_api_deployed() -> bool:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return "/v1/strategies/{strategy_id}/versions/{version}/transition" in paths


def slots_api_deployed() -> bool:
    return "/v1/accounts/{account_id}/slots/{slot}/rollback" in json.loads(OPENAPI.read_text())["paths"]


def notifications_api_deployed() -> bool:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return "/v1/notifications/test" in paths and "/v1/notifications/preferences" in paths


def screens_api_deployed() -> bool:
    return "/v1/screens/{screen_id}" in json.loads(OPENAPI.read_text())["paths"]


def portfolio_api_deployed() -> bool:
    return "/v1/portfolio/optimize" in json.loads(OPENAPI.read_text())["paths"]


def load_daily(cloud: UiCloud, *sources: str) -> None:
    """Real daily bars (S&P 500 and NASDAQ, shipped by the `arch` package), loaded the way users load data
    (the sources side by side)."""
    state = ["--state-dir", str(cloud.state_dir)]
    commands = [
        [sys.executable, "-m", "localcloud", "ingest", "--source", source, *state] for source in sources
    ]
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for command in commands
    ]
    for process in processes:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, f"ingest failed:\n{output[-3000:]}"


@pytest.fixture
def screenshot_dir() -> Path:
    """Where the screenshots of every step stay after the run: TRADE2026_E2E_SCREENSHOTS, else
    .localcloud/e2e-screenshots/ (git-ignored; emptied at the start of each run)."""
    chosen = os.environ.get("TRADE2026_E2E_SCREENSHOTS")
    directory = Path(chosen) if chosen else ROOT / ".localcloud" / "e2e-screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    return directory


def test_ui_sign_in_trade_optimize_roles_and_expiry(ui_cloud: UiCloud, screenshot_dir: Path) -> None:
    """Given the platform and its built UI, when a trader then a viewer use it, then every check passes."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the browser test (see frontend/README.md)"
    assert CHROMIUM.exists(), "the browser test drives the system Chromium at /usr/bin/chromium"
    # Given demo market data, once the market data API exists
    market = market_api_deployed()
    backtests = market and backtests_api_deployed()
    trading = market and trading_api_deployed()
    portfolio = market and portfolio_api_deployed()
    analytics = market and analytics_api_deployed()
    models = market and models_api_deployed()
    strategies = market and strategies_api_deployed()
    # Slots need a version past the validation gate: a finished sweep (backtests) and an account (trading).
    slots = strategies and backtests and trading and slots_api_deployed()
    screens = analytics and screens_api_deployed()
    notifications = notifications_api_deployed()
    if market:
        load_daily(ui_cloud, "sp500", *(["nasdaq"] if portfolio else []))
    settings = {
        "baseUrl": ui_cloud.base_url,
        "frontendDir": str(FRONTEND),
        "logins": ui_cloud.logins,
        "screenshotDir": str(screenshot_dir),
        "market": market,
        "backtests": backtests,
        "trading": trading,
        "portfolio": portfolio,
        "analytics": analytics,
        "models": models,
        "strategies": strategies,
        "slots": slots,
        "screens": screens,
        "notifications": notifications,
        # The platform's own CLI (`trade2026 invoke`) runs the strategy runtime's after-close schedule.
        "python": sys.executable,
        "root": str(ROOT),
        "stateDir": str(ui_cloud.state_dir),
    }
    # When the scripted user goes through the UI in Chromium
    command = [node, str(UI_FLOW), json.dumps(settings)]
    result = subprocess.run(command, check=False, cwd=FRONTEND, capture_output=True, text=True, timeout=480)
    # Then every step passed, and left its screenshot
    output = f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}\nscreenshots: {screenshot_dir}"
    assert result.returncode == 0, output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    names = [step["step"] for step in report["steps"]]
    expected = expected_steps(settings)
    assert names == expected, output
    assert all(Path(step["screenshot"]).stat().st_size > 10_000 for step in report["steps"]), output
