/** The benchmark's results: their shape (bench/results.json) and the markdown tables (bench/RESULTS.md). */
import type {DetailReadResult} from "./detail-read.js";
import type {FirstViewStats} from "../src/duckdb/first-view.js";
import type {IngestBench} from "./ingest.js";
import {formatLoadTable, type LoadResult} from "./load.js";
import type {Traffic} from "./nginx.js";
import {ratio, type Summary} from "./stats.js";

/** The shape of results.json: 2 since pages are served by nginx and measured page by page. */
export const RESULTS_FORMAT = 2;

/** One kind of page load, over the runs (ms from the navigation's start; see bench/browser.ts PageLoad). */
export interface LoadFigures {
  first_chart_ms: Summary | null;
  all_charts_ms: Summary | null;
  duckdb_ready_ms: Summary | null;
  /** Every chart drawn and DuckDB-WASM ready: the filters work. */
  live_ms: Summary | null;
}

/** A page's memory over the runs, in bytes (see bench/browser.ts PageMemory). */
export interface MemoryFigures {
  js_heap_bytes: Summary | null;
  page_buffers_bytes: Summary | null;
  worker_heap_bytes: Summary | null;
  worker_buffers_bytes: Summary | null;
  wasm_bytes: Summary | null;
  duckdb_reported_bytes: Summary | null;
  js_and_duckdb_bytes: Summary | null;
  tab_bytes: Summary | null;
}

export interface PageResult {
  /** A page of the site, or a baseline (/bench/arquero, /bench/json). */
  kind: "site" | "baseline";
  /** Charts the page declares (`charts:` in its front matter). */
  charts: number;
  /** Whether the page has the 地市 filter (filter changes are measured only there). */
  city_filter: boolean;
  /** A new profile: nothing cached. */
  cold: LoadFigures;
  /** The same page again in the same profile. */
  warm: LoadFigures;
  /** Navigating to the page from `page_to_page_from` (live, warm cache) in the same profile; null for a baseline. */
  page_to_page: LoadFigures | null;
  page_to_page_from: string | null;
  /** The 地市 select through five cities and back to 全部, each until redrawn. */
  filter_change_ms: Summary | null;
  /** After the cold load, once live and settled. */
  memory: MemoryFigures;
  /** After the filter changes (pages with the filter). */
  memory_after_filters: MemoryFigures | null;
  /** `globalThis.__fundwatchFirstView` when the cold load was live (first run), and after the filter changes. */
  first_view: FirstViewStats | null;
  first_view_after_filters: FirstViewStats | null;
  /** Queries of the page the build left to DuckDB-WASM (build.json first_view.skipped); null: no first view. */
  first_view_skipped: number | null;
  /** Bytes and requests of the first (cold) and repeat (warm) visit, first run; null when it failed. */
  traffic: {first: Traffic; repeat: Traffic} | null;
}

export interface SizeResult {
  rows: number;
  csv: {files: number; bytes: number; generated_s: number | null};
  ingest: IngestBench;
  build: {
    /** `npm run build -- --no-check`, every cache removed, and again with nothing changed. */
    cold_ms: Summary | null;
    warm_ms: Summary | null;
    /** `npm run build` (page check and first view) with nothing changed: one run; the site measured. */
    checked_ms: Summary | null;
    /** build.json of the site measured: "passed" (checked, first view written) or "skipped". */
    page_check: string;
    first_view: {pages: number; queries: number; skipped: number} | null;
    pages: number;
    district_pages: number;
    /** The full data file (every table). */
    database_bytes: number;
    /** The small file pages fetch first (cube and every table but the record tables); absent before it existed. */
    core_bytes?: number;
    /** The first file pages fetch (`fundwatch-first.*.duckdb`), when the site has one. */
    first_bytes?: number;
    arrow_bytes: number;
  };
  /** Every page measured, by path (SITE_PAGES and BASELINE_PAGES of bench/run.ts). */
  pages: Record<string, PageResult>;
  /** The overview with the first view off: its queries in DuckDB-WASM and in native DuckDB. */
  queries: {
    count: number;
    overview_computed: LoadFigures;
    in_page_busy_ms: Summary | null;
    wasm_sequential_ms: Summary | null;
    native_sequential_ms: Summary | null;
  };
  /** The detail file fetched whole against DuckDB-WASM's range reads (bench/detail-read.ts); absent in older runs. */
  detail_read?: DetailReadResult | null;
  problems: string[];
  seconds: number;
}

