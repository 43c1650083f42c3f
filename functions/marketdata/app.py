"""Market data API: symbols, bars (any interval, paginated, JSON/CSV/Parquet) and latest quotes."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from trade2026.adapters.lake import Lake
from trade2026.adapters.marketstate import all_symbols, bind_tables, get_latest, get_symbol
from trade2026.api import create_resolver, current_caller
from trade2026.errors import BadRequest, NotFound
from trade2026.observability import logger, metrics, tracer
from trade2026.services import marketdata_query as mq
from trade2026.settings import marketdata_settings

settings = marketdata_settings()
bind_tables(settings.symbols_table, settings.market_state_table)
lake = Lake(settings.lake_bucket, settings.lake_database)
app = create_resolver()


class DatasetInfo(BaseModel):
    bars: int | None = None  # None for streamed (minute) data, whose count is not kept
    first: str
    last: str


class SymbolInfo(BaseModel):
    symbol: str
    name: str
    asset_class: str
    source: str
    synthetic: bool
    datasets: dict[str, DatasetInfo]
    has_ohlc: bool
    has_volume: bool


class SymbolList(BaseModel):
    symbols: list[SymbolInfo]


class Bar(BaseModel):
    ts: str
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None
    vwap: float | None
    trades: int | None
    adj_close: float | None


class BarPage(BaseModel):
    symbol: str
    interval: str
    synthetic: bool
    count: int
    next_token: str | None
    bars: list[Bar]


class Quote(BaseModel):
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    ts: str
    venue: str


class QuoteView(BaseModel):
    symbol: str
    synthetic: bool
    quote: Quote | None
    last_bar: Bar | None


def _symbol_or_400(symbol: str):  # type: ignore[no-untyped-def]
    found = get_symbol(symbol)
    if found is None:
        raise BadRequest(f"Unknown symbol {symbol!r}: GET /v1/marketdata/symbols lists the known ones")
    return found


@app.get("/v1/marketdata/symbols", summary="Every symbol with the data stored for it")
def list_symbols() -> SymbolList:
    current_caller(app)
    return SymbolList(
        symbols=[
            SymbolInfo(
                symbol=s.symbol,
                name=s.name,
                asset_class=s.asset_class,
                source=s.source,
                synthetic=bool(s.synthetic),
                datasets=s.datasets or {},
                has_ohlc=bool(s.has_ohlc),
                has_volume=bool(s.has_volume),
            )
            for s in all_symbols()
        ]
    )


@app.get(
    "/v1/marketdata/bars",
    summary="Bars of a symbol at any interval (1m, 5m, 1h, 1d, 1w, 1mo ...), paginated",
    responses={
        200: {
            # format=csv answers text/csv and format=parquet application/vnd.apache.parquet (base64 over API
            # Gateway): declared in words, so generated clients keep one JSON type for the default format.
            "description": "A page of bars (JSON); with format=csv or format=parquet the same bars as a file",
            "content": {"application/json": {"model": BarPage}},
        }
    },
)
def get_bars(
    symbol: Annotated[str, Query(min_length=1, max_length=32)],
    interval: Annotated[str, Query(max_length=8)] = "1d",
    start: Annotated[str | None, Query(description="YYYY-MM-DD or ISO-8601 datetime (UTC)")] = None,
    end: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive) or ISO-8601 datetime (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
    next_token: Annotated[str | None, Query()] = None,
    format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
):
    current_caller(app)
    meta = _symbol_or_400(symbol)
    if limit > mq.MAX_PAGE[format]:
        raise BadRequest(f"limit for format={format} is at most {mq.MAX_PAGE[format]}")
    query = mq.BarsQuery(
        symbol=symbol,
        interval=interval,
        start_ns=mq.parse_time(start, end_of_day=False, default=mq.EARLIEST_NS),
        end_ns=mq.parse_time(end, end_of_day=True, default=mq.LATEST_NS),
        limit=limit,
        after_ns=mq.decode_token(next_token),
    )
    bars, token = mq.query_bars(query, meta.datasets or {}, lambda ds, a, b: lake.read_bars(ds, symbol, a, b))
    rows = mq.bar_rows(bars)
    headers = {"X-Next-Token": token} if token else {}
    if format == "csv":
        return Response(200, "text/csv", mq.to_csv(rows), headers=headers)
    if format == "parquet":
        # bytes: powertools base64-encodes them and sets isBase64Encoded, so API Gateway returns the file
        parquet = mq.to_parquet(bars, symbol)
        return Response(200, "application/vnd.apache.parquet", parquet, headers=headers, compress=False)
    page = BarPage(
        symbol=symbol,
        interval=bars.interval if len(bars) else interval,
        synthetic=bool(meta.synthetic),
        count=len(rows),
        next_token=token,
        bars=[Bar(**r) for r in rows],
    )
    return Response(200, content_types.APPLICATION_JSON, page.model_dump_json(), headers=headers)


@app.get("/v1/marketdata/quotes/<symbol>", summary="Latest quote and last final bar of a symbol")
def get_quote(symbol: Annotated[str, Path(min_length=1, max_length=32)]) -> QuoteView:
    current_caller(app)
    meta = get_symbol(symbol)
    if meta is None:
        raise NotFound(f"Unknown symbol {symbol!r}")
    latest = get_latest(symbol)
    quote = latest.quote
    last_bar = latest.last_bar
    return QuoteView(
        symbol=symbol,
        synthetic=bool(meta.synthetic),
        quote=Quote(**{**quote, "ts": mq.iso(int(quote["ts"]))}) if quote else None,
        last_bar=Bar(**mq.bar_row_from_event(last_bar)) if last_bar else None,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
