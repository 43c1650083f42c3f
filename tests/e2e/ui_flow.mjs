// The web UI in a real browser (system Chromium driven by playwright-core), against a running local cloud.
// Run by tests/e2e/test_ui.py: node ui_flow.mjs '<json settings>'; exits non-zero on the first failed check.
//
// Settings: baseUrl, frontendDir (where playwright-core is installed), logins (the demo-logins.json
// entries), screenshotDir, market (true once the market data API is deployed), backtests (true once the
// research API is deployed; needs the market data too), trading (the orders/ledger API), portfolio (the
// optimizer; needs SP500 and NASDAQ bars), slots (deployment slots; needs backtests and trading),
// notifications, screens (saved screens; with analytics); python, root and stateDir run the platform's own
// CLI (`trade2026 invoke`) where the flow needs the strategy runtime's after-close schedule.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const settings = JSON.parse(process.argv[2] ?? "{}");
const require = createRequire(path.join(settings.frontendDir, "package.json"));
const { chromium } = require("playwright-core");

const TIMEOUT_MS = 20_000;
const steps = [];

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

function login(group) {
  const entry = settings.logins.find((item) => item.group === group);
  check(entry, `a demo login for group ${group}`);
  return entry;
}

/** An unsigned token with the given payload: the browser cannot tell it from a real one, the API can. */
function forgedToken(payload) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "RS256", kid: "forged" })}.${encode(payload)}.c2lnbmF0dXJl`;
}

async function step(name, page, body) {
  const started = Date.now();
  await body();
  await page.evaluate(() => window.scrollTo(0, 0)); // else the sticky top bar lands mid-way in full-page shots
  const file = path.join(settings.screenshotDir, `${String(steps.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  steps.push({ step: name, ms: Date.now() - started, screenshot: file });
  console.log(`ok ${steps.length} ${name} (${Date.now() - started} ms)`);
}

async function signIn(page, username, password) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function main() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "trade2026-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // Nothing but loopback resolves, whatever a page asks for.
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
      "--no-proxy-server",
    ],
  });
  const offLoopback = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") {
      return route.continue();
    }
    offLoopback.push(url.href);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT_MS);
  const pageErrors = [];
  const consoleErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") {
      consoleErrors.push(message.text());
    }
  });
  const base = settings.baseUrl;
  const trader = login("trader");
  const viewer = login("viewer");

  try {
    await step("login-page", page, async () => {
      await page.goto(`${base}/`);
      await page.waitForURL(`${base}/login`);
      await page.getByRole("button", { name: "Sign in" }).waitFor();
    });

    await step("login-wrong-password", page, async () => {
      await signIn(page, trader.username, `${trader.password}-wrong`);
      const error = page.getByTestId("error");
      await error.waitFor();
      const text = await error.innerText();
      check(/Incorrect username or password/i.test(text), `Cognito's message is shown, got: ${text}`);
      // The browser logs the rejected InitiateAuth (HTTP 400) itself: expected here, not elsewhere.
      check(consoleErrors.every((line) => line.includes("status of 400")), `only the 400 was logged: ${consoleErrors}`);
      consoleErrors.length = 0;
    });

    await step("dashboard-trader", page, async () => {
      await signIn(page, trader.username, trader.password);
      await page.waitForURL(`${base}/`);
      const rows = page.getByTestId("health-table").locator("tbody tr");
      await rows.first().waitFor();
      const health = await (await fetch(`${base}/v1/health`)).json();
      check(health.resources.length > 0, "the API reports resources");
      check((await rows.count()) === health.resources.length, `one row per resource (${health.resources.length})`);
      const unhealthy = await page.getByTestId("health-table").locator('tbody tr[data-healthy="false"]').count();
      check(unhealthy === 0, `every resource healthy in the table, ${unhealthy} are not`);
      check((await page.getByTestId("health-status").innerText()) === health.status, "the report's status is shown");
      await page.getByTestId("identity-username").getByText(trader.username).waitFor();
      check((await page.getByTestId("identity-groups").innerText()).includes("trader"), "/v1/me lists the trader group");
      check((await page.getByTestId("user-name").innerText()) === trader.username, "the header names the user");
      check((await page.getByTestId("role-access").innerText()) === "trading enabled", "a trader may trade");
    });

    await step("reload-keeps-session", page, async () => {
      await page.reload();
      await page.getByTestId("identity-username").getByText(trader.username).waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem("trade2026.idToken"));
      check(typeof stored === "string" && stored.split(".").length === 3, "the ID token is in sessionStorage");
    });

    if (settings.market) {
      await marketSteps(page, base);
    }

    if (settings.models) {
      await startTraining(page); // runs while the next steps do: checked at the end
    }

    if (settings.backtests) {
      await backtestSteps(page, base, consoleErrors);
    }

    if (settings.trading) {
      await tradingSteps(page, base, consoleErrors);
    }

    if (settings.portfolio) {
      await portfolioSteps(page);
    }

    if (settings.analytics) {
      await analyticsSteps(page, consoleErrors);
    }

    if (settings.strategies) {
      await strategySteps(page, consoleErrors);
    }

    if (settings.slots) {
      await slotSteps(page, consoleErrors);
    }

    if (settings.notifications) {
      await notificationSteps(page, consoleErrors);
    }

    if (settings.models) {
      await modelSteps(page);
    }

    await step("signed-out", page, async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/login`);
      const stored = await page.evaluate(() => sessionStorage.getItem("trade2026.idToken"));
      check(stored === null, "signing out removes the token");
      await page.goto(`${base}/`);
      await page.waitForURL(`${base}/login`);
    });

    if (settings.trading) {
      await adminSteps(page, base);
    }

    await step("dashboard-viewer", page, async () => {
      await signIn(page, viewer.username, viewer.password);
      await page.waitForURL(`${base}/`);
      await page.getByTestId("identity-username").getByText(viewer.username).waitFor();
      const groups = await page.getByTestId("identity-groups").innerText();
      check(groups.trim() === "viewer", `the viewer's groups are exactly viewer, got ${groups}`);
      check((await page.getByTestId("user-groups").innerText()) === "viewer", "the header shows the viewer group");
      check((await page.getByTestId("role-access").innerText()) === "read-only", "a viewer is read-only");
      check((await page.getByText("trading enabled").count()) === 0, "no trading affordance for a viewer");
    });

    if (settings.trading) {
      await step("trading-viewer", page, async () => {
        await page.getByRole("link", { name: "Trading" }).click();
        await page.waitForURL(/\/trading/);
        await page.getByTestId("no-account").waitFor();
        check((await page.getByRole("button", { name: /Submit/ }).count()) === 0, "no order ticket for a viewer");
        // The API refuses a viewer's order anyway (the UI only hides the controls).
        const refused = await page.evaluate(async (accountId) => {
          const token = sessionStorage.getItem("trade2026.idToken");
          const response = await fetch(`/v1/accounts/${accountId}/orders`, {
            method: "POST",
            headers: { Authorization: token, "Content-Type": "application/json" },
            body: JSON.stringify({ symbol: "SP500", side: "buy", quantity: 1, order_type: "market" }),
          });
          return response.status;
        }, settings.accountId);
        check(refused === 403, `the API refuses a viewer's order (403): HTTP ${refused}`);
        await page.getByRole("link", { name: "Risk" }).click();
        await page.getByTestId("no-account").waitFor();
        check((await page.getByRole("button", { name: /kill switch/i }).count()) === 0, "no kill switch control for a viewer");
        consoleErrors.length = 0; // the refused POST above is logged by the browser
      });
      await page.getByRole("link", { name: "Dashboard" }).click();
      await page.waitForURL(`${base}/`);
    }

    if (settings.backtests) {
      await step("backtests-viewer", page, async () => {
        await page.getByRole("link", { name: "Backtests" }).click();
        await page.waitForURL(/\/backtests/);
        await page.getByTestId("read-only-note").waitFor();
        // The API lists each user's own runs: the viewer has none (and cannot start any).
        await page.getByTestId("run-history-empty").waitFor();
        check((await page.getByRole("button", { name: "Run backtest" }).count()) === 0, "no Run button for a viewer");
        await page.getByRole("tab", { name: "Sweep" }).click();
        await page.getByTestId("read-only-note").waitFor();
        check((await page.getByRole("button", { name: "Start sweep" }).count()) === 0, "no Start sweep for a viewer");
      });
      // The token steps below sign in again and expect to land where they were signed out: the dashboard.
      await page.getByRole("link", { name: "Dashboard" }).click();
      await page.waitForURL(`${base}/`);
    }

    if (settings.slots) {
      await step("strategies-viewer", page, async () => {
        // A viewer reads the library; slots belong to trading accounts, and no deploy control is offered.
        await page.getByRole("link", { name: "Strategies" }).click();
        await page.waitForURL(/\/strategies/);
        await page.getByTestId("strategy-library").getByText("e2e MA crossover").click();
        await versionCard(page, 2).waitFor();
        for (const name of ["Move v1", "Move v2", "Link", "Add version"]) {
          check((await page.getByRole("button", { name, exact: true }).count()) === 0, `no ${name} control for a viewer`);
        }
        await page.getByRole("tab", { name: "Deployment slots" }).click();
        await page.getByTestId("no-account").waitFor();
        await page.getByTestId("slots-read-only").waitFor();
        for (const name of ["Deploy", "Hot-swap", /^Roll back/, "Set shadow", "Stop shadow"]) {
          check((await page.getByRole("button", { name, exact: typeof name === "string" }).count()) === 0, `no ${name} control for a viewer`);
        }
        // The API refuses the viewer anyway: the trader's slot is not theirs (reported as missing, never as forbidden).
        const swap = await apiSend(page, "PUT", `/v1/accounts/${settings.accountId}/slots/main`, { strategy_id: "0123456789ab", version: 1 });
        const back = await apiSend(page, "POST", `/v1/accounts/${settings.accountId}/slots/main/rollback`, null);
        check(swap.status === 404 && back.status === 404, `the API refuses a viewer's deploy and rollback: ${swap.status} ${back.status}`);
        expectLogged(consoleErrors, 404);
      });
      await page.getByRole("link", { name: "Dashboard" }).click();
      await page.waitForURL(`${base}/`);
    }

    if (settings.models) {
      await modelViewerSteps(page, consoleErrors);
    }

    await step("rejected-token-back-to-login", page, async () => {
      // A token the browser accepts (well-formed, not expired) but the API's authorizer rejects.
      const now = Math.floor(Date.now() / 1000);
      const token = forgedToken({ sub: "x", "cognito:username": "mallory", "cognito:groups": ["admin"], exp: now + 3600 });
      await page.evaluate((value) => sessionStorage.setItem("trade2026.idToken", value), token);
      await page.reload();
      await page.waitForURL(`${base}/login`);
      const notice = await page.getByTestId("login-notice").innerText();
      check(/session has expired/i.test(notice), `the login page says why, got: ${notice}`);
      check((await page.evaluate(() => sessionStorage.getItem("trade2026.idToken"))) === null, "the bad token is gone");
      // The browser logs the 401 answers to the forged token itself.
      check(consoleErrors.every((line) => line.includes("status of 401")), `only 401s were logged: ${consoleErrors}`);
      consoleErrors.length = 0;
    });

    await step("expiring-token-back-to-login", page, async () => {
      // Signed in for real, then the token's expiry arrives while the page is open.
      await signIn(page, viewer.username, viewer.password);
      await page.waitForURL(`${base}/`);
      const now = Math.floor(Date.now() / 1000);
      const soon = forgedToken({ sub: "x", "cognito:username": viewer.username, "cognito:groups": ["viewer"], exp: now + 36 });
      await page.evaluate((value) => sessionStorage.setItem("trade2026.idToken", value), soon);
      await page.goto(`${base}/market-does-not-matter`);
      await page.waitForURL(`${base}/login`, { timeout: 20_000 });
      check(/session has expired/i.test(await page.getByTestId("login-notice").innerText()), "expiry is explained");
      consoleErrors.length = 0; // requests cut off by the expiry may log 401s
    });

    check(pageErrors.length === 0, `no uncaught errors in the page: ${pageErrors.join(" | ")}`);
    check(consoleErrors.length === 0, `no console errors: ${consoleErrors.join(" | ")}`);
    check(offLoopback.length === 0, `the UI requested only loopback URLs, also: ${offLoopback.join(", ")}`);
  } catch (error) {
    const file = path.join(settings.screenshotDir, "failure.png");
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    console.error(`FAILED after ${steps.length} steps: ${error.stack ?? error}`);
    console.error(`page: ${page.url()}; screenshot: ${file}`);
    if (pageErrors.length) console.error(`page errors: ${pageErrors.join(" | ")}`);
    if (consoleErrors.length) console.error(`console errors: ${consoleErrors.join(" | ")}`);
    process.exitCode = 1;
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ steps }));
}

