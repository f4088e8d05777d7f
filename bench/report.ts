/** The benchmark's results: their shape (bench/results.json) and the markdown tables (bench/RESULTS.md). */
import type {Traffic} from "./browser.js";
import type {IngestBench} from "./ingest.js";
import {ratio, type Summary} from "./stats.js";

type Figures = Record<string, Summary | null>;

export interface SizeResult {
  rows: number;
  csv: {files: number; bytes: number; generated_s: number | null};
  ingest: IngestBench;
  build: {
    cold_ms: Summary | null;
    warm_ms: Summary | null;
    pages: number;
    district_pages: number;
    database_bytes: number;
    arrow_bytes: number;
  };
  traffic: Record<string, {first: Traffic; repeat: Traffic}>;
  overview: Figures;
  queries: {
    count: number;
    in_page_busy_ms: Summary | null;
    wasm_sequential_ms: Summary | null;
    native_sequential_ms: Summary | null;
  };
  baselines: Record<string, Figures>;
  problems: string[];
  seconds: number;
}

export interface Results {
  date: string;
  machine: {cpu: string; cores: number; memory_gb: number; os: string; node: string; chromium: string};
  config: {
    sizes: number[];
    runs: number;
    quick: boolean;
    throttle: {method: string} & Record<string, unknown>;
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

import {formatLoadTable, type LoadResult} from "./load.js";

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

interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

/** The issue's goals at 1M rows, each with what was measured and whether it is met. */
export function goals(size: SizeResult): Goal[] {
  const o = size.overview;
  const q = size.queries;
  const arq = size.baselines.arquero;
  const overviewData = size.traffic["/"]?.first;
  const dataBytes = overviewData ? overviewData.bytes.data : null;
  const dataGzip = overviewData ? overviewData.gzipBytes.data : null;
  const check = (value: number | null | undefined, limit: number): boolean | null =>
    value == null || !Number.isFinite(value) ? null : value <= limit;
  const filterVsArquero = ratio(o?.filter_change_ms, arq?.filter_change_ms);
  const wasmVsNative = ratio(q.wasm_sequential_ms, q.native_sequential_ms);
  const ingestRate = size.ingest.fundwatch.rows_per_s.total?.median ?? null;
  return [
    {
      goal: "overview last chart, cold ≤ 3.0 s",
      measured: seconds(o?.cold_ms),
      met: check(o?.cold_ms?.median, 3000)
    },
    {
      goal: "page-to-page (overview → 地区对比) ≤ 1.0 s",
      measured: seconds(o?.page_to_page_ms),
      met: check(o?.page_to_page_ms?.median, 1000)
    },
    {
      goal: "filter change ≤ 100 ms",
      measured: seconds(o?.filter_change_ms),
      met: check(o?.filter_change_ms?.median, 100)
    },
    {goal: "filter change ≤ 0.5× arquero's", measured: x(filterVsArquero), met: check(filterVsArquero, 0.5)},
    {
      goal: "DuckDB-WASM query time ≤ 3× native DuckDB",
      measured: x(wasmVsNative),
      met: check(wasmVsNative, 3)
    },
    {
      goal: "ingest ≥ 500k rows/s",
      measured: rate(size.ingest.fundwatch.rows_per_s.total),
      met: ingestRate === null ? null : ingestRate >= 500_000
    },
    {
      goal: "browser data ≤ 0.25× the CSV bytes (overview, first visit)",
      measured:
        dataBytes === null
          ? "—"
          : `${x(dataBytes / size.csv.bytes)} as served; ${x((dataGzip ?? NaN) / size.csv.bytes)} gzip`,
      met: check(dataBytes === null ? null : dataBytes / size.csv.bytes, 0.25)
    }
  ];
}

function trafficTable(size: SizeResult): string {
  const cell = (t: Traffic): string[] => [
    String(t.requests),
    mb(t.bytes.code),
    mb(t.bytes.duckdb),
    mb(t.bytes.data),
    mb(t.gzipBytes.code + t.gzipBytes.duckdb + t.gzipBytes.data)
  ];
  return table(
    [
      "page",
      "first: requests",
      "code",
      "DuckDB-WASM",
      "data",
      "all, gzip",
      "repeat: requests",
      "code",
      "DuckDB-WASM",
      "data",
      "all, gzip"
    ],
    Object.entries(size.traffic).map(([page, t]) => [page, ...cell(t.first), ...cell(t.repeat)])
  );
}

export function renderResults(results: Results): string {
  const m = results.machine;
  const out: string[] = [
    "# Fundwatch benchmark results",
    "",
    `Measured ${results.date.slice(0, 10)} by \`npm run bench${results.config.quick ? " -- --quick" : ""}\` (sizes ${results.config.sizes.map(rowsLabel).join(", ")}) in ${(results.seconds / 60).toFixed(1)} min, on ${m.cpu} (${m.cores} cores), ${m.memory_gb} GB, ${m.os}, Node ${m.node}, ${m.chromium}.`,
    `Each figure is the median of ${results.config.runs} runs, with the spread (min–max) in brackets. Browser figures are for headless Chromium on 127.0.0.1 with the network throttled to 100 Mbit/s and 2 ms latency ${results.config.throttle.method === "devtools" ? "through the DevTools protocol (`--throttle devtools`)" : "by a link emulator in front of the server (bench/link.ts: one shared link, each byte sent at the link's rate after the bytes queued before it, 1 ms each way), because DevTools' own throttling stalls responses for multiples of about 8 s in this Chromium (`--throttle devtools` reproduces it)"}. Sizes are inspection + finding rows; "rows read" counts every row of the 7 CSV files. Nothing here is asserted: these are reported figures.`,
    ""
  ];
  const at1m = results.sizes.find((s) => s.rows === 1_000_000);
  if (at1m) {
    out.push("## Goals at 1M rows", "");
    out.push(
      table(
        ["goal", "measured", "met"],
        goals(at1m).map((g) => [
          g.goal,
          g.measured,
          g.met === null ? "not measured" : g.met ? "yes" : "**no**"
        ])
      ),
      ""
    );
  }

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
      ["size", "cold (no caches)", "warm", "pages", "of which district pages", "database file"],
      results.sizes.map((s) => [
        rowsLabel(s.rows),
        seconds(s.build.cold_ms),
        seconds(s.build.warm_ms),
        String(s.build.pages),
        String(s.build.district_pages),
        mb(s.build.database_bytes)
      ])
    ),
    ""
  );

