import { Badge, ErrorBox, Loading, Panel } from "../ui/components";
import { RequireGroup, TRADING_GROUPS } from "../auth/RequireGroup";
import { killState, useAccount, type AccountView } from "./account";

/** The account selector shown in page headers. */
export function AccountPicker({ state }: { state: ReturnType<typeof useAccount> }) {
  const { list, account, choose } = state;
  if (list.length <= 1) {
    return account ? (
      <span className="muted small" data-testid="account-name">
        {account.name} · <code>{account.id}</code>
      </span>
    ) : null;
  }
  return (
    <select aria-label="Account" value={account?.id ?? ""} onChange={(event) => choose(event.target.value)}>
      {list.map((item) => (
        <option key={item.id} value={item.id}>
          {item.name} ({item.id})
        </option>
      ))}
    </select>
  );
}

/** Kill switch badges of an account (its own and the global one). */
export function KillBadges({ account }: { account: AccountView }) {
  const own = killState(account.kill_switch);
  const global = killState(account.global_kill_switch);
  return (
    <span data-testid="kill-state">
      {own ? (
        <Badge tone="bad" title={`${own.reason ?? ""} · by ${own.by ?? "?"} at ${own.at ?? "?"}`}>
          kill switch engaged
        </Badge>
      ) : (
        <Badge tone="good">kill switch off</Badge>
      )}
      {global && (
        <Badge tone="bad" title={`${global.reason ?? ""} · by ${global.by ?? "?"}`}>
          global kill switch engaged
        </Badge>
      )}
    </span>
  );
}

/** What a page without an account shows: loading, the API's error, or how to get an account. */
export function NoAccount({ state, title }: { state: ReturnType<typeof useAccount>; title: string }) {
  if (state.accounts.isPending) {
    return <Loading what="your accounts" />;
  }
  if (state.accounts.isError) {
    return <ErrorBox title="Accounts unavailable" error={state.accounts.error} onRetry={() => void state.accounts.refetch()} />;
  }
  return (
    <Panel title={title}>
      <p className="muted" data-testid="no-account">
        You have no trading account.{" "}
        <RequireGroup groups={TRADING_GROUPS} fallback="Viewers only read: ask an admin for trader access.">
          Open one with POST /v1/accounts (`make up` opens one for the demo trader).
        </RequireGroup>
      </p>
    </Panel>
  );
}
