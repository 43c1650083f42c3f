"""Online feature store: on each `BarClosed` event, recompute the symbol's latest feature vectors (daily sets).

The vector is computed from the lake's bars up to the event's bar (point in time), and written only if it is
newer than the stored one, so redelivered and out-of-order events are harmless.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import feature_store
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import bind_tables
from trade2026.domain.ml.features import FEATURE_SETS
from trade2026.observability import logger, metrics, tracer
from trade2026.services import ml
from trade2026.services.marketdata_query import iso
from trade2026.services.ml_common import ml_settings
from trade2026.services.ml_dataset import lake_bar_reader

settings = ml_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
feature_store.bind_table(settings.feature_table)
lake = Lake(settings.lake_bucket, settings.lake_database)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    bar = event.detail
    symbol = str(bar["symbol"])
    read = lake_bar_reader(lake, iso(int(bar["start"])))
    updated = [name for name in FEATURE_SETS if ml.refresh_online(name, symbol, read, bar.get("id"))]
    metrics.add_metric(name="FeatureVectorsUpdated", unit=MetricUnit.Count, value=len(updated))
    return {"symbol": symbol, "updated": updated}
