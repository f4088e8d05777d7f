/**
 * `npm run bench [-- --quick] [--sizes 10000,100000] [--runs 3] [--throttle link|devtools]`
 *
 * Measures Fundwatch on the default campaign generated at 10k, 100k, 1M and 5M inspection + finding
 * rows (`--quick`: 10k and 100k), next to what a user could pick instead, on this machine in this run:
 * ingest (per stage, with native DuckDB reading the same CSV), the build (cold and warm), the bytes
 * and requests of each page, and in headless Chromium with a throttled network the overview's load,
 * page-to-page navigation, filter changes and memory, with the same overview computed by arquero over
 * Arrow and drawn from precomputed JSON, and its queries run by native DuckDB. Figures are reported,
 * never asserted. A full run writes bench/results.json and bench/RESULTS.md; a quick run writes them
 * under bench/.cache/quick/ so the committed full-run figures stay.
 */
import {cpus, totalmem, release, platform} from "node:os";
import {mkdir, readFile, stat} from "node:fs/promises";
import {writeAtomic} from "../loaders/outputs.js";
import {join, resolve} from "node:path";
import {execFileSync} from "node:child_process";
import {findChromium} from "../scripts/browser.js";
import {expectedCharts} from "../scripts/check-pages.js";
import {ensureDataset} from "./data.js";
import {formatLoadTable, runLoad, type LoadResult} from "./load.js";
import {benchIngest} from "./ingest.js";
import {nativeQueryPasses} from "./native.js";
import {
  busyTime,
  changeCity,
  CITIES,
  jsHeap,
  loadUntilCharts,
  openSession,
  pageQueries,
  rerunInPage,
  startLoggingServer,
  THROTTLE,
  type PageQuery,
  type ThrottleMethod,
  type Traffic
} from "./browser.js";
import {addBaselines, builtDatabase, PROJECT, prepareWorkspace, sitePages, timeBuild} from "./site.js";
import {summarize, type Summary} from "./stats.js";
import {renderResults, type Results, type SizeResult} from "./report.js";

const FULL_SIZES = [10_000, 100_000, 1_000_000, 5_000_000];
const QUICK_SIZES = [10_000, 100_000];
/** Pages whose bytes and requests are counted (the district page stands for all 29). */
export const TRAFFIC_PAGES = [
  "/",
  "/districts",
  "/recovery",
  "/progress",
  "/quality",
  "/district/640100",
  "/bench/arquero",
  "/bench/json"
];

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
  return {
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    chromium
  };
}

