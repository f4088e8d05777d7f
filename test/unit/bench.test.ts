import {readFile} from "node:fs/promises";
import {describe, expect, it} from "vitest";
import {busyTime, DUCKDB_READY_MARK, QUERY_MEASURE} from "../../bench/browser.js";
import {categoryOf, parseAccessLine} from "../../bench/nginx.js";
import {
  earlierGoals,
  goals,
  seconds,
  type MemoryFigures,
  type PageResult,
  type SizeResult
} from "../../bench/report.js";
import {median, ratio, summarize} from "../../bench/stats.js";

describe("benchmark statistics", () => {
  it("takes the median of odd and even counts, and the spread, leaving failed runs out", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([5, null, 1, 3])).toEqual({median: 3, min: 1, max: 5, n: 3});
    expect(summarize([null, undefined, NaN])).toBeNull();
    expect(ratio({median: 6, min: 6, max: 6, n: 1}, {median: 3, min: 3, max: 3, n: 1})).toBe(2);
    expect(ratio({median: 6, min: 6, max: 6, n: 1}, null)).toBeNull();
  });
  it("counts overlapping queries' wall time once", () => {
    expect(
      busyTime([
        {start: 0, ms: 10},
        {start: 5, ms: 10},
        {start: 30, ms: 5},
        {start: 31, ms: 1}
      ])
    ).toBe(20);
    expect(busyTime([])).toBe(0);
  });
  it("sorts what a page loads into code, DuckDB-WASM and data, under the site's prefix too", () => {
    expect(categoryOf("/_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm")).toBe("duckdb");
    expect(categoryOf("/reports/fund/_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm")).toBe("duckdb");
    expect(categoryOf("/_file/data/fundwatch.0a47fdb4.duckdb")).toBe("data");
    expect(categoryOf("/briefing.json")).toBe("data");
    expect(categoryOf("/_node/d3@7.9.2/index.c8f1bfbe.js")).toBe("code");
    expect(categoryOf("/districts")).toBe("code");
  });
  it("reads the benchmark's nginx access log: bytes as sent, gzip, the path under the prefix", () => {
    expect(
      parseAccessLine(
        '1765000000.123 200 383107 382464 "gzip" "/reports/fund/_file/data/fundwatch.e768de7d.duckdb"'
      )
    ).toEqual({
      path: "_file/data/fundwatch.e768de7d.duckdb",
      status: 200,
      sent: 383107,
      body: 382464,
      gzip: true
    });
    expect(parseAccessLine('1765000000.2 304 180 0 "" "/reports/fund/district/640100?city=640100"')).toEqual({
      path: "district/640100",
      status: 304,
      sent: 180,
      body: 0,
      gzip: false
    });
    expect(parseAccessLine('1.0 200 10 5 "" "/reports/fund/%E5%9C%B0%E5%8C%BA"')?.path).toBe("地区");
    expect(parseAccessLine('1.0 301 10 5 "" "/reports/fund"')?.path).toBe("");
    expect(parseAccessLine('1.0 200 10 5 "" "/elsewhere/x.js"')).toBeNull();
    expect(parseAccessLine("not a log line")).toBeNull();
  });
  it("waits for the SDK's own User Timing names (src/duckdb/client.ts cannot be imported in Node)", async () => {
    const client = await readFile(new URL("../../src/duckdb/client.ts", import.meta.url), "utf-8");
    expect(client).toContain(`export const DUCKDB_READY_MARK = ${JSON.stringify(DUCKDB_READY_MARK)};`);
    expect(client).toContain(`export const QUERY_MEASURE = ${JSON.stringify(QUERY_MEASURE)};`);
  });
  it("prints a median with its spread", () => {
    expect(seconds({median: 1234.4, min: 1200, max: 1300, n: 3})).toBe("1234 ms (1200–1300)");
    expect(seconds({median: 12_345, min: 12_345, max: 12_345, n: 1})).toBe("12.3 s");
    expect(seconds(null)).toBe("—");
  });
});

