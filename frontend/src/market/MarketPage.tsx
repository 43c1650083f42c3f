import { useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import { ApiError } from "../api/errors";
import { useApi } from "../auth/AuthContext";
import { Badge, ErrorBox, Loading, Panel, SyntheticBadge } from "../ui/components";
import { formatInteger, formatUtc } from "../ui/format";
import {
  availableIntervals,
  barsQuery,
  fetchAllBars,
  hasFullOhlc,
  INTERVALS,
  intervalInfo,
  rangeProblem,
  resolveSelection,
  selectionFromSearch,
  selectionToSearch,
  switchInterval,
  toChartBars,
  type DateRange,
  type Interval,
  type MarketSymbol,
} from "./bars";
import { downloadBars } from "./download";
import { computeOverlay, type OverlayKind } from "./indicators";
import { PriceChart, type OverlayLine } from "./PriceChart";
import { QuotePanel } from "./QuotePanel";

const OVERLAY_COLORS: Record<OverlayKind, string> = { SMA: "#f59e0b", EMA: "#a78bfa" };

interface OverlayState {
  kind: OverlayKind;
  enabled: boolean;
  period: number;
}

function SymbolList({ symbols, selected, onSelect }: {
  symbols: MarketSymbol[];
  selected: string | null;
  onSelect: (symbol: MarketSymbol) => void;
}) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = symbols.filter(
    (item) => !needle || item.symbol.toLowerCase().includes(needle) || item.name.toLowerCase().includes(needle),
  );
  return (
    <Panel title="Symbols" actions={<span className="muted small">{symbols.length}</span>} className="symbols">
      <input
        type="search"
        placeholder="Search symbol or name"
        aria-label="Search symbols"
        value={filter}
        onChange={(event) => setFilter(event.target.value)}
      />
      <ul className="symbol-list" data-testid="symbol-list">
        {shown.map((item) => (
          <li key={item.symbol}>
            <button
              type="button"
              className={item.symbol === selected ? "symbol-item selected" : "symbol-item"}
              onClick={() => onSelect(item)}
              data-testid="symbol-item"
            >
              <span className="symbol-code">{item.symbol}</span>
              {item.synthetic && <SyntheticBadge />}
              <span className="symbol-name">{item.name}</span>
              <span className="symbol-meta">{item.asset_class} · {item.source}</span>
            </button>
          </li>
        ))}
        {shown.length === 0 && <li className="muted small">No symbol matches “{filter}”.</li>}
      </ul>
    </Panel>
  );
}

function RangeForm({ range, onApply }: { range: DateRange; onApply: (range: DateRange) => void }) {
  const [draft, setDraft] = useState(range);
  const problem = rangeProblem(draft);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!problem) {
      onApply(draft);
    }
  }
  return (
    <form className="range-form" onSubmit={submit} aria-label="Date range">
      <input type="date" aria-label="Start date" value={draft.start} onChange={(e) => setDraft({ ...draft, start: e.target.value })} />
      <span className="muted">→</span>
      <input type="date" aria-label="End date" value={draft.end} onChange={(e) => setDraft({ ...draft, end: e.target.value })} />
      <button type="submit" className="btn btn-small" disabled={problem !== null} title={problem ?? "Load this range"}>
        Apply
      </button>
    </form>
  );
}

function OverlayControls({ overlays, onChange }: { overlays: OverlayState[]; onChange: (next: OverlayState[]) => void }) {
  const update = (index: number, patch: Partial<OverlayState>) =>
    onChange(overlays.map((overlay, i) => (i === index ? { ...overlay, ...patch } : overlay)));
  return (
    <div className="overlays" title="Moving averages computed in your browser from the bars shown">
      {overlays.map((overlay, index) => (
        <label key={overlay.kind} className="overlay-toggle" style={{ color: OVERLAY_COLORS[overlay.kind] }}>
          <input type="checkbox" checked={overlay.enabled} onChange={(e) => update(index, { enabled: e.target.checked })} />
          {overlay.kind}
          <input
            type="number"
            min={1}
            max={500}
            className="period"
            aria-label={`${overlay.kind} period`}
            value={overlay.period}
            onChange={(e) => {
              const period = Number.parseInt(e.target.value, 10);
              if (Number.isInteger(period) && period >= 1 && period <= 500) {
                update(index, { period });
              }
            }}
          />
        </label>
      ))}
      <span className="muted small">computed client-side</span>
    </div>
  );
}

