import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";

import { useApi } from "../auth/AuthContext";
import { ErrorBox, Loading, Panel } from "../ui/components";
import { formatUtc } from "../ui/format";
import { BacktestForm } from "./BacktestForm";
import { defaultForm, formFromRequest, withParams, withStrategy, type FormState } from "./form";
import { paramText } from "./params";
import { RunHistory } from "./RunHistory";
import { normalizeStrategies, type StrategyInfo } from "./strategies";
import { SweepView } from "./SweepView";
import { Tearsheet } from "./Tearsheet";
import type {
  BacktestRequest,
  BacktestResult,
  ParamValue,
  RunInfo,
  RunList,
  SweepRequest,
  WalkForwardRequest,
  WalkForwardResult,
} from "./types";
import { openRun, TABS, viewFromSearch, viewToSearch, type PageView, type Tab } from "./view";
import { WalkForwardView } from "./WalkForwardView";

/**
 * The requests sent from this browser tab, by run id: the API's run records keep only the strategy and
 * symbols, so this is how a tearsheet names its parameters and a sweep's winner gets its costs back.
 */
const submitted = new Map<string, BacktestRequest | SweepRequest>();

const PREFERRED_STRATEGY = "ma_crossover";
const PREFERRED_SYMBOL = "SP500";

function RunHeading({ id, run }: { id: string; run: RunInfo | undefined }) {
  const request = submitted.get(id) as BacktestRequest | undefined;
  const strategy = request?.strategy ?? run?.strategy;
  const symbols = request?.symbols ?? run?.symbols ?? [];
  const params = Object.entries(request?.params ?? {});
  return (
    <>
      <h1 data-testid="tearsheet-title">{strategy ?? "Backtest"}</h1>
      <span className="muted">{symbols.join(", ")}</span>
      {params.length > 0 && (
        <span className="mono small">{params.map(([name, value]) => `${name}=${paramText(value)}`).join(" · ")}</span>
      )}
      {request && (
        <span className="muted small">
          {request.fees_bps ?? 0} bps fees · {request.slippage_bps ?? 0} bps slippage · fill {request.fill ?? "close"} ·{" "}
          {request.direction ?? "long_only"}
        </span>
      )}
      {run && <span className="muted small">{formatUtc(run.created_at)}</span>}
      <code className="muted small tearsheet-id">{id}</code>
    </>
  );
}

function BacktestResultView({ id, runs }: { id: string; runs: RunInfo[] }) {
  const { $api } = useApi();
  const result = $api.useQuery(
    "get",
    "/v1/backtests/{backtest_id}",
    { params: { path: { backtest_id: id } } },
    { staleTime: Number.POSITIVE_INFINITY },
  );
  if (result.isPending) {
    return <Loading what="the tearsheet" />;
  }
  if (result.isError) {
    return <ErrorBox title="Backtest unavailable" error={result.error} onRetry={() => void result.refetch()} />;
  }
  const body = result.data as unknown as BacktestResult;
  return <Tearsheet result={body} heading={<RunHeading id={id} run={runs.find((run) => run.id === id)} />} />;
}

const PLACEHOLDERS: Record<Tab, [title: string, text: string]> = {
  backtest: [
    "Tearsheet",
    "Configure a strategy on the left and run it: the tearsheet appears here. Earlier runs are listed with your runs.",
  ],
  sweep: [
    "Sweep",
    "Give one or more parameters a list of values and start the sweep: every combination is backtested in parallel chunks, then ranked, with its deflated Sharpe ratio and probability of backtest overfitting.",
  ],
  walkforward: [
    "Walk-forward",
    "Give parameters candidate values and set the fold lengths: each fold picks the candidate with the best in-sample Sharpe ratio and trades it on the next, unseen, bars. The test windows are stitched into one out-of-sample curve (not stored: it stays until you leave the page).",
  ],
};

function Placeholder({ tab }: { tab: Tab }) {
  const [title, text] = PLACEHOLDERS[tab];
  return (
    <Panel title={title}>
      <p className="muted">{text}</p>
    </Panel>
  );
}

