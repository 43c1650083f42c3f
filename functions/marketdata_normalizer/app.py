"""Kinesis -> normalizer: raw venue records to canonical ticks and minute bars (see services.ingest)."""

from __future__ import annotations

import base64
import time

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from trade2026.adapters import events, queues
from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import (
    DynamoMarketStateStore,
    SymbolCache,
    bind_tables,
    record_dataset_range,
    tick_hashes,
)
from trade2026.domain.marketdata import Bars
from trade2026.observability import logger, metrics, tracer
from trade2026.services.ingest import IngestPorts, Normalizer, StreamRecord
from trade2026.services.marketdata_query import iso
from trade2026.settings import marketdata_settings

settings = marketdata_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
lake = Lake(settings.lake_bucket, settings.lake_database)


def write_final_bars(final: dict[str, Bars]) -> None:
    lake.write_many("bars_1m", {symbol: bars.to_dict() for symbol, bars in final.items()})
    for symbol, bars in final.items():
        record_dataset_range(symbol, "bars_1m", iso(int(bars.start[0])), iso(int(bars.start[-1])))


normalizer = Normalizer(
    IngestPorts(
        store=DynamoMarketStateStore(),
        known_symbols=SymbolCache().get,
        write_final_bars=write_final_bars,
        publish_bar_closed=lambda bars: events.publish(
            settings.event_bus_name, "marketdata", "BarClosed", bars
        ),
        send_rejects=lambda rejects: queues.send_all(settings.dlq_url, rejects),
        hash_ticks=tick_hashes,
    ),
    lateness_ns=settings.bar_lateness_s * 1_000_000_000,
    future_tolerance_ns=settings.future_tolerance_s * 1_000_000_000,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=KinesisStreamEvent)
def handler(event: KinesisStreamEvent, context: LambdaContext) -> dict:
    records = [
        StreamRecord(
            sequence=r.kinesis.sequence_number,
            data=base64.b64decode(r.kinesis.data),
            partition_key=r.kinesis.partition_key,
            shard=r.event_id.split(":", 1)[0],
        )
        for r in event.records
    ]
    report = normalizer.process(records, now_ns=time.time_ns())
    for name in ("records", "ticks", "duplicates", "rejects", "late", "bars_closed"):
        metrics.add_metric(name=f"Ingest{name.title().replace('_', '')}", unit=MetricUnit.Count,
                           value=getattr(report, name))  # fmt: skip
    if report.failed_symbols:
        logger.warning("Symbols failed; Kinesis will redeliver from their first record", extra=vars(report))
    # Kinesis resumes from the lowest failed sequence number: later records come again and are deduplicated.
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in report.failed_sequences]}