export interface Results {
  format?: number;
  date: string;
  machine: {
    cpu: string;
    cores: number;
    memory_gb: number;
    os: string;
    node: string;
    chromium: string;
    nginx?: string;
  };
  config: {
    /** The command's arguments (`npm run bench -- …`). */
    args?: string[];
    sizes: number[];
    runs: number;
    quick: boolean;
    throttle: {method: string} & Record<string, unknown>;
    served?: {server: string; config: string; prefix: string};
  };
  sizes: SizeResult[];
  /** Sizes whose run stopped with an error (a build that failed, say), with the error. */
  failed: {rows: number; error: string}[];
  seconds: number;
  /**
   * Serving under load (bench/load.ts): wrk against a real nginx with deploy/nginx's configuration while
   * a second release is installed; measured on the site of `rows` (the largest size built), or null.
   */
  load?: {measured_at: string; rows: number | null; result: LoadResult} | null;
}

const rowsLabel = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const mb = (bytes: number | null | undefined): string =>
  bytes == null || !Number.isFinite(bytes) ? "—" : `${(bytes / 1e6).toFixed(1)} MB`;
const x = (r: number | null): string => (r === null || !Number.isFinite(r) ? "—" : `${r.toFixed(2)}×`);

/** "1.23 s (1.20–1.31)": median and spread; ms under 10 s are shown in ms. */
export function seconds(s: Summary | null | undefined): string {
  if (!s) return "—";
  const f = (ms: number): string => (s.median < 10_000 ? `${Math.round(ms)}` : (ms / 1000).toFixed(1));
  const unit = s.median < 10_000 ? "ms" : "s";
  return s.min !== s.max ? `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)})` : `${f(s.median)} ${unit}`;
}
const bytes = (s: Summary | null | undefined): string =>
  !s ? "—" : s.min !== s.max ? `${mb(s.median)} (${mb(s.min)}–${mb(s.max)})` : mb(s.median);
const count = (s: Summary | null | undefined): string =>
  !s ? "—" : s.min !== s.max ? `${s.median} (${s.min}–${s.max})` : String(s.median);
const rate = (s: Summary | null | undefined): string =>
  !s
    ? "—"
    : `${Math.round(s.median / 1000).toLocaleString("en-US")}k/s` +
      (s.min !== s.max ? ` (${Math.round(s.min / 1000)}k–${Math.round(s.max / 1000)}k)` : "");

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n");
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

const check = (value: number | null | undefined, limit: number): boolean | null =>
  value == null || !Number.isFinite(value) ? null : value <= limit;

const sitePages = (size: SizeResult): [string, PageResult][] =>
  Object.entries(size.pages ?? {}).filter(([, p]) => p.kind === "site");

/**
 * A goal every page must meet: the worst page's median against `limit`, with the page named; met only
 * when every page it applies to has a figure within the limit (a page without one makes it unknown).
 */