/** The Market page (runs once the market data API is deployed and demo bars are loaded). */
async function marketSteps(page, base) {
  await step("market-sp500", page, async () => {
    await page.getByRole("link", { name: "Market" }).click();
    await page.waitForURL(/\/market/);
    await page.getByTestId("symbol-item").filter({ hasText: "SP500" }).click();
    await page.waitForURL(/symbol=SP500/);
    await page.getByTestId("market-symbol").getByText("SP500", { exact: true }).waitFor(); // rendered after the URL
    check((await page.getByTestId("market-symbol").innerText()) === "SP500", "SP500 is selected");
    const summary = page.getByTestId("bars-summary");
    await summary.waitFor();
    await page.getByTestId("price-chart").locator("canvas").first().waitFor();
    // The chart shows every bar the API has for the default range (the last two years of data).
    const shown = Number((await summary.innerText()).match(/^([\d,]+) bars/)[1].replace(/,/g, ""));
    const expected = await page.evaluate(async () => {
      const token = sessionStorage.getItem("trade2026.idToken");
      const symbols = await (await fetch("/v1/marketdata/symbols", { headers: { Authorization: token } })).json();
      const last = symbols.symbols.find((item) => item.symbol === "SP500").datasets.bars_1d.last.slice(0, 10);
      const first = new Date(Date.parse(`${last}T00:00:00Z`) - 730 * 86_400_000).toISOString().slice(0, 10);
      const query = new URLSearchParams({ symbol: "SP500", interval: "1d", start: first, end: last, limit: "10000" });
      const page = await (await fetch(`/v1/marketdata/bars?${query}`, { headers: { Authorization: token } })).json();
      return page.count;
    });
    check(shown === expected && shown > 400, `the chart has the API's ${expected} bars, shows ${shown}`);
    check((await page.locator(".market-title .badge-warn").count()) === 0, "real data carries no synthetic badge");
    await page.getByTestId("last-bar").waitFor();
  });

  await step("market-weekly-ema", page, async () => {
    await page.getByRole("button", { name: "1W" }).click();
    await page.waitForURL(/interval=1w/);
    await page.getByLabel("EMA period").fill("10");
    await page.locator(".overlay-toggle", { hasText: "EMA" }).locator('input[type="checkbox"]').check();
    await page.getByTestId("bars-summary").waitFor();
    await page.getByTestId("price-chart").locator("canvas").first().waitFor();
  });

  await step("market-download-csv", page, async () => {
    // The file arrives, or the UI shows the API's error: fail with that message rather than a timeout.
    const failed = page.getByTestId("download-error").waitFor().then(async () => {
      throw new Error(`the UI reports: ${await page.getByTestId("download-error").innerText()}`);
    });
    const [download] = await Promise.all([
      Promise.race([page.waitForEvent("download"), failed]),
      page.getByRole("button", { name: "↓ CSV" }).click(),
    ]);
    failed.catch(() => {}); // settled or abandoned once the download came
    const text = readFileSync(await download.path(), "utf-8");
    const [header, ...rows] = text.trim().split(/\r?\n/);
    check(header.split(",")[0] === "ts", `the CSV starts with a ts column, got: ${header}`);
    check(rows.length > 50, `the CSV holds the weekly bars of the range, got ${rows.length}`);
    check(download.suggestedFilename().startsWith("SP500_1w_"), `file name ${download.suggestedFilename()}`);
  });
}

