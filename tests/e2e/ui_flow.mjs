// The web UI in a real browser (system Chromium driven by playwright-core), against a running local cloud.
// Run by tests/e2e/test_ui.py: node ui_flow.mjs '<json settings>'; exits non-zero on the first failed check.
//
// Settings: baseUrl, frontendDir (where playwright-core is installed), logins (the demo-logins.json
// entries), screenshotDir, market (true once the market data API is deployed), backtests (true once the
// research API is deployed; needs the market data too).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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

    if (settings.backtests) {
      await backtestSteps(page, base, consoleErrors);
    }

    await step("signed-out", page, async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/login`);
      const stored = await page.evaluate(() => sessionStorage.getItem("trade2026.idToken"));
      check(stored === null, "signing out removes the token");
      await page.goto(`${base}/`);
      await page.waitForURL(`${base}/login`);
    });

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

await main();
