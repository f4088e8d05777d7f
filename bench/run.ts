/**
 * `npm run bench [-- --quick] [--sizes 10000,100000] [--runs 3] [--throttle link|devtools]`
 *
 * Measures Fundwatch on the default campaign generated at 10k, 100k, 1M and 5M inspection + finding
 * rows (`--quick`: 10k and 100k), next to what a user could pick instead, on this machine in this run:
 * ingest (per stage, with native DuckDB reading the same CSV), the build (without and with the page
 * check, which writes each page's pre-baked first view), and in headless Chromium the pages as readers
 * get them: the built site served by nginx with deploy/nginx's configuration (pre-compressed files, the
 * same headers) through a 100 Mbit/s link. Per page: the first chart, every chart drawn, DuckDB-WASM
 * ready and so filters live, cold and warm and page-to-page, filter changes, memory (JS heap and
 * DuckDB), how many queries the first view answered, and the bytes and requests as sent; the same for
 * the overview computed by arquero over Arrow and drawn from precomputed JSON, served the same way;
 * and the overview's queries in DuckDB-WASM and in native DuckDB. Figures are reported, never
 * asserted. A full run writes bench/results.json and bench/RESULTS.md; a quick run writes them under
 * bench/.cache/quick/ so the committed full-run figures stay.
 */
import {cpus, totalmem, release, platform} from "node:os";
import {mkdir, readFile, stat} from "node:fs/promises";
import {writeAtomic} from "../loaders/outputs.js";
import {join, resolve} from "node:path";
import {execFileSync, spawnSync} from "node:child_process";
import {findChromium} from "../scripts/browser.js";
import {expectedCharts} from "../scripts/check-pages.js";
import type {FirstViewStats} from "../src/duckdb/first-view.js";
import {ensureDataset} from "./data.js";
import {formatLoadTable, runLoad, type LoadResult} from "./load.js";
import {benchIngest} from "./ingest.js";
import {benchDetailRead, type DetailReadResult} from "./detail-read.js";
import {nativeQueryPasses} from "./native.js";
import {
  busyTime,
  changeCity,
  CITIES,
  hasCityFilter,
  loadPage,
  openSession,
  pageMemory,
  pageQueries,
  rerunInPage,
  type PageLoad,
  type PageMemory,
  type PageQuery,
  type Session
} from "./browser.js";
import {NGINX} from "../test/support/nginx.js";
import {BENCH_PREFIX, startBenchServer, THROTTLE, type ThrottleMethod, type Traffic} from "./nginx.js";
import {
  addBaselines,
  builtDatabase,
  builtInfo,
  PROJECT,
  prepareWorkspace,
  sitePages,
  timeBuild
} from "./site.js";
import {summarize} from "./stats.js";
import {
  renderResults,
  RESULTS_FORMAT,
  type LoadFigures,
  type MemoryFigures,
  type PageResult,
  type Results,
  type SizeResult
} from "./report.js";

const FULL_SIZES = [10_000, 100_000, 1_000_000, 5_000_000];
const QUICK_SIZES = [10_000, 100_000];
/** The site's pages measured (the district page stands for all 29: they share one source). */
export const SITE_PAGES = ["/", "/districts", "/recovery", "/progress", "/quality", "/district/640100"];
/** The baselines: the overview computed by arquero over Arrow, and drawn from precomputed JSON. */
export const BASELINE_PAGES = ["/bench/arquero", "/bench/json"];

interface Options {
  /** Only the load check (bench/load.ts) on `loadSite`, added to the results already in the output folder. */
  loadOnly: boolean;
  loadSite: string | null;
  sizes: number[];
  runs: number;
  quick: boolean;
  throttle: ThrottleMethod;
  /** Where results.json and RESULTS.md go (default bench/, or bench/.cache/quick/ for --quick). */
  out: string | null;
}

const USAGE =
  "npm run bench [-- --quick] [--sizes 10000,100000] [--runs 3] [--throttle link|devtools] [--out DIR]" +
  " | npm run bench -- --load-only [--site DIR] [--out DIR]";

