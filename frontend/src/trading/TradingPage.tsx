import { useSearchParams } from "react-router";

import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { Panel } from "../ui/components";
import { useAccount } from "./account";
import { AccountPicker, KillBadges, NoAccount } from "./AccountPicker";
import { Blotter } from "./Blotter";
import { OrderDetail } from "./OrderDetail";
import { OrderTicket } from "./OrderTicket";

export default function TradingPage() {
  const state = useAccount();
  const [search, setSearch] = useSearchParams();
  const orderId = search.get("order");
  const select = (id: string) => setSearch({ order: id });
  const account = state.account;
  if (!account) {
    return <NoAccount state={state} title="Trading" />;
  }
  return (
    <div className="trading">
      <div className="page-heading">
        <h1>Trading</h1>
        <AccountPicker state={state} />
        <KillBadges account={account} />
      </div>
      <div className="trading-grid">
        <RequireGroup
          groups={TRADING_GROUPS}
          fallback={
            <Panel title="Order ticket">
              <p className="muted" data-testid="read-only-note">
                Read-only: your groups do not allow trading.
              </p>
            </Panel>
          }
        >
          <Panel title="Order ticket" className="ticket-panel">
            <OrderTicket accountId={account.id} onSubmitted={(order) => select(order.id)} />
          </Panel>
        </RequireGroup>
        <div className="trading-main">
          <Blotter accountId={account.id} selected={orderId} onSelect={select} />
          {orderId ? (
            <OrderDetail key={orderId} accountId={account.id} orderId={orderId} />
          ) : (
            <Panel title="Order">
              <p className="muted">Select an order in the blotter to see its history, or cancel and replace it while it is open.</p>
            </Panel>
          )}
        </div>
      </div>
    </div>
  );
}
