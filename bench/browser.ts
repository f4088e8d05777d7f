/**
 * The browser half of the benchmark: the built site (and the two baseline pages) served on 127.0.0.1,
 * opened in headless Debian Chromium through playwright-core over a throttled network: by default a
 * link emulator in front of the server (bench/link.ts), or DevTools' own throttling (`--throttle
 * devtools`), which stalls in this Chromium. Times are read in the page (performance.now(), whose origin is the navigation's
 * start); bytes and requests are counted by the server, so cache hits (which never reach it) are left
 * out and the DuckDB-WASM worker's requests are counted like the page's own.
 */
import {mkdtemp, readFile, rm} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gzipSync} from "node:zlib";
import {chromium, type BrowserContext, type CDPSession, type Page} from "playwright-core";
import {CHROMIUM_ARGS, findChromium} from "../scripts/browser.js";
import {settle} from "../scripts/check-pages.js";
import {startServer} from "../scripts/serve.js";
import {CSP, SECURITY_HEADERS} from "../scripts/csp.js";
import {startLink} from "./link.js";
import {summarize, type Summary} from "./stats.js";

/** How the network is throttled: by bench/link.ts (default) or by DevTools in the browser. */
export type ThrottleMethod = "link" | "devtools";

/** 100 Mbit/s each way and 2 ms latency, as DevTools' Network.emulateNetworkConditions takes them. */
export const THROTTLE = {
  offline: false,
  latency: 2,
  downloadThroughput: 100_000_000 / 8,
  uploadThroughput: 100_000_000 / 8
} as const;

export const CITIES = ["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市", "全部"];

const TIMEOUT = 120_000;
/** Requests slower than this are listed among the run's problems. */
const SLOW_REQUEST_MS = 10_000;
/** A filter change is over when the DOM has been quiet this long (and every chart is drawn). */
const QUIET_MS = 500;

// Installed before any page script: records when the n-th chart was first drawn (performance.now()),
// the number drawn now, and the last DOM change. Plain JS text: tsx would wrap named functions.
const WATCH_SCRIPT = `(() => {
  const state = {drawn: 0, firstAt: [], lastMutationAt: 0};
  window.__fwBench = state;
  const count = () => Array.from(document.querySelectorAll("figure[data-fw-chart]"))
    .filter((f) => f.querySelectorAll("svg [aria-label] > *").length > 0).length;
  new MutationObserver(() => {
    const now = performance.now();
    state.lastMutationAt = now;
    state.drawn = count();
    for (let k = 1; k <= state.drawn; ++k) if (state.firstAt[k] === undefined) state.firstAt[k] = now;
  }).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
})();`;

/**
 * The arquero baseline's page is served with the site's CSP plus `'unsafe-eval'`: arquero compiles every
 * expression (filter, derive, rollup) with `new Function`, which the site's `script-src` refuses, so
 * under the site's own policy the page draws nothing. A site built on arquero would have to allow it;
 * Fundwatch's pages and the JSON baseline keep the site's CSP.
 */
export const ARQUERO_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'");

/** The security headers the benchmark's server sends for `pathname` (see {@link ARQUERO_CSP}). */
export function benchSecurityHeaders(pathname: string): Readonly<Record<string, string>> {
  return /^\/bench\/arquero(\.html)?$/.test(pathname)
    ? {...SECURITY_HEADERS, "Content-Security-Policy": ARQUERO_CSP}
    : SECURITY_HEADERS;
}

export type Category = "code" | "duckdb" | "data";

/** What a path is: the DuckDB-WASM bundle (wasm, worker, its JS), data (loader outputs, JSON, Arrow) or code. */
export function categoryOf(path: string): Category {
  if (path.includes("/_node/@duckdb/")) return "duckdb";
  if (path.includes("/_file/") || /\.(json|arrow|duckdb|csv)$/.test(path)) return "data";
  return "code";
}