  out.push(
    "## 3. Bytes and requests per page",
    "",
    "Counted by the server: a repeat visit lists only what was not served from the browser's cache. Bytes as `npm start` serves them (uncompressed); the last column of each half is the same bodies gzip-compressed, as a compressing server would send them.",
    ""
  );
  for (const s of results.sizes) out.push(`### ${rowsLabel(s.rows)} rows`, "", trafficTable(s), "");

  out.push("## 4. In the browser", "");
  out.push(
    table(
      [
        "size",
        "overview cold",
        "overview warm",
        "page-to-page",
        "filter change",
        "JS heap",
        "DuckDB memory",
        "arquero cold",
        "arquero filter",
        "JSON cold",
        "JSON filter"
      ],
      results.sizes.map((s) => [
        rowsLabel(s.rows),
        seconds(s.overview.cold_ms),
        seconds(s.overview.warm_ms),
        seconds(s.overview.page_to_page_ms),
        seconds(s.overview.filter_change_ms),
        bytes(s.overview.js_heap_bytes),
        bytes(s.overview.duckdb_memory_bytes),
        seconds(s.baselines.arquero?.cold_ms),
        seconds(s.baselines.arquero?.filter_change_ms),
        seconds(s.baselines.json?.cold_ms),
        seconds(s.baselines.json?.filter_change_ms)
      ])
    ),
    ""
  );
  out.push(
    "Times run from the navigation's start to the last of the page's charts drawn; a filter change runs from the 地市 select's input event to the last DOM change once every chart on the page has been replaced by one drawn for the new filter and the page has been quiet for 500 ms, over the five cities and back to 全部. Arquero and JSON pages draw the same KPI figures, charts and ranking from Arrow files (arquero) or from figures computed at build time (JSON). Every page is served with the site's Content-Security-Policy, except that the arquero page's adds `'unsafe-eval'` to `script-src`: arquero compiles its expressions with `new Function`, which the site's policy refuses (a site built on arquero would have to allow it).",
    ""
  );
  out.push(
    table(
      [
        "size",
        "overview queries",
        "DuckDB busy during load",
        "DuckDB-WASM, one after another",
        "native DuckDB, same queries",
        "WASM ÷ native",
        "overview cold ÷ arquero",
        "overview cold ÷ JSON",
        "filter ÷ arquero",
        "JS heap ÷ arquero"
      ],
      results.sizes.map((s) => [
        rowsLabel(s.rows),
        String(s.queries.count),
        seconds(s.queries.in_page_busy_ms),
        seconds(s.queries.wasm_sequential_ms),
        seconds(s.queries.native_sequential_ms),
        x(ratio(s.queries.wasm_sequential_ms, s.queries.native_sequential_ms)),
        x(ratio(s.overview.cold_ms, s.baselines.arquero?.cold_ms)),
        x(ratio(s.overview.cold_ms, s.baselines.json?.cold_ms)),
        x(ratio(s.overview.filter_change_ms, s.baselines.arquero?.filter_change_ms)),
        x(ratio(s.overview.js_heap_bytes, s.baselines.arquero?.js_heap_bytes))
      ])
    ),
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
