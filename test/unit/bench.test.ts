import {describe, expect, it} from "vitest";
import {busyTime, categoryOf} from "../../bench/browser.js";
import {goals, seconds, type SizeResult} from "../../bench/report.js";
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
  it("sorts what a page loads into code, DuckDB-WASM and data", () => {
    expect(categoryOf("/_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm")).toBe("duckdb");
    expect(categoryOf("/_file/data/fundwatch.0a47fdb4.duckdb")).toBe("data");
    expect(categoryOf("/briefing.json")).toBe("data");
    expect(categoryOf("/_node/d3@7.9.2/index.c8f1bfbe.js")).toBe("code");
    expect(categoryOf("/districts")).toBe("code");
  });
  it("prints a median with its spread", () => {
    expect(seconds({median: 1234.4, min: 1200, max: 1300, n: 3})).toBe("1234 ms (1200–1300)");
    expect(seconds({median: 12_345, min: 12_345, max: 12_345, n: 1})).toBe("12.3 s");
    expect(seconds(null)).toBe("—");
  });
});

describe("the goals at 1M rows", () => {
  const s = (median: number) => ({median, min: median, max: median, n: 3});
  const size = {
    rows: 1_000_000,
    csv: {files: 7, bytes: 100_000_000, generated_s: null},
    ingest: {fundwatch: {rows_per_s: {total: s(600_000)}}},
    traffic: {
      "/": {
        first: {
          requests: 90,
          bytes: {code: 1e6, duckdb: 35e6, data: 30e6},
          gzipBytes: {code: 3e5, duckdb: 8e6, data: 10e6}
        }
      }
    },
    overview: {cold_ms: s(3500), page_to_page_ms: s(900), filter_change_ms: s(80)},
    queries: {count: 25, wasm_sequential_ms: s(400), native_sequential_ms: s(100)},
    baselines: {arquero: {filter_change_ms: s(200)}}
  } as unknown as SizeResult;

  it("says which are met from the medians, against the issue's limits", () => {
    const met = Object.fromEntries(goals(size).map((g) => [g.goal, g.met]));
    expect(met["overview last chart, cold ≤ 3.0 s"]).toBe(false);
    expect(met["page-to-page (overview → 地区对比) ≤ 1.0 s"]).toBe(true);
    expect(met["filter change ≤ 100 ms"]).toBe(true);
    expect(met["filter change ≤ 0.5× arquero's"]).toBe(true);
    expect(met["DuckDB-WASM query time ≤ 3× native DuckDB"]).toBe(false);
    expect(met["ingest ≥ 500k rows/s"]).toBe(true);
    expect(met["browser data ≤ 0.25× the CSV bytes (overview, first visit)"]).toBe(false);
  });
  it("marks a goal not measured rather than met when its figure is missing", () => {
    const missing = {...size, overview: {}} as unknown as SizeResult;
    expect(goals(missing).find((g) => g.goal.startsWith("overview last chart"))?.met).toBeNull();
  });
});