/** GET an API path with the page's token (what the UI shows is checked against the API's own answer). */
async function apiGet(page, apiPath) {
  return page.evaluate(async (target) => {
    const token = sessionStorage.getItem("trade2026.idToken");
    const response = await fetch(target, { headers: { Authorization: token } });
    return { status: response.status, body: await response.json() };
  }, apiPath);
}

/** The Backtests page as a trader: a tearsheet, an API error, a 3 x 3 sweep to its PBO, the history, walk-forward. */
async function backtestSteps(page, base, consoleErrors) {
  let backtestId = null;

  await step("backtests-tearsheet", page, async () => {
    await page.getByRole("link", { name: "Backtests" }).click();
    await page.waitForURL(/\/backtests/);
    await page.getByLabel("Strategy").selectOption("ma_crossover");
    await page.locator(".chip", { hasText: /^SP500$/ }).click();
    check((await page.getByTestId("symbols-selected").innerText()) === "SP500", "SP500 is the one symbol");
    await page.getByLabel("fast value").fill("20");
    await page.getByLabel("slow value").fill("100");
    await page.getByRole("button", { name: "Run backtest" }).click();
    await page.waitForURL(/run=[0-9a-f]{32}/);
    backtestId = new URL(page.url()).searchParams.get("run");
    settings.backtestId = backtestId; // linked to a strategy version later
    await page.getByTestId("tearsheet").waitFor();
    await page.getByTestId("equity-chart").locator("canvas").first().waitFor();
    // The tearsheet shows what the API stored for this run.
    const { status, body } = await apiGet(page, `/v1/backtests/${backtestId}`);
    check(status === 200 && body.series.equity.length > 1000, `the API has the run's equity (${status})`);
    const years = await page.getByTestId("monthly-heatmap").locator("tbody tr").count();
    check(years === body.monthly_returns.years.length && years >= 19, `one heat map row per year: ${years}`);
    const cells = page.getByTestId("monthly-heatmap").locator("td[data-value]:not([data-value=''])");
    check((await cells.count()) >= 12 * (years - 1), "the heat map has a value for every month with data");
    await cells.nth(5).hover();
    const readout = await page.getByTestId("heatmap-readout").innerText();
    check(/^[A-Z][a-z]{2} \d{4}: [+-]?\d+\.\d{2}%$/.test(readout), `hovering a month shows its return: ${readout}`);
    const total = (body.metrics.total_return * 100).toFixed(2);
    const cards = await page.getByTestId("metric-cards").innerText();
    check(cards.includes(`${total}%`), `the total return card shows the API's ${total}%`);
    const range = await page.getByTestId("trades-range").innerText();
    check(range.includes(`of ${body.trades.length}`), `the trades table pages the ${body.trades.length} trades: ${range}`);
  });

  await step("backtests-api-error", page, async () => {
    // A range without bars: the API refuses it (400) and the form shows its message.
    await page.getByLabel("Start", { exact: true }).fill("2031-01-01");
    await page.getByLabel("End", { exact: true }).fill("2031-12-31");
    await page.getByRole("button", { name: "Run backtest" }).click();
    const error = page.getByTestId("run-error");
    await error.waitFor();
    const text = await error.innerText();
    check(/empty date range/i.test(text) && /HTTP 400/.test(text), `the API's message is shown: ${text}`);
    check(consoleErrors.every((line) => line.includes("status of 400")), `only the 400 was logged: ${consoleErrors}`);
    consoleErrors.length = 0;
    await page.getByLabel("Start", { exact: true }).fill("");
    await page.getByLabel("End", { exact: true }).fill("");
  });

  await step("backtests-sweep-pbo", page, async () => {
    await page.getByRole("tab", { name: "Sweep" }).click();
    await page.getByLabel("fast sweep values").fill("5, 10, 20");
    await page.getByLabel("slow sweep values").fill("50:150:50");
    await page.getByLabel("Chunk size").fill("3");
    check((await page.getByTestId("grid-size").innerText()).startsWith("9 configurations"), "a 3 x 3 grid");
    await page.getByRole("button", { name: "Start sweep" }).click();
    await page.waitForURL(/sweep=[0-9a-f]{32}/);
    const sweepId = new URL(page.url()).searchParams.get("sweep");
    settings.sweepId = sweepId; // the evidence a strategy version's validation gate reads later
    await page.getByTestId("sweep-progress").waitFor();
    check((await page.getByTestId("sweep-chunks").innerText()).endsWith("/ 3 chunks"), "three chunks of three");
    await page.getByTestId("sweep-status").getByText("SUCCEEDED").waitFor({ timeout: 90_000 });
    await page.getByTestId("pbo-value").waitFor();
    check((await page.getByTestId("sweep-chunks").innerText()) === "3 / 3 chunks", "every chunk done");
    check((await page.getByTestId("sweep-ranking").locator("tbody tr").count()) === 9, "nine ranked configurations");
    const { body: pbo } = await apiGet(page, `/v1/backtests/sweeps/${sweepId}/pbo`);
    const shown = await page.getByTestId("pbo-value").innerText();
    check(shown === `${(pbo.pbo * 100).toFixed(1)}%`, `the PBO shown (${shown}) is the API's ${pbo.pbo}`);
    check(/train\/test splits/.test(await page.getByTestId("pbo-explanation").innerText()), "PBO is explained");
    check((await page.getByTestId("pbo-histogram").locator("rect").count()) === pbo.logit_histogram.counts.length, "one bar a bin");
    await page.getByTestId("dsr-value").waitFor();
  });

  await step("backtests-history-reopen", page, async () => {
    // The sweep's winner goes to the backtest form, and the earlier backtest reopens from the history.
    const best = page.getByTestId("sweep-ranking").locator("tbody tr").first();
    const bestFast = (await best.locator("td").nth(1).innerText()).trim();
    await best.getByRole("button", { name: "Backtest" }).click();
    check((await page.getByLabel("fast value").inputValue()) === bestFast, `the winner's fast=${bestFast} is in the form`);
    await page.locator(`[data-testid="run-item"][data-kind="backtest"]`).first().click();
    await page.waitForURL(new RegExp(`run=${backtestId}`));
    await page.getByTestId("tearsheet").waitFor();
    await page.getByTestId("monthly-heatmap").waitFor();
    const kinds = await page.getByTestId("run-item").evaluateAll((items) => items.map((item) => item.dataset.kind));
    check(kinds.includes("sweep") && kinds.includes("backtest"), `the history lists both runs: ${kinds}`);
  });

  await step("backtests-walkforward", page, async () => {
    // Three years of training, one of testing, rolled over the twenty years of SP500 bars.
    await page.getByRole("tab", { name: "Walk-forward" }).click();
    await page.getByLabel("fast sweep values").fill("5, 10, 20");
    await page.getByLabel("slow sweep values").fill("50, 100, 200");
    await page.getByLabel("Training bars").fill("756");
    await page.getByLabel("Test bars").fill("252");
    await page.getByRole("button", { name: "Run walk-forward" }).click();
    await page.getByTestId("walkforward-view").waitFor();
    await page.getByTestId("equity-chart").locator("canvas").first().waitFor();
    const folds = await page.getByTestId("walkforward-folds").locator("tbody tr").count();
    check(folds >= 15, `a fold per test year after the first three: ${folds}`);
    const heading = await page.getByTestId("walkforward-view").locator(".tearsheet-heading").innerText();
    check(heading.includes(`${folds} folds choosing among 9 configurations`), `the heading counts them: ${heading}`);
  });
}