function DownloadButtons({ symbol, interval, range }: { symbol: string; interval: Interval; range: DateRange }) {
  const { client } = useApi();
  const [busy, setBusy] = useState<"csv" | "parquet" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [partial, setPartial] = useState(false);
  async function download(format: "csv" | "parquet") {
    setBusy(format);
    setError(null);
    setPartial(false);
    try {
      setPartial(!(await downloadBars(client, symbol, interval, range, format)));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }
  return (
    <>
      <div className="downloads">
        {(["csv", "parquet"] as const).map((format) => (
          <button
            key={format}
            type="button"
            className="btn btn-small"
            disabled={busy !== null}
            onClick={() => void download(format)}
            title={`Download the bars of this range as ${format.toUpperCase()} (from the API)`}
          >
            {busy === format ? "Downloading…" : `↓ ${format.toUpperCase()}`}
          </button>
        ))}
      </div>
      {partial && (
        <p className="toolbar-message muted small">The file holds the first 50,000 bars: narrow the range for the rest.</p>
      )}
      {error !== null && (
        <div className="toolbar-message" data-testid="download-error">
          <ErrorBox title="Download failed" error={error} />
        </div>
      )}
    </>
  );
}

export default function MarketPage() {
  const { $api, client } = useApi();
  const [search, setSearch] = useSearchParams();
  const selection = selectionFromSearch(search);
  const symbols = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const list = symbols.data?.symbols ?? [];
  const symbol = list.find((item) => item.symbol === selection.symbol) ?? list[0] ?? null;
  const resolved = symbol ? resolveSelection(selection, symbol) : null;
  const problem = resolved ? rangeProblem(resolved.range) : null;
  const [overlays, setOverlays] = useState<OverlayState[]>([
    { kind: "SMA", enabled: true, period: 20 },
    { kind: "EMA", enabled: false, period: 50 },
  ]);

  const series = useQuery({
    queryKey: ["bars", resolved],
    enabled: resolved !== null && problem === null,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => {
      const { symbol: code, interval, range } = resolved!;
      return fetchAllBars(async (nextToken) => {
        const query = barsQuery(code, interval, range, { nextToken });
        const { data } = await client.GET("/v1/marketdata/bars", { params: { query }, signal });
        if (!data) {
          throw new ApiError(0, "The API answered GET /v1/marketdata/bars with no body");
        }
        return data;
      });
    },
  });

  const chartBars = useMemo(() => toChartBars(series.data?.bars ?? []), [series.data]);
  const overlayLines = useMemo<OverlayLine[]>(() => {
    const closes = chartBars.map((bar) => bar.close);
    return overlays
      .filter((overlay) => overlay.enabled)
      .map((overlay) => ({
        label: `${overlay.kind} ${overlay.period} (client)`,
        color: OVERLAY_COLORS[overlay.kind],
        values: computeOverlay(overlay.kind, closes, overlay.period),
      }));
  }, [chartBars, overlays]);

  const navigate = (next: Parameters<typeof selectionToSearch>[0]) => setSearch(selectionToSearch(next));

  if (symbols.isPending) {
    return <Loading what="symbols" />;
  }
  if (symbols.isError) {
    return <ErrorBox title="Market data unavailable" error={symbols.error} onRetry={() => void symbols.refetch()} />;
  }
  if (!symbol) {
    return <Panel title="Market">No symbols are loaded yet (start with demo data: <code>make up</code>).</Panel>;
  }

  const unknown = selection.symbol !== null && selection.symbol !== symbol.symbol ? selection.symbol : null;
  const available = availableIntervals(symbol);
  const current = { ...selection, symbol: symbol.symbol, interval: resolved?.interval ?? null };
  const hasVolume = symbol.has_volume && chartBars.some((bar) => bar.volume !== null);
  const candles = symbol.has_ohlc && hasFullOhlc(chartBars);

  return (
    <div className="market">
      <SymbolList
        symbols={list}
        selected={symbol.symbol}
        onSelect={(item) => navigate({ symbol: item.symbol, interval: selection.interval, start: null, end: null })}
      />
      <section className="panel market-main">
        <header className="market-header">
          <div className="market-title">
            <h1 data-testid="market-symbol">{symbol.symbol}</h1>
            <span className="muted">{symbol.name}</span>
            <Badge>{symbol.asset_class}</Badge>
            {(symbol.synthetic || series.data?.synthetic) && <SyntheticBadge />}
          </div>
          <div className="intervals" role="group" aria-label="Interval">
            {INTERVALS.map((info) => (
              <button
                key={info.value}
                type="button"
                className={info.value === resolved?.interval ? "seg active" : "seg"}
                disabled={!available.includes(info.value)}
                title={available.includes(info.value) ? `${info.label} bars` : `No ${intervalInfo(info.value).dataset} data`}
                onClick={() => navigate(switchInterval(symbol, current, info.value))}
              >
                {info.label}
              </button>
            ))}
          </div>
        </header>
        {resolved && (
          <div className="toolbar">
            <RangeForm
              key={`${resolved.symbol}/${resolved.interval}/${resolved.range.start}/${resolved.range.end}`}
              range={resolved.range}
              onApply={(range) => navigate({ ...current, start: range.start, end: range.end })}
            />
            <OverlayControls overlays={overlays} onChange={setOverlays} />
            <DownloadButtons symbol={resolved.symbol} interval={resolved.interval} range={resolved.range} />
          </div>
        )}
        {unknown && (
          <p className="notice small" role="status">
            There is no symbol “{unknown}”: showing {symbol.symbol}.
          </p>
        )}
        {!resolved && <p className="muted">{symbol.symbol} has no bars to chart.</p>}
        {problem && <ErrorBox title="Cannot load bars" error={new Error(problem)} />}
        {series.isError && <ErrorBox title="Bars unavailable" error={series.error} onRetry={() => void series.refetch()} />}
        {series.isFetching && <Loading what="bars" />}
        {series.data && (
          <>
            <p className="muted small" data-testid="bars-summary">
              {formatInteger(chartBars.length)} bars
              {chartBars.length > 0 &&
                ` · ${formatUtc(series.data.bars[0]?.ts)} → ${formatUtc(series.data.bars[series.data.bars.length - 1]?.ts)}`}
              {series.data.truncated && " · truncated: narrow the range to see every bar"}
              {!candles && " · close prices only (line)"}
            </p>
            {chartBars.length === 0 ? (
              <p className="muted">No bars in this range.</p>
            ) : (
              <PriceChart
                bars={chartBars}
                ohlc={candles}
                showVolume={hasVolume}
                intraday={resolved !== null && intervalInfo(resolved.interval).dataset === "bars_1m"}
                overlays={overlayLines}
              />
            )}
          </>
        )}
      </section>
      <QuotePanel symbol={symbol.symbol} />
    </div>
  );
}