describe("the issue's goals", () => {
  const s = (median: number) => ({median, min: median, max: median, n: 3});
  const load = (first: number | null, all: number | null, live: number) => ({
    first_chart_ms: first === null ? null : s(first),
    all_charts_ms: all === null ? null : s(all),
    duckdb_ready_ms: s(live),
    live_ms: s(live)
  });
  const memory = (total: number) => ({js_and_duckdb_bytes: s(total)}) as unknown as MemoryFigures;
  const page = (over: Partial<PageResult>): PageResult =>
    ({
      kind: "site",
      charts: 2,
      city_filter: true,
      cold: load(800, 900, 2000),
      warm: load(300, 350, 600),
      page_to_page: load(300, 400, 900),
      page_to_page_from: "/",
      filter_change_ms: s(80),
      memory: memory(200e6),
      memory_after_filters: memory(250e6),
      first_view: {state: "on", served: 20, computed: 0, failed: 0},
      first_view_after_filters: null,
      first_view_skipped: 0,
      traffic: null,
      ...over
    }) as PageResult;
  const size = (rows: number, pages: Record<string, PageResult>): SizeResult =>
    ({
      rows,
      csv: {files: 7, bytes: 100_000_000, generated_s: null},
      ingest: {fundwatch: {rows_per_s: {total: s(600_000)}}},
      pages,
      queries: {count: 25, wasm_sequential_ms: s(400), native_sequential_ms: s(100)},
      problems: [],
      seconds: 0
    }) as unknown as SizeResult;
  const met = (list: {goal: string; met: boolean | null}[], start: string) =>
    list.find((g) => g.goal.startsWith(start))?.met;

  it("at 1M rows: every page within each limit, the worst page named, filter change against arquero", () => {
    const pages = {
      "/": page({filter_change_ms: s(90)}),
      "/districts": page({cold: load(1200, 1300, 2400)}),
      "/quality": page({
        charts: 0,
        city_filter: false,
        cold: load(null, null, 2600),
        page_to_page: load(null, null, 700)
      }),
      "/bench/arquero": page({kind: "baseline", filter_change_ms: s(1000), page_to_page: null})
    };
    const list = goals(size(1_000_000, pages));
    expect(list).toHaveLength(5);
    // /districts' first chart is over 1.0 s; /quality has no chart and does not count.
    expect(met(list, "first chart, cold")).toBe(false);
    expect(list[0]?.measured).toMatch(/^worst \/districts: 1200 ms; 1 of 2 pages within$/);
    // /quality is live at 2.6 s: over 2.5 s (a baseline never counts).
    expect(met(list, "every chart drawn with filters live, cold ≤ 2.5 s")).toBe(false);
    expect(met(list, "page-to-page")).toBe(true);
    expect(met(list, "filter change ≤ 100 ms")).toBe(true);
    expect(met(list, "filter change ≤ 0.1× arquero's")).toBe(true);
    const slow = goals(size(1_000_000, {...pages, "/": page({filter_change_ms: s(150)})}));
    expect(met(slow, "filter change ≤ 0.1× arquero's")).toBe(false);
  });
  it("at 5M rows: live ≤ 4 s, filter change ≤ 250 ms, memory ≤ 300 MB after load or filters", () => {
    const list = goals(
      size(5_000_000, {"/": page({}), "/recovery": page({memory_after_filters: memory(320e6)})})
    );
    expect(list.map((g) => g.met)).toEqual([true, true, false]);
    expect(list[2]?.measured).toMatch(/^worst \/recovery: 320\.0 MB/);
  });
  it("marks a goal not measured rather than met when a page's figure is missing", () => {
    const list = goals(size(1_000_000, {"/": page({}), "/districts": page({filter_change_ms: null})}));
    expect(met(list, "filter change ≤ 100 ms")).toBeNull();
    expect(goals(size(100_000, {"/": page({})}))).toEqual([]);
  });
  it("keeps the earlier goals: WASM against native, ingest rate, data sent against the CSV", () => {
    const sent = {code: 1e6, duckdb: 8e6, data: 20e6};
    const traffic = {requests: 90, sent, files: sent, gzip: 80, notModified: 0};
    const list = earlierGoals(size(1_000_000, {"/": page({traffic: {first: traffic, repeat: traffic}})}));
    expect(list.map((g) => g.met)).toEqual([false, true, true]);
  });
});