/** Only the browser's own log lines of the expected refusals (HTTP `status`) were logged; then forget them. */
function expectLogged(consoleErrors, status) {
  check(consoleErrors.every((line) => line.includes(`status of ${status}`)), `only ${status}s were logged: ${consoleErrors}`);
  consoleErrors.length = 0;
}

/** Trading as the demo trader: a rejected ticket, a limit order accepted then canceled, the dashboard, risk, reports. */
async function tradingSteps(page, base, consoleErrors) {
  const { body: accounts } = await apiGet(page, "/v1/accounts");
  check(accounts.length === 1, `make up opened one paper account for the demo trader: ${JSON.stringify(accounts)}`);
  settings.accountId = accounts[0].id;
  const { body: quote } = await apiGet(page, "/v1/marketdata/quotes/SP500");
  const last = quote.last_bar.close;
  const limit = (Math.round(last * 97) / 100).toFixed(2); // 3 % under the last close: inside the 5 % collar

  await step("trading-rejected", page, async () => {
    await page.getByRole("link", { name: "Trading" }).click();
    await page.waitForURL(/\/trading/);
    await page.getByTestId("order-ticket").waitFor();
    await page.getByLabel("Symbol", { exact: true }).selectOption("SP500");
    // Client-side checks first: a fractional quantity and an off-tick price never reach the API.
    await page.getByLabel("Quantity", { exact: true }).fill("1.5");
    await page.getByLabel("Limit price", { exact: true }).fill("100.001");
    await page.getByRole("button", { name: "Submit buy order" }).click();
    const problems = await page.getByTestId("ticket-problems").innerText();
    check(/lot size 1/.test(problems) && /tick size 0.01/.test(problems), `the ticket explains: ${problems}`);
    // Then an order the pre-trade risk refuses: more shares than max_order_quantity (10,000).
    await page.getByLabel("Quantity", { exact: true }).fill("20000");
    await page.getByLabel("Limit price", { exact: true }).fill(limit);
    await page.getByRole("button", { name: "Submit buy order" }).click();
    const table = page.getByTestId("ticket-rejection").getByTestId("rejection-table");
    await table.waitFor();
    const text = await table.innerText();
    check(/max_order_quantity/.test(text) && /10000/.test(text) && /20000/.test(text), `rule and numbers shown: ${text}`);
    await page.getByTestId("order-detail").and(page.locator('[data-status="rejected"]')).waitFor();
    expectLogged(consoleErrors, 422);
  });

  let orderId = null;
  await step("trading-limit-order", page, async () => {
    await page.getByLabel("Quantity", { exact: true }).fill("10");
    await page.getByRole("button", { name: "Submit buy order" }).click();
    await page.getByTestId("ticket-result").waitFor();
    await page.waitForURL(/order=[0-9a-f]+/);
    orderId = new URL(page.url()).searchParams.get("order");
    await page.locator('[data-testid="order-detail"][data-status="accepted"]').waitFor();
    const row = page.locator(`[data-testid="blotter-row"][data-order-id="${orderId}"]`);
    await row.getByText("accepted").waitFor();
    check((await row.innerText()).includes(Number(limit).toLocaleString("en-US", { minimumFractionDigits: 2 })), "the blotter shows the limit");
    const { body } = await apiGet(page, `/v1/accounts/${settings.accountId}/orders/${orderId}`);
    check(body.status === "accepted" && body.limit_price === limit, `the API has it accepted at ${limit}: ${body.status} ${body.limit_price}`);
    const events = await page.getByTestId("order-events").locator("tbody tr").count();
    check(events === body.events.length && events >= 2, `the history lists the ${body.events.length} events`);
  });

  await step("trading-replace-cancel", page, async () => {
    await page.getByLabel("New quantity").fill("12");
    await page.getByRole("button", { name: "Replace" }).click();
    await page.locator('[data-testid="order-detail"][data-status="accepted"]').getByText("buy 12 SP500").waitFor();
    await page.getByRole("button", { name: "Cancel order" }).click();
    await page.locator('[data-testid="order-detail"][data-status="canceled"]').waitFor();
    const row = page.locator(`[data-testid="blotter-row"][data-order-id="${orderId}"]`);
    await row.getByText("canceled").waitFor();
    check((await page.getByRole("button", { name: "Cancel order" }).count()) === 0, "no cancel on a canceled order");
    const kinds = await page.getByTestId("order-events").locator("tbody tr td:nth-child(3)").allInnerTexts();
    check(kinds.includes("canceled"), `the history ends canceled: ${kinds}`);
    // The blotter's status filter.
    await page.getByLabel("Status filter").selectOption("canceled");
    await page.getByTestId("blotter-row").first().waitFor();
    const statuses = await page.getByTestId("blotter").getByTestId("order-status").allInnerTexts();
    check(statuses.length > 0 && statuses.every((status) => status === "canceled"), `only canceled orders: ${statuses}`);
  });

  await step("dashboard-account", page, async () => {
    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.waitForURL(`${base}/`);
    await page.getByTestId("summary-equity").waitFor();
    const { body } = await apiGet(page, `/v1/accounts/${settings.accountId}/positions`);
    const equity = Number(body.summary.equity).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    check((await page.getByTestId("summary-equity").innerText()) === equity, `the equity card shows the API's ${equity}`);
    const { body: orders } = await apiGet(page, `/v1/accounts/${settings.accountId}/orders?limit=100`);
    const open = orders.orders.filter((order) => ["accepted", "partially_filled"].includes(order.status)).length;
    const shown = open === 0 ? 0 : await page.getByTestId("open-orders").locator("tbody tr").count();
    await page.getByTestId(open === 0 ? "open-orders-empty" : "open-orders").waitFor();
    check(shown === Math.min(open, 10), `the open orders of the API (${open}) are listed: ${shown}`);
    check((await page.getByTestId("kill-state").innerText()).includes("kill switch off"), "the kill switch is off");
    await page.getByTestId("alerts").waitFor();
    const alerts = await page.getByTestId("alerts").innerText();
    check(/rejected by pre-trade risk today \(.*max_order_quantity/.test(alerts), `the rejection is an alert: ${alerts}`);
  });

  await step("risk-trader", page, async () => {
    await page.getByRole("link", { name: "Risk" }).click();
    await page.waitForURL(/\/risk/);
    await page.getByTestId("limit-max_order_quantity").waitFor();
    const { body: account } = await apiGet(page, `/v1/accounts/${settings.accountId}`);
    const shownLimit = await page.getByTestId("limit-max_order_quantity").innerText();
    check(shownLimit === account.limits.max_order_quantity, `the API's limit is shown read-only: ${shownLimit}`);
    check((await page.getByRole("button", { name: "Save limits" }).count()) === 0, "a trader cannot edit limits");
    await page.getByTestId("rejection-item").first().waitFor();
    check(/max_order_quantity/.test(await page.getByTestId("rejection-item").first().innerText()), "the rejection is listed");
    check((await page.getByRole("button", { name: "Engage kill switch" }).count()) === 1, "a trader may engage the kill switch");
  });

  await step("reports", page, async () => {
    await page.getByRole("link", { name: "Reports" }).click();
    await page.waitForURL(/\/reports/);
    await page.getByTestId("compliance-summary").waitFor();
    const { body: compliance } = await apiGet(page, `/v1/accounts/${settings.accountId}/reports/compliance`);
    const summary = await page.getByTestId("compliance-summary").innerText();
    check(compliance.rejections.length >= 1 && summary.includes(`${compliance.rejections.length} risk rejections`), summary);
    await page.getByTestId("pnl-table-empty").waitFor();
    await page.getByTestId("gains-totals").waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "↓ Blotter CSV" }).click()]);
    const header = readFileSync(await download.path(), "utf-8").split(/\r?\n/)[0];
    check(header.includes("symbol"), `the blotter CSV has a header: ${header}`);
    check(download.suggestedFilename() === `blotter-${settings.accountId}.csv`, download.suggestedFilename());
  });
}

