/**
 * The browser half of the benchmark: headless Debian Chromium (playwright-core) on pages served by
 * nginx with the deploy configuration (bench/nginx.ts) through the 100 Mbit/s link (bench/link.ts).
 * Times are read in the page: `performance.now()`, whose origin is the navigation's start, when a
 * chart was first drawn (a MutationObserver installed before any page script), and the SDK's User
 * Timing mark `fundwatch:duckdb-ready` (set when DuckDB-WASM has the data file attached). Memory is
 * read through the DevTools protocol, in the page and in DuckDB-WASM's worker.
 */
import {mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {chromium, type BrowserContext, type CDPSession, type Page} from "playwright-core";
import {CHROMIUM_ARGS, findChromium} from "../scripts/browser.js";
import {settle} from "../scripts/check-pages.js";
import type {FirstViewStats} from "../src/duckdb/first-view.js";
import {THROTTLE, type ThrottleMethod} from "./nginx.js";
import {summarize, type Summary} from "./stats.js";

/**
 * The SDK's User Timing names (DUCKDB_READY_MARK and QUERY_MEASURE of src/duckdb/client.ts, which cannot
 * be imported in Node: it resolves DuckDB-WASM's browser files at load).
 */
export const DUCKDB_READY_MARK = "fundwatch:duckdb-ready";
export const QUERY_MEASURE = "fundwatch:query";

/**
 * In-page JavaScript (text, not a function: neither tsx nor vitest may rewrite its dynamic import)
 * that sets `db` to the page's own DuckDB-WASM instance, or null: the SDK's client module, found by
 * its modulepreload link, is the module the page runs, so `startDuckDB()` returns the page's instance.
 */
const SDK_DUCKDB = `
  const href = Array.from(document.querySelectorAll('link[rel="modulepreload"]'))
    .map((l) => l.href)
    .find((h) => /\\/_import\\/sdk\\/duckdb\\/client\\.[0-9a-f]+\\.js$/.test(h));
  const db = href ? (await (await import(href)).startDuckDB()).db : null;`;

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

/** Switches the pre-baked first view off (src/duckdb/client.ts reads it): every query runs in DuckDB-WASM. */
const FIRST_VIEW_OFF_SCRIPT = "globalThis.__fundwatchFirstViewOff = true;";

export interface Session {
  /** The profile folder (the browser process is found by it). */
  profile: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  problems: string[];
  close: () => Promise<void>;
}

/**
 * Chromium on a new, empty profile (no HTTP cache, no compiled wasm) with one page. A real profile on
 * disk, not an incognito context: incognito keeps its HTTP cache in memory and does not cache an entry
 * as big as the 34 MB DuckDB-WASM module, so every "warm" visit would download it again.
 * `firstViewOff`: the pages compute everything in DuckDB-WASM, as before the first view existed.
 */
export async function openSession(
  origin: string,
  throttle: ThrottleMethod,
  {firstViewOff = false}: {firstViewOff?: boolean} = {}
): Promise<Session> {
  const profile = await mkdtemp(join(tmpdir(), "fundwatch-bench-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: {width: 1366, height: 768},
    locale: "zh-CN"
  });
  await context.addInitScript({content: WATCH_SCRIPT});
  if (firstViewOff) await context.addInitScript({content: FIRST_VIEW_OFF_SCRIPT});
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
  return {profile, context, page, cdp, problems, close};
}

/** One page load, in ms from the navigation's start (null: not applicable to the page). */
export interface PageLoad {
  /** The first chart (`figure[data-fw-chart]`) with marks (`svg [aria-label] > *`); null on a page without charts. */
  firstChart: number | null;
  /** The last of the page's expected charts (front matter `charts:`) with marks; null on a page without charts. */
  allCharts: number | null;
  /** The SDK's `fundwatch:duckdb-ready` mark: DuckDB-WASM started and the data file attached; null on a page without DuckDB. */
  duckdbReady: number | null;
  /** Filters live: every chart drawn and DuckDB-WASM ready (the later of the two). */
  live: number;
  /** `globalThis.__fundwatchFirstView` once live: how many queries the pre-baked first view answered. */
  firstView: FirstViewStats | null;
}

/**
 * Navigates to `url` and waits until the page is live: its `charts` charts drawn and, with `duckdb`,
 * the SDK's ready mark set; then until the page has settled. Error cells and a page that never settles
 * are added to the session's problems.
 */
export async function loadPage(
  session: Session,
  url: string,
  {charts, duckdb}: {charts: number; duckdb: boolean}
): Promise<PageLoad> {
  const {page} = session;
  const path = new URL(url).pathname;
  await page.goto(url, {waitUntil: "commit", timeout: TIMEOUT});
  if (charts > 0)
    await page
      .waitForFunction(
        (n) => ((window as unknown as {__fwBench?: {drawn: number}}).__fwBench?.drawn ?? 0) >= n,
        charts,
        {timeout: TIMEOUT, polling: 50}
      )
      .catch(() => {
        throw new Error(`${path}：${TIMEOUT / 1000} 秒内没有绘出 ${charts} 个图表`);
      });
  if (duckdb)
    await page
      .waitForFunction((mark) => performance.getEntriesByName(mark, "mark").length > 0, DUCKDB_READY_MARK, {
        timeout: TIMEOUT,
        polling: 50
      })
      .catch(() => {
        throw new Error(
          `${path}：${TIMEOUT / 1000} 秒内 DuckDB-WASM 没有就绪（没有 ${DUCKDB_READY_MARK} 标记）`
        );
      });
  const state = await page.evaluate(
    ({n, mark}) => {
      const bench = (window as unknown as {__fwBench: {firstAt: number[]}}).__fwBench;
      return {
        first: n > 0 ? (bench.firstAt[1] ?? null) : null,
        all: n > 0 ? (bench.firstAt[n] ?? null) : null,
        ready: performance.getEntriesByName(mark, "mark")[0]?.startTime ?? null,
        firstView: (globalThis as {__fundwatchFirstView?: FirstViewStats}).__fundwatchFirstView ?? null
      };
    },
    {n: charts, mark: DUCKDB_READY_MARK}
  );
  if (!(await settle(page, TIMEOUT))) session.problems.push(`${path} 没有加载完成`);
  const errors = await page.evaluate(() => document.querySelectorAll(".observablehq--error").length);
  if (errors > 0) session.problems.push(`${path} 有 ${errors} 个错误单元格`);
  const ready = duckdb ? state.ready : null;
  return {
    firstChart: state.first,
    allCharts: state.all,
    duckdbReady: ready,
    live: Math.max(state.all ?? 0, ready ?? 0),
    firstView: state.firstView ? {...state.firstView} : null
  };
}

/** Whether the page's filter bar has the 地市 choice (the district pages do not: they are about one division). */
export async function hasCityFilter(session: Session): Promise<boolean> {
  return session.page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLSelectElement>(".fw-filter-bar select")).some((s) =>
      Array.from(s.labels ?? []).some((l) => l.textContent?.trim() === "地市")
    )
  );
}

