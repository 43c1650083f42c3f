"""SweepFinished: the sweep's failure step announces the outcome for the owner; a bus failure never fails it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.dynamodb_tables import create_tables
from trade2026.adapters import research_store
from trade2026.adapters.events import EventPublishError
from trade2026.settings import research_settings

ROOT = Path(__file__).resolve().parents[3]
ENV = {"BACKTESTS_TABLE": "backtests", "SYMBOLS_TABLE": "symbols", "MARKET_STATE_TABLE": "market-state",
       "LAKE_BUCKET": "lake", "LAKE_DATABASE": "lake", "EVENT_BUS_NAME": "bus"}  # fmt: skip
SWEEP = "0123456789abcdef0123456789abcdef"


class Context:
    function_name = "trade2026-test-sweep-finish"
    memory_limit_in_mb = 3008
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:trade2026-test-sweep-finish"
    aws_request_id = "req"


@pytest.fixture
def finish(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, list[Any]]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    research_settings.cache_clear()
    with mock_aws():
        create_tables({"backtests": "BacktestsTable"})
        spec = importlib.util.spec_from_file_location(
            "sweep_tasks_app", ROOT / "functions/sweep_tasks/app.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # binds the backtests table from the environment
        research_store.create_run("sweep", SWEEP, "user-t", {"strategy": "x"}, status="RUNNING")
        published: list[Any] = []

        def publish(bus: str, source: str, detail_type: str, details: list[dict[str, Any]]) -> int:
            published.extend((bus, source, detail_type, d) for d in details)
            return len(details)

        monkeypatch.setattr(module.events, "publish", publish)
        yield module, published
    research_settings.cache_clear()


def test_a_failed_sweep_is_recorded_and_announced_to_its_owner(finish: tuple[ModuleType, list[Any]]):
    # Given the failure step's input (the execution's error), When the finish task runs
    module, published = finish
    error = {"Error": "States.TaskFailed", "Cause": "chunk 3: no bars for SP500"}
    result = module.finish_handler({"sweep_id": SWEEP, "error": error}, Context())
    # Then the sweep is FAILED with the cause, and one SweepFinished names the owner, the outcome and the cause
    assert result == {"sweep_id": SWEEP, "status": "FAILED"}
    run = research_store.get_run("sweep", SWEEP)
    assert run is not None and run.status == "FAILED"
    ((bus, source, kind, detail),) = published
    assert (bus, source, kind) == ("bus", "research", "SweepFinished")
    assert (detail["id"], detail["owner"], detail["status"]) == (f"sweep:{SWEEP}:FAILED", "user-t", "FAILED")
    assert "no bars for SP500" in detail["error"]


def test_a_bus_failure_is_logged_and_the_sweep_outcome_stands(
    finish: tuple[ModuleType, list[Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # Given the bus refusing the event
    module, _published = finish

    def refuse(*_args: Any) -> int:
        raise EventPublishError("1 SweepFinished events could not be published")

    monkeypatch.setattr(module.events, "publish", refuse)
    # When the failure step runs, Then it still answers, the outcome is stored, and the log says what was lost
    assert (
        module.finish_handler({"sweep_id": SWEEP, "error": {"Cause": "x"}}, Context())["status"] == "FAILED"
    )
    run = research_store.get_run("sweep", SWEEP)
    assert run is not None and run.status == "FAILED"
    assert any(
        r.levelname == "ERROR" and r.getMessage() == "SweepFinished not published" for r in caplog.records
    )