export interface Traffic {
  requests: number;
  bytes: Record<Category, number>;
  /** The same bodies gzip-compressed (level 6), as a compressing server (nginx, #8) would send them. */
  gzipBytes: Record<Category, number>;
}

interface LoggedRequest {
  path: string;
  status: number;
  bytes: number;
}

/**
 * The site's server with a log of every request it answered and the bytes of each body sent; with
 * `throttle` "link", `url` is a link emulator's in front of it at THROTTLE's rate and latency.
 */
export async function startLoggingServer(
  root: string,
  throttle: ThrottleMethod
): Promise<{
  server: Server;
  url: string;
  close: () => void;
  take: () => LoggedRequest[];
  traffic: (requests: LoggedRequest[]) => Promise<Traffic>;
}> {
  const {server, url: serverUrl} = await startServer({root, securityHeaders: benchSecurityHeaders});
  const link =
    throttle === "link"
      ? await startLink(
          {host: "127.0.0.1", port: Number(new URL(serverUrl).port)},
          {bytesPerSecond: THROTTLE.downloadThroughput, rttMs: THROTTLE.latency}
        )
      : null;
  const url = link ? `http://${link.host}:${link.port}/` : serverUrl;
  let log: LoggedRequest[] = [];
  // Runs before the site's handler writes anything (it awaits the file system first): count the body.
  server.on("request", (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    let bytes = 0;
    const count = (chunk: unknown): void => {
      if (typeof chunk === "string") bytes += Buffer.byteLength(chunk);
      else if (chunk instanceof Uint8Array) bytes += chunk.length;
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== "function") count(chunk);
      return end(chunk, ...rest);
    }) as typeof res.end;
    res.on("finish", () => log.push({path, status: res.statusCode, bytes}));
  });
  const gzipRatio = new Map<string, number>();
  const ratioOf = async (path: string): Promise<number> => {
    let r = gzipRatio.get(path);
    if (r === undefined) {
      const file = join(root, decodeURIComponent(path));
      const body = await readFile(file).catch(() => readFile(`${file}.html`).catch(() => null));
      r = body && body.length > 0 ? gzipSync(body, {level: 6}).length / body.length : 1;
      gzipRatio.set(path, r);
    }
    return r;
  };
  return {
    server,
    url,
    close: () => {
      link?.server.close();
      server.close();
    },
    take: () => {
      const taken = log;
      log = [];
      return taken;
    },
    traffic: async (requests) => {
      const zero = (): Record<Category, number> => ({code: 0, duckdb: 0, data: 0});
      const t: Traffic = {requests: requests.length, bytes: zero(), gzipBytes: zero()};
      for (const r of requests) {
        const c = categoryOf(r.path);
        t.bytes[c] += r.bytes;
        t.gzipBytes[c] += Math.round(r.bytes * (await ratioOf(r.path)));
      }
      return t;
    }
  };
}

interface Session {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  problems: string[];
  close: () => Promise<void>;
}

/**
 * Chromium on a new, empty profile (no HTTP cache, no compiled wasm) with one throttled page. A real
 * profile on disk, not an incognito context: incognito keeps its HTTP cache in memory and does not
 * cache an entry as big as the 34 MB DuckDB-WASM module, so every "warm" visit would download it again.
 */