/**
 * Chooses `label` in the filter bar's 地市 select (the combobox labelled 地市) and returns the ms until
 * the page was redrawn: from the input event to the last DOM change before it stayed quiet, once every
 * chart has been replaced by one drawn for the new filter. Framework keeps a cell's old output on screen
 * while it recomputes (no loading marker), so "quiet" alone would end at the select's own change when
 * the queries take longer than the quiet time: the charts present before the change are marked, and
 * only new ones count.
 */
export async function changeCity(session: Session, label: string, charts: number): Promise<number> {
  return session.page.evaluate(
    ({label, charts, quiet, timeout}) =>
      new Promise<number>((resolve, reject) => {
        const state = (window as unknown as {__fwBench: {lastMutationAt: number}}).__fwBench;
        const selects = Array.from(document.querySelectorAll<HTMLSelectElement>(".fw-filter-bar select"));
        const select =
          selects.find((s) => Array.from(s.labels ?? []).some((l) => l.textContent?.trim() === "地市")) ??
          selects.find((s) => Array.from(s.options).some((o) => o.textContent === label));
        const option = select && Array.from(select.options).find((o) => o.textContent === label);
        if (!select || !option) return reject(new Error(`筛选栏里没有「地市：${label}」`));
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

/** What a page holds in memory, in bytes (see {@link pageMemory}). */
export interface PageMemory {
  /** The page's main thread: V8 heap in use (what DevTools calls the JS heap). */
  jsHeap: number;
  /** The page's main thread: ArrayBuffer backing stores outside the V8 heap (the downloaded data file the SDK keeps, Arrow buffers…). */
  pageBuffers: number;
  /** DuckDB-WASM's worker: V8 heap in use; null when the page has no DuckDB worker. */
  workerHeap: number | null;
  /** The worker's ArrayBuffer backing stores (the registered copy of the data file). */
  workerBuffers: number | null;
  /**
   * The worker's WebAssembly memory as grown so far (it never shrinks): DuckDB's whole native heap, the
   * copy of the data file DuckDB-WASM registers, its buffer pool and query state. Read from
   * `globalThis.DUCKDB_BINDINGS.mod.HEAPU8`, which DuckDB-WASM's worker sets.
   */
  wasm: number | null;
  /** Of that, what DuckDB itself accounts for (`SELECT sum(memory_usage_bytes) FROM duckdb_memory()`: its buffer pool). */
  duckdbReported: number | null;
  /** JS heap and DuckDB: the page's and the worker's V8 heaps and ArrayBuffers, and the wasm memory. */
  jsAndDuckdb: number;
  /**
   * The tab: private memory of the renderer process that runs the page and its worker (Private_Clean +
   * Private_Dirty of /proc/<pid>/smaps_rollup), which also holds what none of the above counts:
   * compiled wasm and JS code, DOM, layout, fonts.
   * Null when it cannot be read (not Linux).
   */
  tab: number | null;
}
type CdpSend = (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * Runs `task` with a DevTools session on the page's DuckDB-WASM worker (attached through the page's own
 * session, non-flattened: playwright-core gives no session for a worker); null when there is no worker.
 */
async function withWorker<T>(session: Session, task: (send: CdpSend) => Promise<T>): Promise<T | null> {
  const {cdp} = session;
  const {targetInfos} = (await cdp.send("Target.getTargets")) as {
    targetInfos: {targetId: string; type: string; url: string}[];
  };
  const worker = targetInfos.find((t) => t.type === "worker" && t.url.includes("/_node/@duckdb/"));
  if (!worker) return null;
  const {sessionId} = (await cdp.send("Target.attachToTarget", {
    targetId: worker.targetId,
    flatten: false
  })) as {
    sessionId: string;
  };
  const pending = new Map<
    number,
    {resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void}
  >();
  const listener = (event: {sessionId: string; message: string}): void => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: {message: string};
    };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result ?? {});
  };
  cdp.on("Target.receivedMessageFromTarget", listener);
  let next = 0;
  const send: CdpSend = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, {resolve, reject});
      cdp
        .send("Target.sendMessageToTarget", {sessionId, message: JSON.stringify({id, method, params})})
        .catch(reject);
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error(`DevTools：worker 没有回应 ${method}`));
      }, 30_000);
    });
  try {
    return await task(send);
  } finally {
    cdp.off("Target.receivedMessageFromTarget", listener);
    await cdp.send("Target.detachFromTarget", {sessionId}).catch(() => undefined);
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

async function processes(): Promise<ProcessInfo[]> {
  const list: ProcessInfo[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = (await readFile(`/proc/${name}/cmdline`, "utf-8")).replaceAll("\0", " ");
      const stat = await readFile(`/proc/${name}/stat`, "utf-8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      list.push({pid: Number(name), ppid, cmdline});
    } catch {
      // The process ended meanwhile.
    }
  }
  return list;
}

/** Private memory (clean + dirty) of a process, in bytes, from /proc/<pid>/smaps_rollup. */
async function privateBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf-8");
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return (kb("Private_Clean") + kb("Private_Dirty")) * 1024;
}

