"""Monte Carlo runs: records in the simulations table (PynamoDB), inputs and results in the lake.

Simulations table items:
    pk = "SIM#<id>", sk = "META"        a run: owner, request, status, task counts, summary, error
    pk = "SIM#<id>", sk = "TASK#<n>"    written once per finished task (conditional): progress never double counts
The `owner-index` GSI (owner, created_at) lists a user's runs.
Lake (through research_store, prefix research/): simulations/<id>/input.npz (the resolved model inputs),
simulations/<id>/task-<n>.npz (per-path results of a task), simulations/<id>/result.json.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from trade2026.adapters.research_store import get_arrays, get_json, put_arrays, put_json

__all__ = [
    "SimulationSettings",
    "bind_table",
    "create_run",
    "get_arrays",
    "get_json",
    "get_run",
    "list_runs",
    "put_arrays",
    "put_json",
    "record_task_done",
    "set_status",
    "simulation_settings",
]  # fmt: skip


class SimulationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    simulations_table: str = Field(alias="SIMULATIONS_TABLE")
    backtests_table: str = Field("", alias="BACKTESTS_TABLE")
    symbols_table: str = Field("", alias="SYMBOLS_TABLE")
    market_state_table: str = Field("", alias="MARKET_STATE_TABLE")
    lake_bucket: str = Field(alias="LAKE_BUCKET")
    lake_database: str = Field("", alias="LAKE_DATABASE")
    state_machine_arn: str = Field("", alias="SIMULATION_STATE_MACHINE_ARN")
    sync_budget: int = Field(30_000_000, alias="SIMULATION_SYNC_BUDGET")  # paths x days run in the API call


@cache
def simulation_settings() -> SimulationSettings:
    import os

    return SimulationSettings.model_validate(dict(os.environ))


class OwnerIndex(GlobalSecondaryIndex["SimulationModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SimulationModel(Model):
    class Meta:
        table_name = "simulations"  # bound at start-up by bind_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    owner = UnicodeAttribute()
    created_at = UnicodeAttribute()
    status = UnicodeAttribute(default="SUCCEEDED")  # PENDING | RUNNING | SUCCEEDED | FAILED
    request = JSONAttribute()
    summary = JSONAttribute(null=True)
    tasks_total = NumberAttribute(default=0)
    tasks_done = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    owner_index = OwnerIndex()


class TaskModel(Model):
    class Meta:
        table_name = "simulations"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    paths = NumberAttribute()


def bind_table(name: str) -> None:
    SimulationModel.Meta.table_name = name
    TaskModel.Meta.table_name = name


def create_run(run_id: str, owner: str, request: dict[str, Any], **fields: Any) -> SimulationModel:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    run = SimulationModel(f"SIM#{run_id}", "META", owner=owner, created_at=created, request=request, **fields)
    run.save(condition=SimulationModel.pk.does_not_exist())  # fresh uuids: a clash is a bug, not an overwrite
    return run


def get_run(run_id: str) -> SimulationModel | None:
    try:
        return SimulationModel.get(f"SIM#{run_id}", "META")
    except SimulationModel.DoesNotExist:
        return None


def list_runs(owner: str, limit: int = 50) -> Iterator[SimulationModel]:
    return SimulationModel.owner_index.query(owner, scan_index_forward=False, limit=limit)


def set_status(run: SimulationModel, status: str, **fields: Any) -> None:
    actions: list[Any] = [SimulationModel.status.set(status)]
    actions += [getattr(SimulationModel, name).set(value) for name, value in fields.items()]
    run.update(actions=actions)


def record_task_done(run_id: str, task: int, paths: int) -> bool:
    """Count a finished task once, however often it is retried; False when it was already counted."""
    try:
        TaskModel(f"SIM#{run_id}", f"TASK#{task:06d}", paths=paths).save(
            condition=TaskModel.pk.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    SimulationModel(f"SIM#{run_id}", "META").update(actions=[SimulationModel.tasks_done.add(1)])
    return True