export async function openSession(origin: string, throttle: ThrottleMethod): Promise<Session> {
  const profile = await mkdtemp(join(tmpdir(), "fundwatch-bench-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: {width: 1366, height: 768},
    locale: "zh-CN"
  });
  await context.addInitScript({content: WATCH_SCRIPT});
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  if (throttle === "devtools") await cdp.send("Network.emulateNetworkConditions", THROTTLE);
  await cdp.send("Performance.enable");
  const problems: string[] = [];
  context.on("request", (request) => {
    const u = request.url();
    if (!u.startsWith("data:") && !u.startsWith("blob:") && new URL(u).origin !== origin)
      problems.push(`请求了站外地址：${u}`);
  });
  page.on("pageerror", (error) => problems.push(`页面错误：${error.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      problems.push(`控制台错误：${m.text()}`);
  });
  // A request that takes far longer than its bytes need at 100 Mbit/s is a stall (a reused connection
  // the server had closed, say): listed, so a slow figure can be told from a slow site.
  page.on("requestfinished", (request) => {
    const {responseEnd} = request.timing();
    if (responseEnd > SLOW_REQUEST_MS)
      problems.push(`慢请求：${new URL(request.url()).pathname} 用时 ${(responseEnd / 1000).toFixed(1)} 秒`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400)
      problems.push(`HTTP ${response.status()}：${new URL(response.url()).pathname}`);
  });
  const close = async (): Promise<void> => {
    await context.close();
    await rm(profile, {recursive: true, force: true});
  };
  return {context, page, cdp, problems, close};
}

/** Navigates and returns the ms from the navigation's start until the `charts`-th chart was drawn; then waits until the page settles. */
export async function loadUntilCharts(session: Session, url: string, charts: number): Promise<number> {
  const {page} = session;
  await page.goto(url, {waitUntil: "commit", timeout: TIMEOUT});
  await page
    .waitForFunction(
      (n) => ((window as unknown as {__fwBench?: {drawn: number}}).__fwBench?.drawn ?? 0) >= n,
      charts,
      {timeout: TIMEOUT, polling: 50}
    )
    .catch(() => {
      throw new Error(`${new URL(url).pathname}：${TIMEOUT / 1000} 秒内没有绘出 ${charts} 个图表`);
    });
  const at = await page.evaluate(
    (n) => (window as unknown as {__fwBench: {firstAt: number[]}}).__fwBench.firstAt[n] ?? NaN,
    charts
  );
  if (!(await settle(page, TIMEOUT))) session.problems.push(`${url} 没有加载完成`);
  const errors = await page.evaluate(() => document.querySelectorAll(".observablehq--error").length);
  if (errors > 0) session.problems.push(`${url} 有 ${errors} 个错误单元格`);
  return at;
}

/**
 * Chooses `label` in the filter bar's 地市 select and returns the ms until the page was redrawn: from
 * the input event to the last DOM change before it stayed quiet, once every chart has been replaced by
 * one drawn for the new filter. Framework keeps a cell's old output on screen while it recomputes (no
 * loading marker), so "quiet" alone would end at the select's own change when the queries take longer
 * than the quiet time: the charts present before the change are marked, and only new ones count.
 */
export async function changeCity(session: Session, label: string, charts: number): Promise<number> {
  return session.page.evaluate(
    ({label, charts, quiet, timeout}) =>
      new Promise<number>((resolve, reject) => {
        const state = (window as unknown as {__fwBench: {lastMutationAt: number}}).__fwBench;
        const select = Array.from(document.querySelectorAll<HTMLSelectElement>(".fw-filter-bar select")).find(
          (s) => Array.from(s.options).some((o) => o.textContent === label)
        );
        const option = select && Array.from(select.options).find((o) => o.textContent === label);
        if (!select || !option) return reject(new Error(`筛选栏里没有「${label}」`));
        // No named functions in here: tsx would wrap them in a helper the page does not have.
        for (const f of Array.from(document.querySelectorAll<HTMLElement>("figure[data-fw-chart]")))
          (f as HTMLElement & {__fwOld?: boolean}).__fwOld = true;
        const start = performance.now();
        select.value = option.value;
        select.dispatchEvent(new Event("input", {bubbles: true}));
        const timer = setInterval(() => {
          const now = performance.now();
          const present = Array.from(document.querySelectorAll<HTMLElement>("figure[data-fw-chart]"));
          const redrawn =
            present.length >= charts &&
            present.every(
              (f) =>
                !(f as HTMLElement & {__fwOld?: boolean}).__fwOld &&
                (f.dataset.fwEmpty === "true" || f.querySelectorAll("svg [aria-label] > *").length > 0)
            );
          if (redrawn && state.lastMutationAt > start && now - state.lastMutationAt >= quiet) {
            clearInterval(timer);
            resolve(state.lastMutationAt - start);
          } else if (now - start > timeout) {
            clearInterval(timer);
            reject(new Error(`筛选「${label}」后 ${timeout} ms 内没有重绘完全部 ${charts} 个图表`));
          }
        }, 10);
      }),
    {label, charts, quiet: QUIET_MS, timeout: TIMEOUT}
  );
}

/** The page's main-thread JS heap in use (DevTools' Performance.getMetrics). */
export async function jsHeap(session: Session): Promise<number> {
  const {metrics} = (await session.cdp.send("Performance.getMetrics")) as {
    metrics: {name: string; value: number}[];
  };
  return metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? NaN;
}

export interface PageQuery {
  sql: string;
  params: unknown[];
  ms: number;
  start: number;
}

/** The queries the page ran through the SDK (its `fundwatch:query` User Timing measures). */
export async function pageQueries(session: Session): Promise<PageQuery[]> {
  return session.page.evaluate(() =>
    performance.getEntriesByName("fundwatch:query").map((e) => {
      const detail = (e as PerformanceMeasure).detail as {sql: string; params: unknown[]};
      return {sql: detail.sql, params: detail.params, ms: e.duration, start: e.startTime};
    })
  );
}

/** Wall time during which at least one of `queries` was running (they overlap: cells query concurrently). */
export function busyTime(queries: readonly {start: number; ms: number}[]): number {
  const spans = queries.map((q) => [q.start, q.start + q.ms] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

/**
 * Runs `queries` one after another on the page's own DuckDB-WASM (the SDK's client module, found by its
 * modulepreload link) and returns the total ms of each of `passes` passes, and DuckDB's memory after.
 */
export async function rerunInPage(
  session: Session,
  queries: readonly PageQuery[],
  passes: number
): Promise<{passes: number[]; duckdbMemory: number}> {
  return session.page.evaluate(
    async ({queries, passes}) => {
      const href = Array.from(document.querySelectorAll<HTMLLinkElement>('link[rel="modulepreload"]'))
        .map((l) => l.href)
        .find((h) => /\/_import\/sdk\/duckdb\/client\.[0-9a-f]+\.js$/.test(h));
      if (!href) throw new Error("找不到 SDK 的 DuckDB 客户端模块");
      const client = (await import(href)) as {
        startDuckDB: () => Promise<{
          db: {
            connect: () => Promise<{
              query: (q: string) => Promise<{toArray: () => {toJSON: () => Record<string, unknown>}[]}>;
              prepare: (
                q: string
              ) => Promise<{query: (...p: unknown[]) => Promise<unknown>; close: () => Promise<void>}>;
              close: () => Promise<void>;
            }>;
          };
        }>;
      };
      const {db} = await client.startDuckDB();
      const conn = await db.connect();
      await conn.query("USE fundwatch");
      const totals: number[] = [];
      for (let p = 0; p < passes; ++p) {
        const start = performance.now();
        for (const q of queries) {
          if (q.params.length === 0) await conn.query(q.sql);
          else {
            const statement = await conn.prepare(q.sql);
            await statement.query(...q.params);
            await statement.close();
          }
        }
        totals.push(performance.now() - start);
      }
      const memory = await conn.query(
        "SELECT CAST(sum(memory_usage_bytes) AS DOUBLE) AS b FROM duckdb_memory()"
      );
      await conn.close();
      return {passes: totals, duckdbMemory: Number(memory.toArray()[0]?.toJSON().b ?? NaN)};
    },
    {queries: queries.map(({sql, params}) => ({sql, params})), passes}
  );
}

export function summaries<K extends string>(rows: readonly Partial<Record<K, number>>[], keys: readonly K[]) {
  return Object.fromEntries(keys.map((k) => [k, summarize(rows.map((r) => r[k]))])) as Record<
    K,
    Summary | null
  >;
}