function everyPage(
  goal: string,
  pages: [string, PageResult][],
  figure: (p: PageResult) => Summary | null | undefined,
  limit: number,
  show: (s: Summary | null | undefined) => string = seconds
): Goal {
  if (pages.length === 0) return {goal, measured: "—", met: null};
  const values = pages.map(([path, p]) => ({path, s: figure(p)}));
  const missing = values.filter((v) => !v.s);
  const worst = values.filter((v) => v.s).sort((a, b) => (b.s?.median ?? 0) - (a.s?.median ?? 0))[0];
  const over = values.filter((v) => v.s && v.s.median > limit).length;
  const measured = worst
    ? `worst ${worst.path}: ${show(worst.s)}; ${values.length - over - missing.length} of ${values.length} pages within` +
      (missing.length ? `; not measured: ${missing.map((m) => m.path).join(", ")}` : "")
    : "—";
  return {goal, measured, met: missing.length > 0 ? null : check(worst?.s?.median, limit)};
}

const withCharts = (size: SizeResult) => sitePages(size).filter(([, p]) => p.charts > 0);
const withFilter = (size: SizeResult) => sitePages(size).filter(([, p]) => p.city_filter);

/** The larger of a page's memory after load and after the filter changes (medians). */
function peakMemory(p: PageResult): Summary | null {
  const a = p.memory?.js_and_duckdb_bytes ?? null;
  const b = p.memory_after_filters?.js_and_duckdb_bytes ?? null;
  return !a ? b : !b ? a : a.median >= b.median ? a : b;
}

/**
 * Issue #20's goals for `size` (at 1M or 5M rows; none at other sizes), as nginx serves the pages,
 * each with what was measured and whether it is met. Reported, never asserted.
 */
export function goals(size: SizeResult): Goal[] {
  const overview = size.pages?.["/"];
  const arquero = size.pages?.["/bench/arquero"];
  if (size.rows === 1_000_000) {
    const vsArquero = ratio(overview?.filter_change_ms, arquero?.filter_change_ms);
    return [
      everyPage(
        "first chart, cold ≤ 1.0 s (every page with charts)",
        withCharts(size),
        (p) => p.cold.first_chart_ms,
        1000
      ),
      everyPage(
        "every chart drawn with filters live, cold ≤ 2.5 s (every page)",
        sitePages(size),
        (p) => p.cold.live_ms,
        2500
      ),
      everyPage(
        "page-to-page (from the overview, warm cache): every chart drawn ≤ 0.5 s (every page with charts)",
        withCharts(size),
        (p) => p.page_to_page?.all_charts_ms,
        500
      ),
      everyPage(
        "filter change ≤ 100 ms (every page with the 地市 filter)",
        withFilter(size),
        (p) => p.filter_change_ms,
        100
      ),
      {goal: "filter change ≤ 0.1× arquero's (overview)", measured: x(vsArquero), met: check(vsArquero, 0.1)}
    ];
  }
  if (size.rows === 5_000_000)
    return [
      everyPage(
        "every chart drawn with filters live, cold ≤ 4 s (every page)",
        sitePages(size),
        (p) => p.cold.live_ms,
        4000
      ),
      everyPage(
        "filter change ≤ 250 ms (every page with the 地市 filter)",
        withFilter(size),
        (p) => p.filter_change_ms,
        250
      ),
      everyPage(
        "JS heap + DuckDB memory ≤ 300 MB (every page, after load or after the filter changes, the larger)",
        sitePages(size),
        peakMemory,
        300e6,
        bytes
      )
    ];
  return [];
}

/** Earlier goals of the benchmark that still make sense, at 1M rows. */
export function earlierGoals(size: SizeResult): Goal[] {
  const q = size.queries;
  const wasmVsNative = ratio(q?.wasm_sequential_ms, q?.native_sequential_ms);
  const ingestRate = size.ingest.fundwatch.rows_per_s.total?.median ?? null;
  const first = size.pages?.["/"]?.traffic?.first;
  const sent = first ? first.sent.data : null;
  return [
    {
      goal: "DuckDB-WASM query time ≤ 3× native DuckDB (the overview's queries, one after another)",
      measured: x(wasmVsNative),
      met: check(wasmVsNative, 3)
    },
    {
      goal: "ingest ≥ 500k rows/s",
      measured: rate(size.ingest.fundwatch.rows_per_s.total),
      met: ingestRate === null ? null : ingestRate >= 500_000
    },
    {
      goal: "browser data ≤ 0.25× the CSV bytes (overview, first visit, as sent)",
      measured: sent === null ? "—" : `${x(sent / size.csv.bytes)} (${mb(sent)} of ${mb(size.csv.bytes)})`,
      met: check(sent === null ? null : sent / size.csv.bytes, 0.25)
    }
  ];
}