/**
 * The private memory of the renderer that runs the session's page: of the renderer processes under the
 * session's own browser process (found by its profile folder), not Chromium's own UI, the largest (a
 * spare renderer holds a few MB). Null when /proc cannot tell.
 */
export async function tabMemory(session: Session): Promise<number | null> {
  const all = await processes();
  const browser = all.find(
    (p) => p.cmdline.includes(`--user-data-dir=${session.profile}`) && !p.cmdline.includes("--type=")
  );
  if (!browser) return null;
  const descendants = new Set([browser.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (descendants.has(p.ppid) && !descendants.has(p.pid)) {
        descendants.add(p.pid);
        grew = true;
      }
  }
  const renderers = all.filter(
    (p) =>
      descendants.has(p.pid) &&
      p.cmdline.includes("--type=renderer") &&
      !p.cmdline.includes("--top-chrome-webui") &&
      !p.cmdline.includes("--extension-process")
  );
  let largest: number | null = null;
  for (const r of renderers) {
    const bytes = await privateBytes(r.pid).catch(() => null);
    if (bytes !== null && (largest === null || bytes > largest)) largest = bytes;
  }
  return largest;
}

/**
 * What the page holds in memory now (see {@link PageMemory}), after a garbage collection in the page
 * and in DuckDB-WASM's worker: V8's heap in use and ArrayBuffer backing stores of each (DevTools'
 * Runtime.getHeapUsage, in the page and in the worker through a session attached to it), what DuckDB
 * reports through the SDK's own DuckDB-WASM instance (the page's client module, found by its
 * modulepreload link: the same module, so the same instance), and the tab's renderer process.
 */
export async function pageMemory(session: Session): Promise<PageMemory> {
  const send: CdpSend = (method, params) =>
    session.cdp.send(method as "Runtime.evaluate", params as never) as Promise<Record<string, unknown>>;
  type Usage = {usedSize: number; backingStorageSize?: number};
  await send("HeapProfiler.collectGarbage");
  const main = (await send("Runtime.getHeapUsage")) as Usage;
  const worker = await withWorker(session, async (w) => {
    await w("HeapProfiler.collectGarbage");
    const usage = (await w("Runtime.getHeapUsage")) as Usage;
    const wasm = (await w("Runtime.evaluate", {
      expression: "globalThis.DUCKDB_BINDINGS?.mod?.HEAPU8?.buffer?.byteLength ?? null",
      returnByValue: true
    })) as {result: {value: number | null}};
    return {...usage, wasm: wasm.result.value};
  });
  const duckdbReported = worker
    ? await session.page.evaluate<number | null>(
        `(async () => {
          ${SDK_DUCKDB}
          if (!db) return null;
          const conn = await db.connect();
          try {
            const memory = await conn.query("SELECT CAST(sum(memory_usage_bytes) AS DOUBLE) AS b FROM duckdb_memory()");
            return Number(memory.toArray()[0]?.toJSON().b ?? NaN);
          } finally {
            await conn.close();
          }
        })()`
      )
    : null;
  const memory: PageMemory = {
    jsHeap: main.usedSize,
    pageBuffers: main.backingStorageSize ?? 0,
    workerHeap: worker?.usedSize ?? null,
    workerBuffers: worker ? (worker.backingStorageSize ?? 0) : null,
    wasm: worker?.wasm ?? null,
    duckdbReported,
    jsAndDuckdb: 0,
    tab: await tabMemory(session)
  };
  memory.jsAndDuckdb =
    memory.jsHeap +
    memory.pageBuffers +
    (memory.workerHeap ?? 0) +
    (memory.workerBuffers ?? 0) +
    (memory.wasm ?? 0);
  return memory;
}

export interface PageQuery {
  sql: string;
  params: unknown[];
  ms: number;
  start: number;
}

/** The queries DuckDB-WASM ran for the page (the SDK's `fundwatch:query` User Timing measures). */
export async function pageQueries(session: Session): Promise<PageQuery[]> {
  return session.page.evaluate(
    (name) =>
      performance.getEntriesByName(name).map((e) => {
        const detail = (e as PerformanceMeasure).detail as {sql: string; params: unknown[]};
        return {sql: detail.sql, params: detail.params, ms: e.duration, start: e.startTime};
      }),
    QUERY_MEASURE
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
 * modulepreload link) and returns the total ms of each of `passes` passes.
 */
export async function rerunInPage(
  session: Session,
  queries: readonly PageQuery[],
  passes: number
): Promise<number[]> {
  const list = JSON.stringify(queries.map(({sql, params}) => ({sql, params})));
  return session.page.evaluate<number[]>(
    `(async () => {
      ${SDK_DUCKDB}
      if (!db) throw new Error("找不到 SDK 的 DuckDB 客户端模块");
      const queries = ${list};
      const conn = await db.connect();
      await conn.query("USE fundwatch");
      const totals = [];
      for (let p = 0; p < ${passes}; ++p) {
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
      await conn.close();
      return totals;
    })()`
  );
}

export function summaries<K extends string>(rows: readonly Partial<Record<K, number>>[], keys: readonly K[]) {
  return Object.fromEntries(keys.map((k) => [k, summarize(rows.map((r) => r[k]))])) as Record<
    K,
    Summary | null
  >;
}
