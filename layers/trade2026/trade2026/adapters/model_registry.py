"""Model registry and training runs in DynamoDB (PynamoDB).

ModelRegistry table items:
    pk = "MODEL#<id>",       sk = "META"   a model version: family, version, stage, lineage, metrics, artifacts
    pk = "RUN#<run_id>",     sk = "META"   a training run: owner, request, status, step, trials, model, error
    pk = "FAMILY#<family>",  sk = "META"   version counter and the champion's id and OOS metric
    pk = "BATCH#<batch_id>", sk = "META"   a batch prediction job: owner, model, request, status, step, output
The `kind-index` GSI (kind, created_at) lists models, runs or batch jobs, newest first.
Stages: candidate (registered, not better than the champion), champion (deployed), archived (replaced).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

STAGES = ("candidate", "champion", "archived")


class KindIndex(GlobalSecondaryIndex["RegistryItem"]):
    class Meta:
        index_name = "kind-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RegistryItem(Model):
    class Meta:
        table_name = "model-registry"  # bound at start-up by bind_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    kind = UnicodeAttribute()  # model | run | family | batch
    created_at = UnicodeAttribute()
    owner = UnicodeAttribute(null=True)
    family = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    stage = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # runs, batch jobs: PENDING | RUNNING | SUCCEEDED | FAILED
    step = UnicodeAttribute(null=True)
    request = JSONAttribute(null=True)
    lineage = JSONAttribute(null=True)
    metrics = JSONAttribute(null=True)
    artifacts = JSONAttribute(null=True)
    progress = JSONAttribute(null=True)
    endpoint = UnicodeAttribute(null=True)
    model_id = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)
    batch_id = UnicodeAttribute(null=True)
    champion_id = UnicodeAttribute(null=True)
    champion_metric = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    kind_index = KindIndex()


def bind_table(name: str) -> None:
    RegistryItem.Meta.table_name = name


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _get(pk: str) -> RegistryItem | None:
    try:
        return RegistryItem.get(pk, "META")
    except RegistryItem.DoesNotExist:
        return None


# ------------------------------------------------------------------------------------------ runs
def create_run(run_id: str, owner: str, request: dict[str, Any]) -> RegistryItem:
    run = RegistryItem(
        f"RUN#{run_id}", "META", kind="run", created_at=now(), owner=owner, request=request,
        status="PENDING", step="queued", run_id=run_id, progress={},
    )  # fmt: skip
    run.save(condition=RegistryItem.pk.does_not_exist())
    return run


def get_run(run_id: str) -> RegistryItem | None:
    return _get(f"RUN#{run_id}")


def update_run(run_id: str, **fields: Any) -> None:
    actions = [getattr(RegistryItem, name).set(value) for name, value in fields.items()]
    RegistryItem(f"RUN#{run_id}", "META").update(actions=actions, condition=RegistryItem.pk.exists())


def list_runs(limit: int = 50) -> Iterator[RegistryItem]:
    return RegistryItem.kind_index.query("run", scan_index_forward=False, limit=limit)


# ------------------------------------------------------------------------------------ batch jobs
def create_batch(batch_id: str, owner: str, model_id: str, request: dict[str, Any]) -> RegistryItem:
    job = RegistryItem(
        f"BATCH#{batch_id}", "META", kind="batch", created_at=now(), owner=owner, request=request,
        status="PENDING", step="queued", batch_id=batch_id, model_id=model_id, progress={},
    )  # fmt: skip
    job.save(condition=RegistryItem.pk.does_not_exist())
    return job


def get_batch(batch_id: str) -> RegistryItem | None:
    return _get(f"BATCH#{batch_id}")


def update_batch(batch_id: str, **fields: Any) -> None:
    actions = [getattr(RegistryItem, name).set(value) for name, value in fields.items()]
    RegistryItem(f"BATCH#{batch_id}", "META").update(actions=actions, condition=RegistryItem.pk.exists())


# ---------------------------------------------------------------------------------------- models
def next_version(family: str) -> int:
    item = RegistryItem(f"FAMILY#{family}", "META")
    try:
        item.update(actions=[RegistryItem.version.add(1)], condition=RegistryItem.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        RegistryItem(
            f"FAMILY#{family}", "META", kind="family", created_at=now(), family=family, version=0
        ).save(condition=RegistryItem.pk.does_not_exist())
        item.update(actions=[RegistryItem.version.add(1)])
    return int(item.version)


def champion(family: str) -> tuple[str | None, float | None]:
    item = _get(f"FAMILY#{family}")
    if item is None:
        return None, None
    return item.champion_id, item.champion_metric


def create_model(model_id: str, **fields: Any) -> RegistryItem:
    model = RegistryItem(
        f"MODEL#{model_id}", "META", kind="model", created_at=now(), model_id=model_id, **fields
    )
    model.save(condition=RegistryItem.pk.does_not_exist())
    return model


def get_model(model_id: str) -> RegistryItem | None:
    return _get(f"MODEL#{model_id}")


def list_models(limit: int = 100) -> Iterator[RegistryItem]:
    return RegistryItem.kind_index.query("model", scan_index_forward=False, limit=limit)


def set_model(model_id: str, **fields: Any) -> None:
    actions = [getattr(RegistryItem, name).set(value) for name, value in fields.items()]
    RegistryItem(f"MODEL#{model_id}", "META").update(actions=actions, condition=RegistryItem.pk.exists())


def promote(family: str, model_id: str, metric: float, previous: str | None) -> bool:
    """Make model_id the family's champion if the champion is still `previous` (False if someone else won)."""
    item = RegistryItem(f"FAMILY#{family}", "META")
    condition = (
        RegistryItem.champion_id.does_not_exist()
        if previous is None
        else RegistryItem.champion_id == previous
    )
    try:
        item.update(
            actions=[RegistryItem.champion_id.set(model_id), RegistryItem.champion_metric.set(metric)],
            condition=condition,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    set_model(model_id, stage="champion")
    if previous is not None:
        set_model(previous, stage="archived", endpoint=None)
    return True