const goalTable = (list: Goal[]): string =>
  table(
    ["goal", "measured (medians)", "met"],
    list.map((g) => [g.goal, g.measured, g.met === null ? "not measured" : g.met ? "yes" : "**no**"])
  );

const firstViewText = (p: PageResult): string => {
  const v = p.first_view;
  if (!v) return p.kind === "baseline" ? "—" : "?";
  const left = p.first_view_skipped ? `; ${p.first_view_skipped} left to the browser at build` : "";
  return v.state === "on"
    ? `${v.served} served / ${v.computed} computed${left}`
    : `${v.state}: ${v.computed} computed`;
};

function coldTable(size: SizeResult): string {
  return table(
    [
      "page",
      "charts",
      "first chart",
      "every chart",
      "DuckDB-WASM ready",
      "filters live",
      "first view (queries)"
    ],
    Object.entries(size.pages).map(([path, p]) => [
      path,
      String(p.charts),
      seconds(p.cold.first_chart_ms),
      seconds(p.cold.all_charts_ms),
      seconds(p.cold.duckdb_ready_ms),
      seconds(p.cold.live_ms),
      firstViewText(p)
    ])
  );
}

function warmTable(size: SizeResult): string {
  return table(
    [
      "page",
      "warm: first chart",
      "every chart",
      "filters live",
      "page-to-page from",
      "first chart",
      "every chart",
      "filters live"
    ],
    Object.entries(size.pages).map(([path, p]) => [
      path,
      seconds(p.warm.first_chart_ms),
      seconds(p.warm.all_charts_ms),
      seconds(p.warm.live_ms),
      p.page_to_page_from ?? "—",
      seconds(p.page_to_page?.first_chart_ms),
      seconds(p.page_to_page?.all_charts_ms),
      seconds(p.page_to_page?.live_ms)
    ])
  );
}

function memoryTable(size: SizeResult): string {
  return table(
    [
      "page",
      "filter change",
      "queries after the changes: served / computed",
      "JS heap + DuckDB, after load",
      "after filters",
      "page: JS heap",
      "page: buffers",
      "worker: JS heap",
      "worker: buffers",
      "worker: wasm memory",
      "DuckDB's own count",
      "tab (renderer, private)"
    ],
    Object.entries(size.pages).map(([path, p]) => [
      path,
      p.city_filter ? seconds(p.filter_change_ms) : "no 地市 filter",
      p.first_view_after_filters
        ? `${p.first_view_after_filters.served} / ${p.first_view_after_filters.computed}`
        : "—",
      bytes(p.memory.js_and_duckdb_bytes),
      bytes(p.memory_after_filters?.js_and_duckdb_bytes),
      bytes(p.memory.js_heap_bytes),
      bytes(p.memory.page_buffers_bytes),
      bytes(p.memory.worker_heap_bytes),
      bytes(p.memory.worker_buffers_bytes),
      bytes(p.memory.wasm_bytes),
      bytes(p.memory.duckdb_reported_bytes),
      bytes(p.memory.tab_bytes)
    ])
  );
}