/** The optimizer on the two real indices: weights, risk contributions, frontier, spectrum, backtest. */
async function portfolioSteps(page) {
  await step("portfolio-optimizer", page, async () => {
    await page.getByRole("link", { name: "Portfolio" }).click();
    await page.waitForURL(/\/portfolio/);
    await page.getByTestId("optimizer-form").waitFor();
    for (const symbol of ["SP500", "NASDAQ"]) {
      const chip = page.locator(".portfolio-chips .chip", { hasText: new RegExp(`^${symbol}$`) });
      if (!(await chip.getAttribute("class")).includes("selected")) {
        await chip.click();
      }
    }
    await page.getByLabel("Method").selectOption("min_volatility");
    await page.getByRole("button", { name: "Optimize" }).click();
    await page.getByTestId("portfolio-results").waitFor({ timeout: 60_000 });
    const weights = await page.getByTestId("weight-row").locator("td:nth-child(2)").allInnerTexts();
    const total = weights.reduce((sum, text) => sum + Number(text.replace("%", "")), 0);
    const selected = await page.locator(".portfolio-chips .chip.selected").count();
    check(weights.length === selected && selected >= 2 && Math.abs(total - 100) < 0.05, `a weight per symbol, summing to 100%: ${weights}`);
    await page.getByTestId("frontier-line").waitFor({ timeout: 60_000 });
    await page.getByTestId("spectrum-chart").waitFor({ timeout: 60_000 });
    check((await page.getByTestId("mp-edge").count()) === 1, "the spectrum marks the Marchenko-Pastur edge");
    const note = await page.getByTestId("spectrum-note").innerText();
    check(new RegExp(`^${selected} assets`).test(note), `the spectrum is of the ${selected} assets: ${note}`);
    await page.getByTestId("equity-chart").locator("canvas").first().waitFor();
  });
}

/** Scanners (hits and the forward-return study), the time machine, physics signals, a Monte Carlo run. */
async function analyticsSteps(page, consoleErrors) {
  await step("analytics-scanner", page, async () => {
    await page.getByRole("link", { name: "Analytics" }).click();
    await page.waitForURL(/\/analytics/);
    await page.getByLabel("Scanner").selectOption("rsi_extremes");
    await page.getByLabel("As of").fill("2018-12-24");
    await page.getByRole("button", { name: "Run scanner" }).click();
    await page.getByTestId("scanner-study").waitFor({ timeout: 60_000 });
    const { body } = await page.evaluate(async () => {
      const token = sessionStorage.getItem("trade2026.idToken");
      const response = await fetch("/v1/scanners/rsi_extremes/run", {
        method: "POST", headers: { Authorization: token, "Content-Type": "application/json" },
        body: JSON.stringify({ as_of: "2018-12-24", study: false }),
      });
      return { body: await response.json() };
    });
    const rows = body.hits.length === 0 ? 0 : await page.getByTestId("scanner-hits").locator("tbody tr").count();
    check(rows === body.hits.length, `one row per hit of the API (${body.hits.length}): ${rows}`);
    check((await page.getByTestId("scanner-study").locator("tbody tr").count()) === 3, "a study row per horizon (1, 5, 20 days)");
  });

  if (settings.screens) {
    await screenSteps(page, consoleErrors);
  }

  await step("analytics-time-machine", page, async () => {
    await page.getByRole("tab", { name: "Time machine" }).click();
    await page.getByLabel("Matches").fill("5");
    await page.getByRole("button", { name: "Find matches" }).click();
    await page.getByTestId("timemachine-overlay").waitFor({ timeout: 60_000 });
    check((await page.getByTestId("timemachine-overlay").locator("polyline").count()) === 6, "five matches over the query window");
    check((await page.getByTestId("timemachine-matches").locator("tbody tr").count()) === 5, "five matches listed");
  });

  await step("analytics-physics", page, async () => {
    await page.getByRole("tab", { name: "Physics" }).click();
    await page.getByRole("button", { name: "Compute signals" }).click();
    await page.getByTestId("physics-turbulence").waitFor({ timeout: 60_000 });
    check((await page.getByTestId("physics-results").locator("svg path").count()) > 4, "signals drawn over time");
  });

  await step("simulations", page, async () => {
    await page.getByRole("link", { name: "Simulations" }).click();
    await page.waitForURL(/\/simulations/);
    await page.getByLabel("Paths").fill("2000");
    await page.getByRole("button", { name: "Run simulation" }).click();
    await page.locator('[data-testid="simulation-view"][data-status="SUCCEEDED"]').waitFor({ timeout: 60_000 });
    await page.getByTestId("fan-chart").waitFor();
    check((await page.getByTestId("fan-chart").locator("polygon").count()) >= 2, "the fan has its percentile bands");
    check((await page.getByTestId("terminal-histogram").locator("rect").count()) > 10, "the terminal distribution is drawn");
  });
}

/** The strategy library: register, a lifecycle gate refusing with its numbers, then passing once a backtest is linked. */
async function strategySteps(page, consoleErrors) {
  await step("strategies-lifecycle", page, async () => {
    await page.getByRole("link", { name: "Strategies" }).click();
    await page.waitForURL(/\/strategies/);
    await page.getByLabel("Strategy name").fill("e2e MA crossover");
    await page.getByLabel("Code").selectOption("rule");
    await page.getByRole("button", { name: /Register/ }).click();
    await page.waitForURL(/strategy=/);
    const version = page.getByTestId("strategy-version").first();
    await version.and(page.locator('[data-state="draft"]')).waitFor();
    await page.getByLabel("Move v1 to").selectOption("backtested");
    await page.getByRole("button", { name: "Move v1" }).click();
    const refusal = await page.getByTestId("gate-refusal").innerText();
    check(/no successful backtest/i.test(refusal) && /gate/.test(refusal), `the gate explains itself: ${refusal}`);
    expectLogged(consoleErrors, 422);
    if (settings.backtestId) {
      await linkRuns(page, 1, "backtests", settings.backtestId);
      await moveVersion(page, 1, "backtested");
    }
  });
}

/** A training run through the local Step Functions and SageMaker (started early; see modelSteps). */
async function startTraining(page) {
  await step("models-training-started", page, async () => {
    await page.getByRole("link", { name: "Models" }).click();
    await page.waitForURL(/\/models/);
    await page.getByTestId("registry-empty").waitFor();
    await page.getByLabel("Start", { exact: true }).fill("2014-01-01");
    // Combinatorial purged CV, switched on from the keyboard: 6 groups, 2 test groups -> 15 splits, 5 paths.
    check((await page.getByLabel("CPCV groups").count()) === 0, "CPCV is off by default");
    await page.getByLabel("Combinatorial purged CV").focus();
    await page.keyboard.press("Space");
    await page.getByLabel("CPCV test groups").fill("6");
    await page.getByRole("button", { name: "Start training" }).click();
    const refused = await page.locator(".form-problems").innerText();
    check(/cpcv_test_groups \(6\) must be below cpcv_groups \(6\)/.test(refused), `k < N is checked before sending: ${refused}`);
    await page.getByLabel("CPCV test groups").fill("2");
    check(/15 splits .* 5 backtest paths/.test(await page.getByTestId("cpcv-shape").innerText()), "the CPCV shape is explained");
    await page.getByRole("button", { name: "Start training" }).click();
    await page.getByTestId("training-run").first().waitFor();
    const status = await page.getByTestId("training-status").first().innerText();
    check(["PENDING", "RUNNING", "SUCCEEDED"].includes(status), `the run is under way: ${status}`);
  });
}