async function benchBrowser(siteDir: string, dbFile: string, {runs, throttle}: Options) {
  const served = await startLoggingServer(join(siteDir, "dist"), throttle);
  const origin = new URL(served.url).origin;
  const at = (path: string): string => new URL(path.replace(/^\//, ""), served.url).href;
  const charts = (path: string): Promise<number> => expectedCharts(join(siteDir, "reports"), path);
  const problems: string[] = [];
  try {
    // Bytes and requests: each page in a new profile, then again in the same one.
    const traffic: Record<string, {first: Traffic; repeat: Traffic}> = {};
    for (const path of TRAFFIC_PAGES) {
      const session = await openSession(origin, throttle);
      try {
        served.take();
        await loadUntilCharts(session, at(path), await charts(path));
        const first = await served.traffic(served.take());
        await loadUntilCharts(session, at(path), await charts(path));
        traffic[path] = {first, repeat: await served.traffic(served.take())};
      } catch (error) {
        problems.push(`${path}: ${(error as Error).message}`);
      }
      problems.push(...session.problems.map((p) => `${path}: ${p}`));
      await session.close();
    }
    log("流量：完成");

    const overview = {cold: [], warm: [], pageToPage: [], filter: [], heap: [], duckdb: []} as Record<
      string,
      number[]
    >;
    const queryRuns = {busy: [] as number[], wasm: [] as number[], native: [] as number[]};
    let queries: PageQuery[] = [];
    for (let run = 0; run < runs; ++run) {
      const session = await openSession(origin, throttle);
      try {
        overview.cold?.push(await loadUntilCharts(session, at("/"), await charts("/")));
        overview.warm?.push(await loadUntilCharts(session, at("/"), await charts("/")));
        queries = await pageQueries(session);
        queryRuns.busy.push(busyTime(queries));
        overview.pageToPage?.push(
          await loadUntilCharts(session, at("/districts"), await charts("/districts"))
        );
        await loadUntilCharts(session, at("/"), await charts("/"));
        for (const city of CITIES) overview.filter?.push(await changeCity(session, city, await charts("/")));
        overview.heap?.push(await jsHeap(session));
        await loadUntilCharts(session, at("/"), await charts("/"));
        const rerun = await rerunInPage(session, queries, 3);
        queryRuns.wasm.push(...rerun.passes.slice(1));
        overview.duckdb?.push(rerun.duckdbMemory);
      } catch (error) {
        problems.push(`/ (第 ${run + 1} 轮): ${(error as Error).message}`);
      }
      problems.push(...session.problems.map((p) => `/ (第 ${run + 1} 轮): ${p}`));
      await session.close();
      log(`浏览器第 ${run + 1}/${runs} 轮：总览冷启动 ${Math.round(overview.cold?.at(-1) ?? NaN)} ms`);
    }
    // Native DuckDB: one warm-up pass, then `runs` passes.
    queryRuns.native = (await nativeQueryPasses(dbFile, queries, runs + 1)).slice(1);

    const baselines: Record<string, Record<string, Summary | null>> = {};
    for (const name of ["arquero", "json"]) {
      const path = `/bench/${name}`;
      const rows = {cold: [], warm: [], filter: [], heap: []} as Record<string, number[]>;
      for (let run = 0; run < runs; ++run) {
        const session = await openSession(origin, throttle);
        try {
          rows.cold?.push(await loadUntilCharts(session, at(path), await charts(path)));
          rows.warm?.push(await loadUntilCharts(session, at(path), await charts(path)));
          for (const city of CITIES) rows.filter?.push(await changeCity(session, city, await charts(path)));
          rows.heap?.push(await jsHeap(session));
        } catch (error) {
          problems.push(`${path} (第 ${run + 1} 轮): ${(error as Error).message}`);
        }
        problems.push(...session.problems.map((p) => `${path} (第 ${run + 1} 轮): ${p}`));
        await session.close();
      }
      baselines[name] = {
        cold_ms: summarize(rows.cold ?? []),
        warm_ms: summarize(rows.warm ?? []),
        filter_change_ms: summarize(rows.filter ?? []),
        js_heap_bytes: summarize(rows.heap ?? [])
      };
      log(`基线 ${name}：冷启动 ${Math.round(baselines[name]?.cold_ms?.median ?? NaN)} ms`);
    }
    return {
      traffic,
      overview: {
        cold_ms: summarize(overview.cold ?? []),
        warm_ms: summarize(overview.warm ?? []),
        page_to_page_ms: summarize(overview.pageToPage ?? []),
        filter_change_ms: summarize(overview.filter ?? []),
        js_heap_bytes: summarize(overview.heap ?? []),
        duckdb_memory_bytes: summarize(overview.duckdb ?? [])
      },
      queries: {
        count: queries.length,
        in_page_busy_ms: summarize(queryRuns.busy),
        wasm_sequential_ms: summarize(queryRuns.wasm),
        native_sequential_ms: summarize(queryRuns.native)
      },
      baselines,
      problems
    };
  } finally {
    served.close();
  }
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
    cold.push(await timeBuild(siteDir, data.dir, true));
    warm.push(await timeBuild(siteDir, data.dir, false));
    log(
      `构建第 ${run + 1}/${options.runs} 轮：冷 ${((cold.at(-1) ?? 0) / 1000).toFixed(1)} s，热 ${((warm.at(-1) ?? 0) / 1000).toFixed(1)} s`
    );
  }
  const pages = await sitePages(siteDir);
  const databaseBytes = (await stat(await builtDatabase(siteDir))).size;
  const arrowBytes = await addBaselines(siteDir, data.dir);
  const siteDb = await builtDatabase(siteDir);
  const browserResult = await benchBrowser(siteDir, siteDb, options);
  return {
    rows,
    csv: {files: data.files.length, bytes: data.csvBytes, generated_s: data.generatedSeconds},
    ingest,
    build: {
      cold_ms: summarize(cold),
      warm_ms: summarize(warm),
      pages: pages.length,
      district_pages: pages.filter((p) => p.startsWith("/district/")).length,
      database_bytes: databaseBytes,
      arrow_bytes: arrowBytes
    },
    ...browserResult,
    seconds: (performance.now() - sizeStart) / 1000
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  findChromium();
  const results: Results = {
    date: new Date().toISOString(),
    machine: machine(),
    config: {
      sizes: options.sizes,
      runs: options.runs,
      quick: options.quick,
      throttle: {method: options.throttle, ...THROTTLE}
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