function trafficTable(size: SizeResult): string {
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  return table(
    [
      "page",
      "first: requests",
      "code",
      "DuckDB-WASM",
      "data",
      "all, as sent",
      "all, uncompressed",
      "gzip responses",
      "repeat: requests",
      "of which 304",
      "all, as sent"
    ],
    Object.entries(size.pages).map(([path, p]) => {
      const t = p.traffic;
      if (!t) return [path, "—", "—", "—", "—", "—", "—", "—", "—", "—", "—"];
      return [
        path,
        String(t.first.requests),
        mb(t.first.sent.code),
        mb(t.first.sent.duckdb),
        mb(t.first.sent.data),
        mb(sum(t.first.sent)),
        mb(sum(t.first.files)),
        String(t.first.gzip),
        String(t.repeat.requests),
        String(t.repeat.notModified),
        mb(sum(t.repeat.sent))
      ];
    })
  );
}

export function renderResults(results: Results): string {
  const m = results.machine;
  const link =
    results.config.throttle.method === "devtools"
      ? "throttled to 100 Mbit/s and 2 ms latency in the browser through the DevTools protocol (`--throttle devtools`)"
      : "through a link emulator in front of nginx (bench/link.ts: 100 Mbit/s each way, 2 ms round trip, one link shared by every connection, each byte sent at the link's rate after the bytes queued before it), because DevTools' own throttling stalls responses for multiples of about 8 s in this Chromium (`--throttle devtools` reproduces it)";
  const sizes = results.sizes.filter((s) => s.pages);
  const out: string[] = [
    "# Fundwatch benchmark results",
    "",
    `Measured ${results.date.slice(0, 10)} by \`npm run bench${results.config.args?.length ? ` -- ${results.config.args.join(" ")}` : results.config.quick ? " -- --quick" : ""}\` (sizes ${results.config.sizes.map(rowsLabel).join(", ")}) in ${(results.seconds / 60).toFixed(1)} min, on ${m.cpu} (${m.cores} cores), ${m.memory_gb} GB, ${m.os}, Node ${m.node}, ${m.chromium}${m.nginx ? `, ${m.nginx}` : ""}.`,
    `Each figure is the median of ${results.config.runs} run${results.config.runs === 1 ? "" : "s"}, with the spread (min–max) in brackets. Pages are served as readers get them: the site built by \`npm run build\` (with the page check, which writes each page's pre-baked first view, and the \`.gz\` files) is served by Debian's nginx with deploy/nginx's configuration under ${results.config.served?.prefix ?? "/reports/fund/"} (gzip_static, the same Cache-Control, ETag and Content-Security-Policy headers), ${link}, to headless Chromium on 127.0.0.1. Sizes are inspection + finding rows; "rows read" counts every row of the 7 CSV files. Nothing here is asserted: these are reported figures.`,
    ""
  ];
  if (results.sizes.length > sizes.length)
    out.push(
      `(${results.sizes.length - sizes.length} size(s) in results.json come from an earlier format of the benchmark and are not shown.)`,
      ""
    );
  for (const rows of [1_000_000, 5_000_000]) {
    const size = sizes.find((s) => s.rows === rows);
    out.push(`## Goals at ${rowsLabel(rows)} rows, as nginx serves the pages`, "");
    out.push(size ? goalTable(goals(size)) : `Not measured: the run had no ${rowsLabel(rows)} size.`, "");
  }
  const at1m = sizes.find((s) => s.rows === 1_000_000);
  if (at1m) out.push("Earlier goals, at 1M rows:", "", goalTable(earlierGoals(at1m)), "");
  out.push(
    "A page's cold figures are for a new browser profile (nothing cached); \"every page\" means the six pages of section 3 (the district page stands for all 29), and the worst page's median is shown. JS heap + DuckDB is defined under section 3.",
    ""
  );

  out.push("## 1. Ingest (rows per second of each stage; peak RSS)", "");
  out.push(
    table(
      [
        "size",
        "rows read",
        "CSV",
        "read + decode",
        "normalize + validate",
        "write",
        "whole ingest",
        "peak RSS",
        "native DuckDB",
        "native peak RSS",
        "native ÷ Fundwatch"
      ],
      results.sizes.map((s) => {
        const f = s.ingest.fundwatch;
        const n = s.ingest.native;
        return [
          rowsLabel(s.rows),
          (f.rows_read ?? n.rows_read ?? NaN).toLocaleString("en-US"),
          mb(s.csv.bytes),
          rate(f.rows_per_s.read),
          rate(f.rows_per_s.validate),
          rate(f.rows_per_s.write),
          rate(f.rows_per_s.total),
          bytes(f.max_rss_bytes),
          rate(n.rows_per_s.total),
          bytes(n.max_rss_bytes),
          x(s.ingest.ratio.total_rows_per_s)
        ];
      })
    ),
    ""
  );

  out.push("## 2. Build (`npm run build`, PDF briefing off)", "");
  out.push(
    table(
      [
        "size",
        "no page check: cold (no caches)",
        "warm",
        "with the page check: warm (1 run)",
        "the check's share",
        "first view: pages / queries baked / left to the browser",
        "pages",
        "of which district pages",
        "data files: first / small / full"
      ],
      sizes.map((s) => {
        const share =
          s.build.checked_ms && s.build.warm_ms ? s.build.checked_ms.median - s.build.warm_ms.median : null;
        const v = s.build.first_view;
        return [
          rowsLabel(s.rows),
          seconds(s.build.cold_ms),
          seconds(s.build.warm_ms),
          seconds(s.build.checked_ms),
          share === null ? "—" : seconds({median: share, min: share, max: share, n: 1}),
          s.build.page_check !== "passed"
            ? `none (page check ${s.build.page_check})`
            : v
              ? `${v.pages} / ${v.queries} / ${v.skipped}`
              : "—",
          String(s.build.pages),
          String(s.build.district_pages),
          s.build.core_bytes === undefined
            ? mb(s.build.database_bytes)
            : `${s.build.first_bytes === undefined ? "—" : mb(s.build.first_bytes)} / ${mb(s.build.core_bytes)} / ${mb(s.build.database_bytes)}`
        ];
      })
    ),
    "",
    "Cold removes every cache (the loaders rerun: the ingest of the whole data set); warm changes nothing (the loaders' outputs are reused). The page check (`npm run build` without `--no-check`) opens every page in Chromium, compares each query with native DuckDB and writes native DuckDB's answers into each page as its first view: a release is built with it, so the site measured below is that build (warm, since its data was just ingested by the builds before it); a cold build with the check takes about the cold time plus the check's share.",
    ""
  );

  out.push(
    "## 3. Page by page",
    "",
    "Times in ms from the navigation's start (performance.now() in the page). **First chart**: the first `figure[data-fw-chart]` with marks (`svg [aria-label] > *`). **Every chart**: the last of the charts the page declares (front matter `charts:`). **DuckDB-WASM ready**: the SDK's `fundwatch:duckdb-ready` mark (DuckDB-WASM started and the data file attached). **Filters live**: every chart drawn and DuckDB-WASM ready, the later of the two (a filter change before that waits for DuckDB-WASM). **First view**: `globalThis.__fundwatchFirstView` once live: queries answered from the page's pre-baked first view / computed by DuckDB-WASM, and the page's queries the build left to the browser. Cold: a new profile. Warm: the same page again in that profile. Page-to-page: in one profile, from the overview (live) to the page (to the overview from 地区对比).",
    "",
    "**Filter change**: the 地市 combobox through five cities and back to 全部, from the input event to the last DOM change once every chart has been replaced by one drawn for the new filter and the page has been quiet for 500 ms; the median over the six changes and the runs. A filtered view (a query string in the URL) is computed by DuckDB-WASM; back at 全部 the URL has none again and the first view answers what it holds (the queries column counts both, from the cold load on). **Memory**, after the cold load (and again after the filter changes), each after a garbage collection, read through DevTools: *page: JS heap* is the main thread's V8 heap in use; *page: buffers* its ArrayBuffers (the SDK keeps the downloaded data file there); *worker* is DuckDB-WASM's worker: its V8 heap, its ArrayBuffers and its WebAssembly memory as grown (DuckDB's whole native heap: the copy of the data file it attaches, its buffer pool and query state); **JS heap + DuckDB** adds up those five. *DuckDB's own count* is `duckdb_memory()` (its buffer pool, part of the wasm memory). *Tab* is the private memory of the renderer process running the page and its worker (/proc smaps_rollup): also compiled code, DOM and layout.",
    "",
    "**Bytes** are counted by nginx (`$bytes_sent`: headers and body as sent, gzip where the build wrote a `.gz`) for the cold visit and the warm one (a cache hit never reaches nginx; a 304 is a revalidated page); uncompressed is the same responses' files. The arquero page is served with the site's CSP plus `'unsafe-eval'` (arquero compiles its expressions with `new Function`, which the site's `script-src` refuses; a site built on arquero would have to allow it); every other response has deploy/nginx's headers unchanged.",
    ""
  );
  for (const s of sizes)
    out.push(
      `### ${rowsLabel(s.rows)} rows`,
      "",
      "Cold:",
      "",
      coldTable(s),
      "",
      "Warm and page-to-page:",
      "",
      warmTable(s),
      "",
      "Filter change and memory:",
      "",
      memoryTable(s),
      "",
      "Bytes and requests:",
      "",
      trafficTable(s),
      ""
    );

  out.push(
    "## 4. The overview's queries, and the baselines",
    "",
    "The overview opened cold with the first view switched off (`globalThis.__fundwatchFirstViewOff`: every query in DuckDB-WASM, as a filtered view is), its queries (the SDK's `fundwatch:query` measures) run again one after another in the page's DuckDB-WASM and in native DuckDB in Node on the same file; and the overview against the same figures computed by arquero over Arrow (`/bench/arquero`) and drawn from JSON computed at build time (`/bench/json`).",
    "",
    table(
      [
        "size",
        "queries",
        "first view off: every chart",
        "filters live",
        "DuckDB busy during load",
        "DuckDB-WASM, one after another",
        "native DuckDB",
        "WASM ÷ native",
        "overview live ÷ arquero's",
        "overview live ÷ JSON's",
        "filter ÷ arquero's",
        "memory ÷ arquero's"
      ],
      sizes.map((s) => {
        const o = s.pages["/"];
        const a = s.pages["/bench/arquero"];
        const j = s.pages["/bench/json"];
        return [
          rowsLabel(s.rows),
          String(s.queries.count),
          seconds(s.queries.overview_computed.all_charts_ms),
          seconds(s.queries.overview_computed.live_ms),
          seconds(s.queries.in_page_busy_ms),
          seconds(s.queries.wasm_sequential_ms),
          seconds(s.queries.native_sequential_ms),
          x(ratio(s.queries.wasm_sequential_ms, s.queries.native_sequential_ms)),
          x(ratio(o?.cold.live_ms, a?.cold.live_ms)),
          x(ratio(o?.cold.live_ms, j?.cold.live_ms)),
          x(ratio(o?.filter_change_ms, a?.filter_change_ms)),
          x(ratio(o?.memory.js_and_duckdb_bytes, a?.memory.js_and_duckdb_bytes))
        ];
      })
    ),
    ""
  );
  const withDetail = sizes.filter((s) => s.detail_read);
  if (withDetail.length > 0)
    out.push(
      "## 5. The detail file: fetched whole or read by range",
      "",
      "The page `/bench/range` answers the two queries the site's pages ask of the detail rows (the 20 largest cases of /recovery, the 30 institutions with findings of 银川市's district page) on the full data file in DuckDB-WASM, either fetched whole and registered as a buffer (`?mode=fetch`, what the SDK does) or registered by URL and read with HTTP range requests (`?mode=range`, DuckDB-WASM's HTTP file system). Each run: a cold visit on a new profile, then a reload of the page (F5) in that profile. Times from the navigation's start to the answers; requests and bytes are those for `.duckdb` files as nginx counted and sent them (with deploy/nginx's headers: gzip where a `.gz` exists and the request accepts it). **Wrong** counts visits whose answers differed from the first fetch-mode answers.",
      "",
      table(
        [
          "size",
          "mode",
          "cold: answers",
          "requests",
          "bytes sent",
          "reload: answers",
          "requests",
          "bytes sent",
          "statuses (cold; reload)",
          "wrong",
          "failed"
        ],
        withDetail.flatMap((s) =>
          (["fetch", "range"] as const).map((mode) => {
            const f = s.detail_read?.[mode];
            const statuses = (r: Record<string, number>): string =>
              Object.entries(r)
                .map(([status, n]) => `${n}× ${status}`)
                .join(", ") || "none";
            return f
              ? [
                  rowsLabel(s.rows),
                  mode === "fetch" ? "fetched whole" : "range reads",
                  seconds(f.cold_ms),
                  count(f.cold_requests),
                  bytes(f.cold_sent_bytes),
                  seconds(f.reload_ms),
                  count(f.reload_requests),
                  bytes(f.reload_sent_bytes),
                  f.statuses ? `${statuses(f.statuses.cold)}; ${statuses(f.statuses.reload)}` : "—",
                  `${f.wrong_answers} of ${f.visits}`,
                  String(f.failures)
                ]
              : [rowsLabel(s.rows), mode, "—", "—", "—", "—", "—", "—", "—", "—", "—"];
          })
        )
      ),
      "",
      "Range reads need partial answers (206). Where the range row shows only 200s, nginx answered DuckDB-WASM's ranged request with the whole pre-compressed file (gzip_static sends the `.gz` to a request that accepts gzip, and a browser's requests always do, whatever their Range), and DuckDB-WASM read it whole: the same traffic as fetching whole. The SDK fetches whole (README, \"Whole files, not HTTP range reads\").",
      ""
    );
  const problems = results.sizes.flatMap((s) => s.problems.map((p) => `- ${rowsLabel(s.rows)}: ${p}`));
  problems.push(
    ...(results.failed ?? []).map((f) => `- ${rowsLabel(f.rows)}: **the run stopped**: ${f.error}`)
  );
  out.push("## Problems seen during the run", "", ...(problems.length ? problems : ["None."]), "");
  out.push(
    "## Time taken",
    "",
    table(
      ["size", "minutes"],
      results.sizes.map((s) => [rowsLabel(s.rows), (s.seconds / 60).toFixed(1)])
    ),
    ""
  );
  if (results.load) {
    const {result, rows, measured_at} = results.load;
    out.push(
      "## Serving under load (nginx)",
      "",
      `Measured ${measured_at.slice(0, 10)} by \`bench/load.ts\` on ${rows === null ? "a dist/ built by `npm run build` on the default data (`--load-only`)" : `the ${rowsLabel(rows)} site`}: Debian's nginx on 127.0.0.1 with deploy/nginx's configuration serves release A under /reports/fund/; wrk (${result.config.threads} threads, ${result.config.connections} connections, ${result.config.durationSeconds} s, ${result.config.timeoutSeconds} s timeout) cycles through all ${result.urls} URLs of A (every file, and every page by its clean URL, some with Accept-Encoding: gzip), and after ${result.config.swapAtSeconds} s deploy/install.sh installs release B (new data file, changed page) and swaps it in. One run: the machine's two cores serve nginx and wrk at once.`,
      "",
      formatLoadTable(result),
      "",
      result.problems.length === 0
        ? "No socket error, no non-2xx response, and the swap happened under load."
        : `Problems: ${result.problems.join("; ")}`,
      ""
    );
  }
  return out.join("\n");
}