/** The training run started by startTraining, until the registry lists its model. */
async function modelSteps(page) {
  await step("models-training-registered", page, async () => {
    await page.getByRole("link", { name: "Models" }).click();
    await page.waitForURL(/\/models/);
    const run = page.getByTestId("training-run").first();
    await run.waitFor();
    await page.locator('[data-testid="training-run"][data-status="SUCCEEDED"]').first().waitFor({ timeout: 120_000 });
    await run.getByRole("button", { name: /Open model/ }).click();
    await page.getByTestId("model-detail").waitFor();
    check((await page.getByTestId("feature-importance").locator(".bar-row").count()) > 5, "feature importance per feature");
    const { body } = await apiGet(page, "/v1/models");
    const runId = (await run.locator("code").innerText()).trim();
    const registered = body.models.find((model) => (model.run_id ?? "").startsWith(runId));
    check(registered, `the registry has the run's model: ${JSON.stringify(body.models.map((m) => m.run_id))}`);
    await page.locator(`[data-testid="registry-row"][data-run-id="${registered.run_id}"]`).waitFor();
    settings.modelId = registered.id;
    // The combinatorial purged CV result: an AUC per backtest path (5 with 6 groups, 2 test groups), mean and std.
    const { body: model } = await apiGet(page, `/v1/models/${registered.id}`);
    check(model.metrics.cpcv?.n_paths === 5, `the model has CPCV metrics: ${JSON.stringify(model.metrics.cpcv)}`);
    check((await page.getByTestId("cpcv-path").count()) === model.metrics.cpcv.path_auc.length, "a bar per path");
    const mean = await page.getByTestId("cpcv-mean").innerText();
    check(mean.startsWith(model.metrics.cpcv.auc_mean.toFixed(3)), `the mean AUC is shown: ${mean}`);
  });

  // Batch scoring at 1280 x 800: a job before any bar fails with its cause, then half a year of SP500 succeeds.
  await page.setViewportSize({ width: 1280, height: 800 });
  await step("models-batch-succeeded", page, async () => {
    const panel = page.getByTestId("batch-panel");
    await panel.getByTestId("batch-empty").waitFor();
    await panel.getByLabel("Score from").fill("2018-07-01");
    await panel.getByLabel("Score to").fill("2018-06-30");
    await panel.getByRole("button", { name: "Start batch scoring" }).click();
    const problems = await panel.getByTestId("batch-problems").innerText();
    check(/empty window: start 2018-07-01 is after end 2018-06-30/.test(problems), `the window is checked before sending: ${problems}`);
    await panel.getByLabel("Score from").fill("1990-01-01");
    await panel.getByLabel("Score to").fill("1990-12-31");
    await panel.getByRole("button", { name: "Start batch scoring" }).click();
    const failed = panel.locator('[data-testid="batch-job"][data-status="FAILED"]');
    await failed.waitFor({ timeout: 90_000 });
    const cause = await failed.getByTestId("error").innerText();
    check(/no feature rows to score/.test(cause), `a failed job shows its cause: ${cause}`);
    await panel.getByLabel("Score from").fill("2018-01-01");
    await panel.getByLabel("Score to").fill("2018-06-30");
    await panel.getByRole("button", { name: "Start batch scoring" }).click();
    const job = panel.getByTestId("batch-job").first();
    await job.waitFor();
    await panel.locator('[data-testid="batch-job"][data-status="SUCCEEDED"]').first().waitFor({ timeout: 120_000 });
    check((await job.getAttribute("data-status")) === "SUCCEEDED", "the newest job is the one that succeeded");
    // (the bar's width is animated: the screenshot waits until it is full)
    await page.waitForFunction(() => {
      const fill = document.querySelector('[data-testid="batch-job"][data-status="SUCCEEDED"] .progress-fill');
      return fill !== null && fill.getBoundingClientRect().width >= fill.parentElement.getBoundingClientRect().width - 3;
    });
    const rows = Number(await job.locator('[data-symbol="SP500"]').getAttribute("data-rows"));
    check(rows > 100 && rows < 130, `about half a year of daily bars scored: ${rows}`);
    const output = await job.getByTestId("batch-output").innerText();
    check(output.startsWith("s3://") && output.endsWith(`/predictions/model_id=${settings.modelId}/`), `where the predictions went: ${output}`);
    const table = await job.getByTestId("batch-glue-table").innerText();
    check(/\.predictions$/.test(table), `the Glue table: ${table}`);
  });
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** A viewer opens the trained model: no training or batch scoring controls, and the API refuses them anyway. */
async function modelViewerSteps(page, consoleErrors) {
  await step("models-viewer", page, async () => {
    await page.getByRole("link", { name: "Models" }).click();
    await page.waitForURL(/\/models/);
    await page.getByTestId("read-only-note").waitFor();
    await page.locator(`[data-testid="registry-row"]`).first().waitFor();
    await page.goto(`${settings.baseUrl}/models?model=${settings.modelId}`);
    await page.getByTestId("model-detail").waitFor();
    await page.getByTestId("batch-read-only").waitFor();
    for (const name of ["Start training", "Start batch scoring"]) {
      check((await page.getByRole("button", { name }).count()) === 0, `no ${name} control for a viewer`);
    }
    const refused = await apiSend(page, "POST", `/v1/models/${settings.modelId}/batch-predictions`, { symbols: ["SP500"] });
    check(refused.status === 403, `the API refuses a viewer's batch job (403): HTTP ${refused.status}`);
    expectLogged(consoleErrors, 403);
  });
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.waitForURL(`${settings.baseUrl}/`);
}

/** An admin edits the trader's limits (read-only for everyone else) and sees the global kill switch. */
async function adminSteps(page, base) {
  const admin = login("admin");
  await step("risk-admin-limits", page, async () => {
    await signIn(page, admin.username, admin.password);
    await page.waitForURL(`${base}/`);
    await page.getByRole("link", { name: "Risk" }).click();
    await page.getByLabel("Account id").fill(settings.accountId);
    await page.getByRole("button", { name: "Open account" }).click();
    await page.getByLabel("Max order quantity").waitFor();
    await page.getByLabel("Max order quantity").fill("5000");
    // (back to the default 10000 when already 5000, so that the step changes something on any run)
    if ((await apiGet(page, `/v1/accounts/${settings.accountId}`)).body.limits.max_order_quantity === "5000") {
      await page.getByLabel("Max order quantity").fill("10000");
    }
    await page.getByRole("button", { name: "Save limits" }).click();
    await page.getByTestId("limits-saved").waitFor();
    const { body } = await apiGet(page, `/v1/accounts/${settings.accountId}`);
    const wanted = await page.getByLabel("Max order quantity").inputValue();
    check(body.limits.max_order_quantity === wanted, `the API has the new limit ${wanted}: ${body.limits.max_order_quantity}`);
    await page.getByRole("button", { name: "Engage global kill switch" }).waitFor();
  });
  // The viewer signs in next and expects the dashboard: leave from there.
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/login`);
}

/** A strategy version's card on the Strategies page. */
function versionCard(page, version) {
  return page.locator(`[data-testid="strategy-version"][data-version="${version}"]`);
}

/** Links runs (backtests, sweeps or models) to a version and waits until its card counts them. */
async function linkRuns(page, version, kind, ids) {
  const card = versionCard(page, version);
  const before = await card.getByTestId("version-links").innerText();
  await card.getByLabel(`Link to v${version}`).selectOption(kind);
  await card.getByLabel(`Run ids for v${version}`).fill(ids);
  await card.getByRole("button", { name: "Link", exact: true }).click();
  const linked = page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent !== text,
    [`[data-testid="strategy-version"][data-version="${version}"] [data-testid="version-links"]`, before],
  );
  const refused = card.getByTestId("link-error").waitFor().then(async () => {
    throw new Error(`linking ${kind} ${ids} to v${version} was refused: ${await card.getByTestId("link-error").innerText()}`);
  });
  await Promise.race([linked, refused]);
  refused.catch(() => {}); // abandoned once linked
}

/** Moves a version along its lifecycle and waits for the new state (the gate passing). */
async function moveVersion(page, version, to) {
  const card = versionCard(page, version);
  await card.getByLabel(`Move v${version} to`).selectOption(to);
  await card.getByRole("button", { name: `Move v${version}` }).click();
  await page.locator(`[data-testid="strategy-version"][data-version="${version}"][data-state="${to}"]`).waitFor();
}

/** POST with the page's token (what the UI shows is checked against the API's own answer). */
async function apiSend(page, method, apiPath, body) {
  return page.evaluate(async ([verb, target, payload]) => {
    const token = sessionStorage.getItem("trade2026.idToken");
    const response = await fetch(target, {
      method: verb,
      headers: { Authorization: token, "Content-Type": "application/json" },
      body: payload === null ? undefined : JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }, [method, apiPath, body ?? null]);
}

/** Polls a sweep until it finished (SUCCEEDED), failing with its status otherwise. */
async function finishedSweep(page, sweepId, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await apiGet(page, `/v1/backtests/sweeps/${sweepId}`);
    if (body.status === "SUCCEEDED") return body;
    check(!["FAILED", "ABORTED", "TIMED_OUT"].includes(body.status) && Date.now() < deadline, `sweep ${sweepId} is ${body.status}`);
    await page.waitForTimeout(1000);
  }
}

/** The strategy runtime's after-close schedule, run the way `trade2026 invoke` runs any function. */
function runCatchUp() {
  const output = execFileSync(
    settings.python,
    ["-m", "localcloud", "invoke", "StrategyRuntimeFunction", "--event", "events/strategy_runtime/schedule.json", "--state-dir", settings.stateDir],
    { cwd: settings.root, encoding: "utf-8", timeout: 120_000, env: { ...process.env, COLUMNS: "400", NO_COLOR: "1", TERM: "dumb" } },
  );
  return JSON.parse(output);
}

/** A webhook receiver on a free loopback port: the URL to register, and what it received. */
async function webhookReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      received.push({ method: request.method, path: request.url, body: text ? JSON.parse(text) : null });
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end('{"ok": true}');
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/trade2026-hook`, received, close: () => server.close() };
}

