/**
 * Opens every page of a built site in headless Chromium and lists what is wrong with each:
 * Framework error cells, uncaught errors, console errors, requests to any origin but the site's own
 * (blocked, so nothing leaves the machine), failed requests, cells still loading, and charts that did
 * not render (fewer rendered `figure[data-fw-chart]` than the page's front matter `charts:` asks,
 * or a chart with no marks), and, given native DuckDB on the same data, every query whose browser answer
 * differs from native DuckDB's. A screenshot of each page is kept.
 */
import {mkdir, readdir, readFile, stat} from "node:fs/promises";
import {dirname, join, relative} from "node:path";
import type {Browser, Page, Response} from "playwright-core";
import type {QueryDb} from "../src/sql/template.js";
import type {BusyState} from "../src/duckdb/client.js";
import {compareWithNative, loggedQueries, logQueries} from "./query-check.js";
import {bakePage, pageFile, writeFirstView, type BakedPage, type NativeAnswer} from "./first-view.js";

export interface PageReport {
  path: string;
  problems: string[];
  charts: number;
  screenshot?: string;
  /** Figures marked with data-metric / data-value, for tests that read exact values. */
  metrics: {metric: string; value: string; unit: string | null; text: string}[];
  /** How many queries the page made that were compared with native DuckDB (absent: not compared). */
  queries?: number;
  /** The page's pre-baked first view, when the check wrote one (see `CheckOptions.firstView`). */
  firstView?: {queries: number; skipped: BakedPage["skipped"]};
}

/** Lists the pages of a built site as URL paths: dist/about.html → /about, dist/index.html → /. */
export async function listPages(outDir: string): Promise<string[]> {
  const pages: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      if (entry.name.startsWith("_")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".html") && entry.name !== "404.html") {
        const rel = "/" + relative(outDir, path).replace(/\.html$/, "");
        pages.push(rel === "/index" ? "/" : rel.replace(/\/index$/, "/"));
      }
    }
  }
  await walk(outDir);
  return pages.sort();
}

/** The least time a page is given to open and settle, whatever the data's size. */
export const MIN_PAGE_SECONDS = 30;

/**
 * How long the page check (and the briefing) gives each page to open and settle, in ms: one second
 * per MB of the site's data files (`dist/_file/data/*.duckdb`: a page that reads records fetches and
 * attaches the full file, and DuckDB-WASM's time grows with it), at least {@link MIN_PAGE_SECONDS};
 * or `FUNDWATCH_PAGE_SECONDS` when set (a positive number of seconds). At 5M rows the guide, whose
 * examples query the records, takes 79 s on this machine kind: a fixed 30 s failed the build there.
 *
 * @param dist - the built site
 * @param env - the environment (default process.env)
 * @returns the time limit per page, in ms
 * @example
 * ```ts
 * await pageTimeoutMs("dist", {}); // → 30000 for the default data (a few MB)
 * await pageTimeoutMs("dist", {FUNDWATCH_PAGE_SECONDS: "300"}); // → 300000
 * ```
 */
export async function pageTimeoutMs(dist: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const set = env.FUNDWATCH_PAGE_SECONDS;
  if (set !== undefined && set !== "") {
    const seconds = Number(set);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new Error(`FUNDWATCH_PAGE_SECONDS 应为正数（每个页面的秒数），实为「${set}」`);
    return Math.round(seconds * 1000);
  }
  const dir = join(dist, "_file", "data");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".duckdb"));
  const bytes = (await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size))).reduce(
    (a, b) => a + b,
    0
  );
  return Math.max(MIN_PAGE_SECONDS, Math.ceil(bytes / 1e6)) * 1000;
}

