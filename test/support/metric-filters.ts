// What the metric suites share: a `db` over a DuckDB-WASM connection (converted as the site's client
// converts), and fast-check arbitraries for filters and levels over the generated data's range.
import fc from "fast-check";
import type {MetricFilter} from "../../src/metrics/index.js";
import type {SqlQuery} from "../../src/sql/template.js";
import {tableToRows} from "../../src/duckdb/convert.js";
import type {WasmConnection} from "./duckdb-wasm-node.js";

/** A `db` for the SDK's functions over DuckDB-WASM, converting results as the site's client does. */
export const wasmQuery = (conn: WasmConnection) => ({
  async query(q: SqlQuery) {
    const statement = conn.prepare(q.text);
    try {
      return tableToRows(statement.query(...q.params)) as Record<string, unknown>[];
    } finally {
      statement.close();
    }
  }
});

/** A day from 2024-05-01 to 200 days later, YYYY-MM-DD. */
export const dayArb = fc
  .integer({min: 0, max: 200})
  .map((n) => new Date(Date.UTC(2024, 4, 1) + n * 86_400_000).toISOString().slice(0, 10));

/** Any filter: each key present or not, values that match some, all or none of the data. */
export const filterArb: fc.Arbitrary<MetricFilter> = fc.record(
  {
    from: dayArb,
    to: dayArb,
    campaign: fc.constantFrom("ZX2024", "不存在"),
    institutionKinds: fc.subarray(["医院", "基层医疗机构", "村卫生室", "诊所", "零售药店"], {minLength: 1}),
    within: fc.constantFrom("640000", "640100", "640300", "640104", "6401ND", "999999"),
    inspectionKinds: fc.subarray(
      ["专项检查", "日常检查", "自查自纠", "抽查复查", "交叉检查", "飞行检查", "回头看", "智能监控"],
      {minLength: 1}
    )
  },
  {requiredKeys: []}
);

export const levelArb = fc.constantFrom("县" as const, "市" as const, "省" as const);