function parseArgs(argv: string[]): Options {
  const options: Options = {
    loadOnly: false,
    loadSite: null,
    sizes: FULL_SIZES,
    runs: 3,
    quick: false,
    throttle: "link",
    out: null
  };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === "--quick") {
      options.quick = true;
      options.sizes = QUICK_SIZES;
    } else if (arg === "--runs") options.runs = Number(argv[++i]);
    else if (arg === "--sizes") options.sizes = String(argv[++i]).split(",").map(Number);
    else if (arg === "--out") {
      const dir = argv[++i];
      if (!dir) throw new Error("--out 后应跟目录");
      options.out = dir;
    } else if (arg === "--load-only") options.loadOnly = true;
    else if (arg === "--site") {
      const dir = argv[++i];
      if (!dir) throw new Error("--site 后应跟目录");
      options.loadSite = dir;
    } else if (arg === "--throttle") {
      const method = argv[++i];
      if (method !== "link" && method !== "devtools") throw new Error("--throttle 应为 link 或 devtools");
      options.throttle = method;
    } else throw new Error(`用法：${USAGE}（不认识：${arg}）`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs 应为正整数");
  if (options.sizes.some((s) => !Number.isInteger(s) || s < 10))
    throw new Error("--sizes 应为不小于 10 的整数");
  return options;
}