export default function BacktestsPage() {
  const { $api } = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const view = viewFromSearch(search);
  const navigate = (next: PageView) => setSearch(viewToSearch(next));

  const catalogue = $api.useQuery("get", "/v1/backtests/strategies", {}, { staleTime: 10 * 60_000 });
  const strategies = useMemo<StrategyInfo[] | null>(
    () => (catalogue.data ? normalizeStrategies(catalogue.data) : null),
    [catalogue.data],
  );
  const symbolsQuery = $api.useQuery("get", "/v1/marketdata/symbols", {}, { staleTime: 5 * 60_000 });
  const symbols = symbolsQuery.data?.symbols ?? [];
  const runsQuery = $api.useQuery("get", "/v1/backtests");
  const runs = (runsQuery.data as unknown as RunList | undefined)?.runs ?? [];

  const [form, setForm] = useState<FormState>(defaultForm);
  // Defaults once the catalogue and the symbols are known.
  useEffect(() => {
    if (strategies && strategies.length > 0 && form.strategy === "") {
      const chosen = strategies.find((item) => item.name === PREFERRED_STRATEGY) ?? strategies[0]!;
      setForm((current) => withStrategy(current, chosen, chosen.name));
    }
  }, [strategies, form.strategy]);
  useEffect(() => {
    if (symbols.length > 0 && form.symbols.length === 0) {
      const chosen = symbols.find((item) => item.symbol === PREFERRED_SYMBOL) ?? symbols[0]!;
      setForm((current) => (current.symbols.length ? current : { ...current, symbols: [chosen.symbol] }));
    }
  }, [symbols, form.symbols.length]);

  const refreshRuns = () => void queryClient.invalidateQueries({ queryKey: ["get", "/v1/backtests"] });
  const backtest = $api.useMutation("post", "/v1/backtests");
  const sweep = $api.useMutation("post", "/v1/backtests/sweeps");
  const walkForward = $api.useMutation("post", "/v1/backtests/walkforward");
  // The API does not store walk-forward analyses: the last one is kept with the request that made it.
  const [walkForwardRun, setWalkForwardRun] = useState<{ request: WalkForwardRequest; result: WalkForwardResult } | null>(null);
  const mutation = { backtest, sweep, walkforward: walkForward }[view.tab];
  /** An edit makes the last refusal stale: its message goes. */
  function changeForm(next: FormState) {
    setForm(next);
    // Only a settled refusal: resetting a running mutation would drop its result.
    for (const action of [backtest, sweep, walkForward]) {
      if (action.isError) {
        action.reset();
      }
    }
  }

  function runBacktest(request: BacktestRequest) {
    backtest.mutate(
      { body: request },
      {
        onSuccess: (data) => {
          const id = String((data as { id?: unknown }).id);
          submitted.set(id, request);
          const key = $api.queryOptions("get", "/v1/backtests/{backtest_id}", { params: { path: { backtest_id: id } } }).queryKey;
          queryClient.setQueryData(key, data);
          navigate({ ...view, tab: "backtest", run: id });
          refreshRuns();
        },
      },
    );
  }

  function startSweep(request: SweepRequest) {
    sweep.mutate(
      { body: request },
      {
        onSuccess: (data) => {
          submitted.set(data.id, request);
          navigate({ ...view, tab: "sweep", sweep: data.id });
          refreshRuns();
        },
      },
    );
  }

  function runWalkForward(request: WalkForwardRequest) {
    walkForward.mutate(
      { body: request },
      { onSuccess: (data) => setWalkForwardRun({ request, result: data as unknown as WalkForwardResult }) },
    );
  }

  /** A sweep's configuration into the backtest form (with the sweep's settings when this tab started it). */
  function backtestConfiguration(run: RunInfo, params: Record<string, ParamValue>) {
    const request = submitted.get(run.id);
    const strategy = strategies?.find((item) => item.name === run.strategy) ?? null;
    const base = request ? formFromRequest(request, form) : { ...withStrategy(form, strategy, run.strategy), symbols: run.symbols };
    changeForm(withParams(base, params));
    navigate({ ...view, tab: "backtest" });
  }

  const selected = view.tab === "sweep" ? view.sweep : view.run;
  return (
    <div className="backtests">
      <section className="panel backtests-config">
        <header className="panel-header">
          <div className="intervals" role="tablist" aria-label="Mode">
            {TABS.map((tab) => (
              <button
                key={tab.value}
                type="button"
                role="tab"
                aria-selected={view.tab === tab.value}
                className={view.tab === tab.value ? "seg active" : "seg"}
                onClick={() => navigate({ ...view, tab: tab.value })}
              >
                {tab.label}
              </button>
            ))}
          </div>
        </header>
        <div className="panel-body">
          {symbolsQuery.isError && <ErrorBox title="Symbols unavailable" error={symbolsQuery.error} />}
          <BacktestForm
            tab={view.tab}
            form={form}
            onChange={changeForm}
            strategies={strategies}
            strategiesError={catalogue.isError ? catalogue.error : null}
            symbols={symbols}
            busy={mutation.isPending}
            error={mutation.error}
            onRunBacktest={runBacktest}
            onStartSweep={startSweep}
            onRunWalkForward={runWalkForward}
          />
        </div>
      </section>
      <div className="backtests-main">
        {view.tab === "backtest" && backtest.isPending && <Loading what="the backtest" />}
        {view.tab === "backtest" &&
          (view.run ? <BacktestResultView key={view.run} id={view.run} runs={runs} /> : <Placeholder tab="backtest" />)}
        {view.tab === "sweep" &&
          (view.sweep ? (
            <SweepView key={view.sweep} sweepId={view.sweep} onBacktest={backtestConfiguration} />
          ) : (
            <Placeholder tab="sweep" />
          ))}
        {view.tab === "walkforward" && walkForward.isPending && <Loading what="the walk-forward analysis" />}
        {view.tab === "walkforward" &&
          (walkForwardRun ? (
            <WalkForwardView request={walkForwardRun.request} result={walkForwardRun.result} />
          ) : (
            <Placeholder tab="walkforward" />
          ))}
      </div>
      <RunHistory selected={selected} onOpen={(run) => navigate(openRun(view, run))} />
    </div>
  );
}