/** Steps checked at 1280 x 800 (a laptop screen), the size the issue asks the UI to work at. */
async function atLaptopSize(page, body) {
  await page.setViewportSize({ width: 1280, height: 800 });
  try {
    await body();
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 });
  }
}

// A 2 x 2 moving-average sweep on the S&P 500 (1999-2018) that passes the validation gate with real data
// (PBO 0.14 < 0.5, deflated Sharpe 0.976 > 0.95), beside the 3 x 3 sweep of the Backtests steps, which fails it.
const PASSING_SWEEP = {
  strategy: "ma_crossover", symbols: ["SP500"], grid: { fast: [10, 20], slow: [150, 200] }, fixed: { ma: "sma" },
  chunk_size: 4, pbo_blocks: 16,
};
const V2_PARAMS = '{"rule": "ma_crossover", "rule_params": {"fast": 10, "slow": 150}}';

/** Deployment slots: the validation gate refusing a real sweep, deploy, shadow, decisions, hot-swap, rollback. */
async function slotSteps(page, consoleErrors) {
  const strategyId = new URL(page.url()).searchParams.get("strategy");
  check(/^[0-9a-f]{12}$/.test(strategyId ?? ""), `the lifecycle step left its strategy selected: ${page.url()}`);
  const started = await apiSend(page, "POST", "/v1/backtests/sweeps", PASSING_SWEEP);
  check(started.status === 202, `the second sweep starts: ${JSON.stringify(started)}`);
  const passingSweep = started.body.id;

  await atLaptopSize(page, async () => {
    await step("strategies-gate-refused", page, async () => {
      // The 3 x 3 sweep of the Backtests steps: its PBO or deflated Sharpe misses the validation gate.
      await linkRuns(page, 1, "sweeps", settings.sweepId);
      await versionCard(page, 1).getByLabel("Move v1 to").selectOption("validated");
      await versionCard(page, 1).getByRole("button", { name: "Move v1" }).click();
      const refusal = await versionCard(page, 1).getByTestId("gate-refusal").innerText();
      const { summary } = await finishedSweep(page, settings.sweepId);
      const pbo = summary.pbo; // FinishSweep keeps the number (the full PBO report is GET .../pbo)
      const dsr = summary.deflated_sharpe.dsr;
      const expected = pbo >= 0.5 ? `PBO ${pbo.toFixed(4)}` : `deflated Sharpe ${dsr.toFixed(4)}`;
      check(refusal.includes(`validated: ${expected} of sweep ${settings.sweepId}`), `the gate names the failing number ${expected}: ${refusal}`);
      check(/HTTP 422/.test(refusal) && /max_pbo/.test(refusal) && /min_deflated_sharpe/.test(refusal), `the refusal shows the thresholds: ${refusal}`);
      expectLogged(consoleErrors, 422);
    });

    await step("strategies-slot-refused", page, async () => {
      await finishedSweep(page, passingSweep);
      // v1 passes with the 2 x 2 sweep (the gate reads the last linked finished sweep) and goes to paper.
      await linkRuns(page, 1, "sweeps", passingSweep);
      await moveVersion(page, 1, "validated");
      await moveVersion(page, 1, "paper");
      // v2: other parameters, the same evidence, validated (a slot refuses it; a shadow takes it).
      await page.getByLabel("New version parameters").fill(V2_PARAMS);
      await page.getByRole("button", { name: "Add version" }).click();
      await versionCard(page, 2).waitFor();
      await linkRuns(page, 2, "backtests", settings.backtestId);
      await linkRuns(page, 2, "sweeps", passingSweep);
      await moveVersion(page, 2, "backtested");
      await moveVersion(page, 2, "validated");
      await page.getByTestId("to-slots").click();
      await page.waitForURL(/view=slots/);
      await page.getByTestId("slots-empty").waitFor();
      check((await page.getByLabel("Deploy strategy").inputValue()) === strategyId, "the form starts on the strategy being looked at");
      await page.getByLabel("Symbol").fill("SP500");
      await page.getByLabel("Capital").fill("100000");
      await page.getByLabel("Deploy version").selectOption("2");
      await page.getByTestId("deploy-state-note").waitFor();
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      const refused = await page.getByTestId("deploy-error").innerText();
      check(/version 2 of strategy .* is validated; a slot needs one of: live, paper/.test(refused) && /HTTP 409/.test(refused), `the API's reason: ${refused}`);
      expectLogged(consoleErrors, 409);
    });

    await step("strategies-slot-deploy", page, async () => {
      await page.getByLabel("Deploy version").selectOption("1");
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await page.locator('[data-testid="slot-detail"][data-revision="1"]').waitFor();
      check((await page.getByTestId("slot-row").count()) === 1, "the slot is listed");
      // The shadow: v2 decides beside v1 and places no orders.
      await page.getByLabel("Shadow version").selectOption("2");
      await page.getByRole("button", { name: "Set shadow" }).click();
      await page.locator('[data-testid="slot-detail"][data-revision="2"]').waitFor();
      const { body: slot } = await apiGet(page, `/v1/accounts/${settings.accountId}/slots/main`);
      check(slot.strategy === `${strategyId}@1` && slot.shadow?.version === 2 && slot.revision === 2 && slot.symbol === "SP500", `the API has the slot: ${JSON.stringify(slot)}`);
      check((await page.getByTestId("slot-shadow").innerText()).endsWith("v2"), "the shadow is shown");
      await page.getByTestId("decisions-empty").waitFor();
    });

    await step("strategies-slot-decisions", page, async () => {
      // After the close the runtime decides every active slot on its symbol's latest bar (live and shadow).
      const report = runCatchUp();
      const bar = report.bars.find((item) => item.bar_id.startsWith("SP500:"));
      check(bar && bar.decided === 1 && bar.shadow === 1, `one live and one shadow decision: ${JSON.stringify(report)}`);
      await page.getByRole("button", { name: "Refresh", exact: true }).click();
      const pair = page.locator(`[data-testid="decision-pair"][data-bar-id="${bar.bar_id}"]`);
      await pair.waitFor();
      check((await pair.getByTestId("decision-live").getAttribute("data-strategy")) === `${strategyId}@1`, "v1 decided live");
      check((await pair.getByTestId("decision-shadow").getAttribute("data-strategy")) === `${strategyId}@2`, "v2 decided in shadow");
      const { body } = await apiGet(page, `/v1/accounts/${settings.accountId}/slots/main/decisions`);
      check(body.decisions.length === 2 && (await page.getByTestId("decision-pair").count()) === 1, `two decisions, one bar: ${body.decisions.length}`);
      const live = body.decisions.find((item) => item.mode === "live");
      const shownTarget = await pair.getByTestId("decision-live").innerText();
      check(shownTarget.includes(`target ${live.target.toFixed(2)}`), `the live target ${live.target} is shown: ${shownTarget}`);
      await pair.getByRole("button", { name: "Inputs" }).click();
      const inputs = await page.locator(".inputs-row").innerText();
      check(inputs.includes("target_shares") && inputs.includes("capital"), `the inputs of the decision are shown: ${inputs}`);
    });

    await step("strategies-slot-swap-rollback", page, async () => {
      // v2 reaches paper, is hot-swapped in, then one click rolls the slot back to v1.
      await page.getByRole("tab", { name: "Library" }).click();
      await moveVersion(page, 2, "paper");
      await page.getByRole("tab", { name: "Deployment slots" }).click();
      await page.locator('[data-testid="slot-row"][data-slot="main"]').click();
      await page.getByLabel("Deploy version").selectOption("2");
      await page.getByRole("button", { name: "Hot-swap" }).click();
      await page.locator(`[data-testid="slot-detail"][data-revision="3"][data-strategy="${strategyId}@2"]`).waitFor();
      check((await page.getByTestId("slot-previous").innerText()).endsWith("v1"), "v1 is the rollback target");
      await page.getByRole("button", { name: "Roll back to v1" }).click();
      await page.locator(`[data-testid="slot-detail"][data-revision="4"][data-strategy="${strategyId}@1"]`).waitFor();
      const { body: slot } = await apiGet(page, `/v1/accounts/${settings.accountId}/slots/main`);
      check(slot.strategy === `${strategyId}@1` && slot.previous?.version === 2 && slot.revision === 4, `the API rolled back: ${JSON.stringify(slot)}`);
      check((await page.getByTestId("slot-previous").innerText()).endsWith("v2"), "v2 is now the rollback target");
    });
  });
}