const started = performance.now();
function log(message: string): void {
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${message}`);
}

function machine(): Results["machine"] {
  let chromium = "";
  try {
    chromium = execFileSync(findChromium(), ["--version"], {
      encoding: "utf-8",
      stdio: ["ignore", "pipe", "ignore"]
    }).trim();
  } catch {
    chromium = "（未找到）";
  }
  // nginx -v writes "nginx version: nginx/1.22.1" to stderr.
  const nginx = /nginx\/\S+/.exec(spawnSync(NGINX, ["-v"], {encoding: "utf-8"}).stderr ?? "")?.[0];
  return {
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    chromium,
    ...(nginx ? {nginx} : {})
  };
}

function loadFigures(loads: readonly PageLoad[]): LoadFigures {
  return {
    first_chart_ms: summarize(loads.map((l) => l.firstChart)),
    all_charts_ms: summarize(loads.map((l) => l.allCharts)),
    duckdb_ready_ms: summarize(loads.map((l) => l.duckdbReady)),
    live_ms: summarize(loads.map((l) => l.live))
  };
}

function memoryFigures(list: readonly PageMemory[]): MemoryFigures {
  return {
    js_heap_bytes: summarize(list.map((m) => m.jsHeap)),
    page_buffers_bytes: summarize(list.map((m) => m.pageBuffers)),
    worker_heap_bytes: summarize(list.map((m) => m.workerHeap)),
    worker_buffers_bytes: summarize(list.map((m) => m.workerBuffers)),
    wasm_bytes: summarize(list.map((m) => m.wasm)),
    duckdb_reported_bytes: summarize(list.map((m) => m.duckdbReported)),
    js_and_duckdb_bytes: summarize(list.map((m) => m.jsAndDuckdb)),
    tab_bytes: summarize(list.map((m) => m.tab))
  };
}

/** What one page gave over the runs, before it is summarized. */
interface PageRuns {
  kind: PageResult["kind"];
  charts: number;
  cityFilter: boolean;
  cold: PageLoad[];
  warm: PageLoad[];
  pageToPage: PageLoad[];
  filter: number[];
  memory: PageMemory[];
  memoryAfterFilters: PageMemory[];
  firstView: FirstViewStats | null;
  firstViewAfterFilters: FirstViewStats | null;
  traffic: {first: Traffic; repeat: Traffic} | null;
}

async function benchBrowser(
  siteDir: string,
  dbFile: string,
  firstViewSkipped: (path: string) => number | null,
  {runs, throttle}: Options
) {
  const served = await startBenchServer(join(siteDir, "dist"), throttle);
  const at = (path: string): string => new URL(path.replace(/^\//, ""), served.url).href;
  const charts = (path: string): Promise<number> => expectedCharts(join(siteDir, "reports"), path);
  const problems: string[] = [];
  const record = (where: string, session: Session): void => {
    problems.push(...session.problems.map((p) => `${where}: ${p}`));
    session.problems.length = 0;
  };
  const pages = new Map<string, PageRuns>();
  for (const path of [...SITE_PAGES, ...BASELINE_PAGES])
    pages.set(path, {
      kind: BASELINE_PAGES.includes(path) ? "baseline" : "site",
      charts: await charts(path),
      cityFilter: false,
      cold: [],
      warm: [],
      pageToPage: [],
      filter: [],
      memory: [],
      memoryAfterFilters: [],
      firstView: null,
      firstViewAfterFilters: null,
      traffic: null
    });
  const page = (path: string): PageRuns => {
    const p = pages.get(path);
    if (!p) throw new Error(`没有页面 ${path}`);
    return p;
  };
  const load = (session: Session, path: string): Promise<PageLoad> =>
    loadPage(session, at(path), {charts: page(path).charts, duckdb: page(path).kind === "site"});
  const queryRuns = {busy: [] as number[], wasm: [] as number[], native: [] as number[]};
  const computed: PageLoad[] = [];
  let queries: PageQuery[] = [];
  let detailRead: DetailReadResult | null = null;
  try {
    for (let run = 0; run < runs; ++run) {
      const round = `第 ${run + 1} 轮`;
      // Each page cold (a new profile), its memory, the filter changes, then again with a warm cache.
      for (const [path, p] of pages) {
        const session = await openSession(served.origin, throttle);
        try {
          await served.take();
          const cold = await load(session, path);
          p.cold.push(cold);
          const first = await served.traffic(await served.take());
          if (run === 0) p.firstView = cold.firstView;
          p.memory.push(await pageMemory(session));
          p.cityFilter = await hasCityFilter(session);
          if (p.cityFilter) {
            for (const city of CITIES) p.filter.push(await changeCity(session, city, p.charts));
            p.memoryAfterFilters.push(await pageMemory(session));
            if (run === 0)
              p.firstViewAfterFilters = await session.page.evaluate(() => {
                const stats = (globalThis as {__fundwatchFirstView?: FirstViewStats}).__fundwatchFirstView;
                return stats ? {...stats} : null;
              });
          }
          await served.take();
          p.warm.push(await load(session, path));
          if (run === 0) p.traffic = {first, repeat: await served.traffic(await served.take())};
        } catch (error) {
          problems.push(`${path} (${round}): ${(error as Error).message}`);
        }
        record(`${path} (${round})`, session);
        await session.close();
        log(
          `${path}（${round}）：冷启动首个图表 ${Math.round(p.cold.at(-1)?.firstChart ?? NaN)} ms，可筛选 ${Math.round(p.cold.at(-1)?.live ?? NaN)} ms`
        );
      }

      // Page to page: from the overview (warm, live) to each page; to the overview from 地区对比.
      {
        const session = await openSession(served.origin, throttle);
        try {
          await load(session, "/");
          for (const path of SITE_PAGES) {
            await load(session, path === "/" ? "/districts" : "/");
            page(path).pageToPage.push(await load(session, path));
          }
        } catch (error) {
          problems.push(`页面间跳转 (${round}): ${(error as Error).message}`);
        }
        record(`页面间跳转 (${round})`, session);
        await session.close();
        log(`页面间跳转（${round}）：完成`);
      }

      // The overview with the first view off: every query in DuckDB-WASM, then again one after another.
      {
        const session = await openSession(served.origin, throttle, {firstViewOff: true});
        try {
          computed.push(await load(session, "/"));
          queries = await pageQueries(session);
          queryRuns.busy.push(busyTime(queries));
          queryRuns.wasm.push(...(await rerunInPage(session, queries, 3)).slice(1));
        } catch (error) {
          problems.push(`/，首屏预算关闭 (${round}): ${(error as Error).message}`);
        }
        record(`/，首屏预算关闭 (${round})`, session);
        await session.close();
      }
    }
    // The detail file: fetched whole (what the SDK does) against DuckDB-WASM's range reads.
    detailRead = await benchDetailRead(served, at, throttle, runs, problems, log);
    // Native DuckDB: one warm-up pass, then `runs` passes.
    if (queries.length > 0) queryRuns.native = (await nativeQueryPasses(dbFile, queries, runs + 1)).slice(1);
    problems.push(...(await served.errors()).map((l) => `nginx: ${l}`));
  } finally {
    await served.close();
  }
  const results: Record<string, PageResult> = {};
  for (const [path, p] of pages)
    results[path] = {
      kind: p.kind,
      charts: p.charts,
      city_filter: p.cityFilter,
      cold: loadFigures(p.cold),
      warm: loadFigures(p.warm),
      page_to_page: p.kind === "site" ? loadFigures(p.pageToPage) : null,
      page_to_page_from: p.kind === "site" ? (path === "/" ? "/districts" : "/") : null,
      filter_change_ms: summarize(p.filter),
      memory: memoryFigures(p.memory),
      memory_after_filters: p.cityFilter ? memoryFigures(p.memoryAfterFilters) : null,
      first_view: p.firstView,
      first_view_after_filters: p.firstViewAfterFilters,
      first_view_skipped: p.kind === "site" ? firstViewSkipped(path) : null,
      traffic: p.traffic
    };
  return {
    pages: results,
    queries: {
      count: queries.length,
      overview_computed: loadFigures(computed),
      in_page_busy_ms: summarize(queryRuns.busy),
      wasm_sequential_ms: summarize(queryRuns.wasm),
      native_sequential_ms: summarize(queryRuns.native)
    },
    detail_read: detailRead,
    problems
  };
}

/** The load check (bench/load.ts) with the figures' settings: 30 s, 2 threads, 16 connections. */
function benchLoad(site: string): Promise<LoadResult> {
  return runLoad({site, durationSeconds: 30, threads: 2, connections: 16, timeoutSeconds: 10, log});
}

async function benchSize(rows: number, options: Options): Promise<SizeResult> {
  const cache = join(PROJECT, "bench", ".cache");
  const sizeStart = performance.now();
  const data = await ensureDataset(rows, cache, log);
  log(
    `${rows.toLocaleString("en-US")} 行：${data.files.length} 个 CSV，${(data.csvBytes / 1e6).toFixed(1)} MB`
  );

  const ingest = await benchIngest(data.dir, {runs: options.runs, workDir: join(cache, "ingest"), log});
  log("导入：完成");

  const siteDir = join(cache, "site");
  await prepareWorkspace(siteDir);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let run = 0; run < options.runs; ++run) {
    cold.push(await timeBuild(siteDir, data.dir, {cold: true, check: false}));
    warm.push(await timeBuild(siteDir, data.dir, {cold: false, check: false}));
    log(
      `构建第 ${run + 1}/${options.runs} 轮（不检查页面）：冷 ${((cold.at(-1) ?? 0) / 1000).toFixed(1)} s，热 ${((warm.at(-1) ?? 0) / 1000).toFixed(1)} s`
    );
  }
  // The site measured is built as a release is: with the page check, which writes the first view.
  const buildProblems: string[] = [];
  let checked: number | null = null;
  try {
    checked = await timeBuild(siteDir, data.dir, {cold: false, check: true});
    log(`构建（检查页面，写入首屏预算）：${(checked / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = (error as Error).message.split("\n").slice(-6).join(" ");
    buildProblems.push(`带页面检查的构建失败，测量的是不检查页面的构建（没有首屏预算）：${message}`);
    log(`带页面检查的构建失败：${message}`);
  }
  const info = await builtInfo(siteDir);
  const pages = await sitePages(siteDir);
  const databaseBytes = (await stat(await builtDatabase(siteDir))).size;
  const coreBytes = (await stat(await builtDatabase(siteDir, {core: true}))).size;
  const firstBytes = (await stat(await builtDatabase(siteDir, {first: true}))).size;
  const arrowBytes = await addBaselines(siteDir, data.dir);
  const siteDb = await builtDatabase(siteDir);
  const skipped = (path: string): number | null =>
    info.first_view ? info.first_view.skipped.filter((s) => s.page === path).length : null;
  const browserResult = await benchBrowser(siteDir, siteDb, skipped, options);
  return {
    rows,
    csv: {files: data.files.length, bytes: data.csvBytes, generated_s: data.generatedSeconds},
    ingest,
    build: {
      cold_ms: summarize(cold),
      warm_ms: summarize(warm),
      checked_ms: summarize([checked]),
      page_check: info.page_check.status,
      first_view: info.first_view
        ? {
            pages: info.first_view.pages,
            queries: info.first_view.queries,
            skipped: info.first_view.skipped.length
          }
        : null,
      pages: pages.length,
      district_pages: pages.filter((p) => p.startsWith("/district/")).length,
      database_bytes: databaseBytes,
      core_bytes: coreBytes,
      first_bytes: firstBytes,
      arrow_bytes: arrowBytes
    },
    ...browserResult,
    problems: [...buildProblems, ...browserResult.problems],
    seconds: (performance.now() - sizeStart) / 1000
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  findChromium();
  const results: Results = {
    format: RESULTS_FORMAT,
    date: new Date().toISOString(),
    machine: machine(),
    config: {
      args: process.argv.slice(2),
      sizes: options.sizes,
      runs: options.runs,
      quick: options.quick,
      throttle: {method: options.throttle, ...THROTTLE},
      served: {server: "nginx", config: "deploy/nginx", prefix: BENCH_PREFIX}
    },
    sizes: [],
    failed: [],
    seconds: 0
  };
  const outDir = options.out
    ? resolve(options.out)
    : options.quick
      ? join(PROJECT, "bench", ".cache", "quick")
      : join(PROJECT, "bench");
  await mkdir(outDir, {recursive: true});
  // Written after every size, so a size that stops the run (5M on a smaller machine, say) keeps the others.
  const save = async (): Promise<string> => {
    results.seconds = (performance.now() - started) / 1000;
    const markdown = renderResults(results);
    await writeAtomic(join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
    await writeAtomic(join(outDir, "RESULTS.md"), markdown);
    return markdown;
  };
  if (options.loadOnly) {
    // Keeps the sizes already measured and replaces only the load figures.
    const previous = await readFile(join(outDir, "results.json"), "utf-8").catch(() => null);
    if (previous) Object.assign(results, JSON.parse(previous) as Results);
    const site = resolve(options.loadSite ?? join(PROJECT, "dist"));
    results.load = {measured_at: new Date().toISOString(), rows: null, result: await benchLoad(site)};
    await writeAtomic(join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
    await writeAtomic(join(outDir, "RESULTS.md"), renderResults(results));
    process.stdout.write(formatLoadTable(results.load.result) + "\n");
    if (results.load.result.problems.length > 0) process.exitCode = 1;
    return;
  }
  for (const rows of options.sizes) {
    try {
      results.sizes.push(await benchSize(rows, options));
      log(`${rows.toLocaleString("en-US")} 行：完成`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.failed.push({rows, error: message.split("\n").slice(-3).join(" ")});
      log(`${rows.toLocaleString("en-US")} 行：失败：${message}`);
    }
    await save();
  }
  const largest = results.sizes.at(-1);
  if (largest) {
    // The site of the last size built is still in the workspace: serve it under load.
    log("负载：nginx + wrk，发布包切换…");
    try {
      const result = await benchLoad(join(PROJECT, "bench", ".cache", "site", "dist"));
      results.load = {measured_at: new Date().toISOString(), rows: largest.rows, result};
    } catch (error) {
      results.failed.push({
        rows: 0,
        error: `负载测试：${error instanceof Error ? error.message : String(error)}`
      });
    }
  }
  process.stdout.write(await save());
  log(
    `结果：${join(outDir, "results.json")}、${join(outDir, "RESULTS.md")}；共用时 ${(results.seconds / 60).toFixed(1)} 分钟`
  );
  if (results.failed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`[bench] 失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