/** The minimum number of charts a page declares in its front matter (`charts: N`); 0 if none. */
export async function expectedCharts(sourceRoot: string, pagePath: string): Promise<number> {
  pagePath = pagePath.replace(/[?#].*$/, "");
  const file =
    pagePath === "/" ? "index.md" : pagePath.endsWith("/") ? `${pagePath}index.md` : `${pagePath}.md`;
  // A parameterized page (`district/640100` from `district/[code].md`): the one `[…].md` in its folder.
  const parameterized = async (): Promise<string> => {
    const dir = dirname(join(sourceRoot, file));
    const names = await readdir(dir).catch(() => [] as string[]);
    const source = names.filter((n) => /^\[[^\]]+\]\.md$/.test(n));
    return source.length === 1 && source[0] ? readFile(join(dir, source[0]), "utf-8") : "";
  };
  const text = await readFile(join(sourceRoot, file), "utf-8").catch(parameterized);
  const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? "";
  const match = /^charts:\s*(\d+)\s*$/m.exec(front);
  return match ? Number(match[1]) : 0;
}

/** Waits until `page` has settled (see {@link openSettled}); false if it did not within `timeoutMs`. */
export async function settle(page: Page, timeoutMs: number): Promise<boolean> {
  try {
    await page.waitForLoadState("networkidle", {timeout: timeoutMs});
    await page.waitForFunction(
      () => document.querySelectorAll("observablehq-loading").length === 0,
      undefined,
      {
        timeout: timeoutMs,
        polling: 100
      }
    );
    await page.waitForLoadState("networkidle", {timeout: timeoutMs});
    // A cell awaiting a query may not show a loading marker: wait until no DuckDB-WASM start or query
    // is running (the SDK counts them in __fundwatchBusy; a long query on a loaded machine changes
    // nothing on screen and sends nothing, and the check once read a district page before its last
    // cells drew) and the page has not changed for 750 ms since.
    // No named functions inside: tsx (npm run build) wraps them in a `__name` helper the page lacks.
    await page.evaluate(
      (limit) =>
        new Promise<void>((resolve, reject) => {
          const start = performance.now();
          let mutated = start;
          const observer = new MutationObserver(() => {
            mutated = performance.now();
          });
          observer.observe(document.body, {
            childList: true,
            subtree: true,
            attributes: true,
            characterData: true
          });
          const timer = setInterval(() => {
            const now = performance.now();
            const busy = (globalThis as {__fundwatchBusy?: BusyState}).__fundwatchBusy;
            const last = Math.max(mutated, busy?.idleSince ?? 0);
            const quiet = (busy?.running ?? 0) === 0 && now - last >= 750;
            if (!quiet && now - start < limit) return;
            clearInterval(timer);
            observer.disconnect();
            if (quiet) resolve();
            else reject(new Error("never settled"));
          }, 50);
        }),
      timeoutMs
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Records in `problems` what goes wrong on `page` from now on: requests to any origin but `origin`
 * (blocked, so nothing leaves the machine; or refused by the site's Content-Security-Policy), uncaught
 * errors, console errors, failed requests and HTTP errors.
 */
export async function watchPage(page: Page, origin: string, problems: string[]): Promise<void> {
  await page.context().route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin)
      return route.continue();
    problems.push(`请求了站外地址：${url}`);
    return route.abort("blockedbyclient");
  });
  page.on("pageerror", (error) => problems.push(`页面未捕获的错误：${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    problems.push(`控制台错误：${message.text()}`);
    // Under the site's Content-Security-Policy (scripts/csp.ts) the browser refuses an outside
    // address before any request leaves, so the route above never sees it: the refusal is the request.
    const refused = /'(https?:\/\/[^']+)' violates the following Content Security Policy/.exec(
      message.text()
    )?.[1];
    if (refused && URL.canParse(refused) && new URL(refused).origin !== origin)
      problems.push(`请求了站外地址：${refused}（被内容安全策略拦截）`);
  });
  page.on("requestfailed", (request) => {
    if (new URL(request.url()).origin === origin)
      problems.push(`请求失败：${request.url()}（${request.failure()?.errorText}）`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}：${response.url()}`);
  });
}

/**
 * Opens `url` in `page` and waits until it has settled: no `observablehq-loading` left, the network
 * idle and the DOM quiet. Records in `problems` a page that did not open or never settled; returns
 * the response to the page's own request.
 */
export async function openSettled(
  page: Page,
  url: string,
  problems: string[],
  timeoutMs = 30_000
): Promise<Response | null> {
  const response = await page.goto(url, {waitUntil: "load", timeout: timeoutMs});
  if (!response || !response.ok()) problems.push(`页面打开失败：HTTP ${response?.status()}`);
  if (!(await settle(page, timeoutMs))) problems.push(`页面在 ${timeoutMs / 1000} 秒内没有加载完成`);
  return response;
}

/** The page's Framework error cells, as problems. */
export async function errorCells(page: Page): Promise<string[]> {
  const errors = await page.evaluate(() =>
    Array.from(document.querySelectorAll(".observablehq--error"), (e) => e.textContent ?? "")
  );
  return errors.map((e) => `错误单元格：${e.trim().slice(0, 300)}`);
}

export interface CheckOptions {
  browser: Browser;
  baseUrl: string;
  pages: string[];
  sourceRoot: string;
  screenshotDir?: string;
  timeoutMs?: number;
  viewport?: {width: number; height: number};
  /** Called with each page before it is opened: to add an init script or listen to its responses. */
  beforeOpen?: (page: Page, path: string) => Promise<void>;
  /** Problems of a settled page that the checks here do not look for (the nginx test's CSP checks). */
  moreProblems?: (page: Page, path: string) => Promise<string[]>;
  /**
   * Native DuckDB on the site's database file: every query each page makes is run again there and
   * any difference from the browser's answer is a problem of the page (scripts/query-check.ts).
   */
  nativeDb?: QueryDb;
  /**
   * With `nativeDb`: write each page's pre-baked first view (scripts/first-view.ts) into its HTML in
   * `dist`, from native DuckDB's answers to the page's queries on the data file at `dataPath`.
   */
  firstView?: {dist: string; dataPath: string};
}

export async function checkPages(options: CheckOptions): Promise<PageReport[]> {
  const {browser, baseUrl, pages, sourceRoot, screenshotDir, timeoutMs = 30_000} = options;
  const origin = new URL(baseUrl).origin;
  if (screenshotDir) await mkdir(screenshotDir, {recursive: true});
  const reports: PageReport[] = [];
  for (const path of pages) {
    const context = await browser.newContext({
      viewport: options.viewport ?? {width: 1366, height: 768},
      locale: "zh-CN"
    });
    const page = await context.newPage();
    const problems: string[] = [];
    await watchPage(page, origin, problems);
    if (options.nativeDb) await logQueries(page);
    await options.beforeOpen?.(page, path);
    await openSettled(page, new URL(path.replace(/^\//, ""), baseUrl).href, problems, timeoutMs);
    const expected = await expectedCharts(sourceRoot, path);
    // A cell may still be computing (a query on the slower mvp bundle) when the loading markers are
    // gone: give the declared charts until the timeout to appear, then count what is there.
    if (expected > 0) {
      await page
        .waitForFunction(
          (n) =>
            Array.from(document.querySelectorAll("figure[data-fw-chart]")).filter(
              (f) => f.querySelectorAll("svg [aria-label] > *").length > 0
            ).length >= n,
          expected,
          {timeout: timeoutMs, polling: 100}
        )
        .catch(() => undefined);
    }
    const state = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      charts: Array.from(document.querySelectorAll("figure[data-fw-chart]"), (f) => ({
        id: (f as HTMLElement).dataset.fwChart ?? "",
        empty: (f as HTMLElement).dataset.fwEmpty === "true",
        marks: f.querySelectorAll("svg [aria-label] > *").length
      })),
      metrics: Array.from(document.querySelectorAll("[data-metric]"), (e) => ({
        metric: e.getAttribute("data-metric") ?? "",
        value: e.getAttribute("data-value") ?? "",
        unit: e.getAttribute("data-unit"),
        text: (e.textContent ?? "").trim()
      }))
    }));
    problems.push(...(await errorCells(page)));
    let queries: number | undefined;
    let firstView: PageReport["firstView"];
    if (options.nativeDb) {
      const logged = await loggedQueries(page);
      queries = logged.length;
      const answers: NativeAnswer[] = [];
      const found = await compareWithNative(logged, options.nativeDb, answers);
      problems.push(...found);
      if (options.firstView && found.length === 0) {
        const baked = await bakePage(answers, {...options.firstView, baseUrl});
        await writeFirstView(pageFile(options.firstView.dist, path), baked.view);
        firstView = {queries: baked.view?.queries.length ?? 0, skipped: baked.skipped};
      }
    }
    if (options.moreProblems) problems.push(...(await options.moreProblems(page, path)));
    if (state.lang !== "zh-CN") problems.push(`<html lang> 应为 zh-CN，实为「${state.lang}」`);
    const rendered = state.charts.filter((c) => !c.empty && c.marks > 0);
    for (const chart of state.charts) {
      if (chart.empty) problems.push(`图表 ${chart.id} 没有数据`);
      else if (chart.marks === 0) problems.push(`图表 ${chart.id} 没有绘出任何图形`);
    }
    if (rendered.length < expected)
      problems.push(`应有至少 ${expected} 个图表，实际绘出 ${rendered.length} 个`);
    let screenshot: string | undefined;
    if (screenshotDir) {
      screenshot = join(
        screenshotDir,
        `${path === "/" ? "index" : path.replace(/^\//, "").replace(/\//g, "__")}.png`
      );
      await page.screenshot({path: screenshot, fullPage: true});
    }
    reports.push({
      path,
      problems,
      charts: rendered.length,
      screenshot,
      metrics: state.metrics,
      ...(queries === undefined ? {} : {queries}),
      ...(firstView ? {firstView} : {})
    });
    await context.close();
  }
  return reports;
}