/** Notification preferences (the API's refusal of an address, then a loopback webhook) and a test delivery. */
async function notificationSteps(page, consoleErrors) {
  const hook = await webhookReceiver();
  try {
    await atLaptopSize(page, async () => {
      await step("notifications-test-delivery", page, async () => {
        await page.getByRole("link", { name: "Notifications" }).click();
        await page.waitForURL(/\/notifications/);
        await page.getByTestId("prefs-empty").waitFor();
        await page.getByTestId("deliveries-empty").waitFor();
        for (const kind of [/^Order filled/, /^Kill switch/, /^Strategy error/]) {
          await page.getByRole("checkbox", { name: kind }).check();
        }
        // The local cloud sends webhooks to loopback addresses only: the API says so.
        await page.getByLabel("Webhook URLs").fill("http://hooks.example.invalid/trade2026");
        await page.getByRole("button", { name: "Save preferences" }).click();
        const refused = await page.getByTestId("prefs-error").innerText();
        check(/must be a loopback address on the local cloud/.test(refused) && /HTTP 400/.test(refused), `the API's reason: ${refused}`);
        expectLogged(consoleErrors, 400);
        await page.getByLabel("Webhook URLs").fill(hook.url);
        await page.getByRole("button", { name: "Save preferences" }).click();
        await page.getByTestId("prefs-saved").waitFor();
        const { body: prefs } = await apiGet(page, "/v1/notifications/preferences");
        const kinds = ["kill_switch", "order_filled", "strategy_error"]; // (the API keeps them sorted)
        check(JSON.stringify(prefs.webhooks) === JSON.stringify([hook.url]) && JSON.stringify(prefs.kinds) === JSON.stringify(kinds), `the API has them: ${JSON.stringify(prefs)}`);
        await page.getByRole("button", { name: "Send test notification" }).click();
        const outcome = await page.getByTestId("test-outcome").innerText();
        check(/Test sent to 1 channel\(s\): 1 delivered/.test(outcome), `the test went out: ${outcome}`);
        const row = page.locator('[data-testid="delivery-row"][data-kind="test"][data-status="delivered"]');
        await row.waitFor();
        check((await row.innerText()).includes("Test notification from Trade2026"), "the delivery is listed");
        check(hook.received.length === 1 && hook.received[0].body.kind === "test", `the webhook got it: ${JSON.stringify(hook.received)}`);
      });
    });
  } finally {
    hook.close();
  }
}

/** The Screener tab's saved screens: save the current screen, change the form, load it back, delete it. */
async function screenSteps(page, consoleErrors) {
  let screen = null;
  const saved = page.getByTestId("saved-screen").filter({ hasText: "e2e falling 20d" });
  await atLaptopSize(page, async () => {
    await step("analytics-screen-saved", page, async () => {
      await page.getByRole("tab", { name: "Screener" }).click();
      await page.getByTestId("screens-empty").waitFor();
      await page.getByLabel("Field 1").selectOption("return_20d");
      await page.getByLabel("Operator 1").selectOption("<");
      await page.getByLabel("Value 1").fill("0");
      await page.getByLabel("Sort field").selectOption("return_20d");
      await page.getByLabel("Sort order").selectOption("asc");
      await page.getByLabel("Screen name").fill("e2e falling 20d");
      await page.getByRole("button", { name: "Save screen" }).click();
      await saved.waitFor();
      const { body } = await apiGet(page, "/v1/screens");
      check(body.screens.length === 1, `one saved screen: ${JSON.stringify(body)}`);
      screen = body.screens[0];
      check(JSON.stringify(screen.definition.filter) === '{"all":[{"field":"return_20d","op":"<","value":0}]}', `saved as shown: ${JSON.stringify(screen.definition)}`);
      check((await saved.innerText()).includes("return_20d < 0 · by return_20d asc"), "the list describes it");
    });

    await step("analytics-screen-loaded", page, async () => {
      // Change the form, then load the saved screen back (it runs at once).
      await page.getByLabel("Value 1").fill("0.5");
      await page.getByLabel("Sort order").selectOption("desc");
      await saved.getByRole("button", { name: "Load e2e falling 20d" }).click();
      await page.getByTestId("loaded-screen").getByText("e2e falling 20d").waitFor();
      check((await page.getByLabel("Value 1").inputValue()) === "0", "the value is the saved one");
      check((await page.getByLabel("Sort order").inputValue()) === "asc", "the order is the saved one");
      await page.getByTestId("screener-rows").or(page.getByTestId("screener-rows-empty")).waitFor();
      const { body: run } = await apiSend(page, "POST", "/v1/screener/run", { filter: screen.definition.filter, sort: screen.definition.sort, limit: 50 });
      const rows = run.rows.length === 0 ? 0 : await page.getByTestId("screener-rows").locator("tbody tr").count();
      check(rows === run.rows.length, `the loaded screen shows the API's ${run.rows.length} matches: ${rows}`);
    });

    await step("analytics-screen-deleted", page, async () => {
      await saved.getByRole("button", { name: "Delete e2e falling 20d" }).click();
      await saved.getByRole("button", { name: "Confirm delete e2e falling 20d" }).click();
      await page.getByTestId("screens-empty").waitFor();
      check((await apiGet(page, "/v1/screens")).body.screens.length === 0, "the API deleted it");
      check((await apiGet(page, `/v1/screens/${screen.id}`)).status === 404, "and answers 404 for it");
      expectLogged(consoleErrors, 404);
    });
  });
}

await main();
