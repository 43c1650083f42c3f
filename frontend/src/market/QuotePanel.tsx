import { useApi } from "../auth/AuthContext";
import { ErrorBox, Loading, Panel, SyntheticBadge } from "../ui/components";
import { formatInteger, formatPrice, formatUtc } from "../ui/format";

export function QuotePanel({ symbol }: { symbol: string }) {
  const { $api } = useApi();
  const answer = $api.useQuery(
    "get",
    "/v1/marketdata/quotes/{symbol}",
    { params: { path: { symbol } } },
    { refetchInterval: 15_000 },
  );
  const data = answer.data;
  const quote = data?.quote ?? null;
  const bar = data?.last_bar ?? null;
  return (
    <Panel title="Latest quote" className="quote-panel" actions={data?.synthetic ? <SyntheticBadge /> : undefined}>
      {answer.isPending && <Loading what="the quote" />}
      {answer.isError && <ErrorBox title="Quote unavailable" error={answer.error} onRetry={() => void answer.refetch()} />}
      {data && !quote && <p className="muted">No quote for {data.symbol} yet.</p>}
      {quote && (
        <dl className="facts facts-numeric" data-testid="quote">
          <dt>Bid</dt>
          <dd className="down">{formatPrice(quote.bid)} × {formatInteger(quote.bid_size)}</dd>
          <dt>Ask</dt>
          <dd className="up">{formatPrice(quote.ask)} × {formatInteger(quote.ask_size)}</dd>
          <dt>Spread</dt>
          <dd>{formatPrice(quote.ask - quote.bid)}</dd>
          <dt>Venue</dt>
          <dd>{quote.venue}</dd>
          <dt>Time</dt>
          <dd className="small">{formatUtc(quote.ts)}</dd>
        </dl>
      )}
      {bar && (
        <>
          <h3 className="subhead">Last bar</h3>
          <dl className="facts facts-numeric" data-testid="last-bar">
            <dt>Time</dt>
            <dd className="small">{formatUtc(bar.ts)}</dd>
            <dt>Open</dt>
            <dd>{formatPrice(bar.open)}</dd>
            <dt>High</dt>
            <dd>{formatPrice(bar.high)}</dd>
            <dt>Low</dt>
            <dd>{formatPrice(bar.low)}</dd>
            <dt>Close</dt>
            <dd>{formatPrice(bar.close)}</dd>
            <dt>Volume</dt>
            <dd>{formatInteger(bar.volume)}</dd>
          </dl>
        </>
      )}
    </Panel>
  );
}
