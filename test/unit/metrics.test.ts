// Every metric computed three ways — its SQL in native DuckDB, the same SQL in DuckDB-WASM (the package
// the browser uses, run in Node), and its plain JS reference — on generated data, by division at every
// level and under random filters, must agree exactly (integers: counts, and money in fen).
import {createRequire} from "node:module";
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {generate} from "../../scripts/gen-data.js";
import {
  METRICS,
  metricByDivision,
  metricReference,
  metricSql,
  type MetricData,
  type MetricFilter
} from "../../src/metrics/index.js";
import type {SqlQuery} from "../../src/sql/template.js";
import {tableToRows, type ArrowLikeTable} from "../../src/duckdb/convert.js";
import {isWorkingDay, workingDaysBetween} from "../../src/metrics/calendar.js";

let dir: string;
interface WasmConnection {
  query(text: string): unknown;
  prepare(text: string): {query(...params: unknown[]): ArrowLikeTable; close(): void};
}
interface WasmDb {
  registerFileBuffer(name: string, buffer: Uint8Array): void;
  connect(): WasmConnection;
}
const sets: {
  name: string;
  data: MetricData;
  conn: DuckDBConnection;
  wasm: WasmConnection;
  close: () => void;
}[] = [];
let wasmDb: WasmDb;

/** DuckDB-WASM's blocking Node build, on the same .wasm files the site serves. */
async function startWasm(): Promise<WasmDb> {
  const require = createRequire(import.meta.url);
  const duckdb = require("@duckdb/duckdb-wasm/blocking") as {
    createDuckDB(
      bundles: object,
      logger: object,
      runtime: object
    ): Promise<WasmDb & {instantiate(p: () => void): Promise<void>; open(c: object): void}>;
    VoidLogger: new () => object;
    NODE_RUNTIME: object;
  };
  const dist = join(require.resolve("@duckdb/duckdb-wasm/blocking"), "..");
  const bundles = {
    mvp: {mainModule: join(dist, "duckdb-mvp.wasm"), mainWorker: ""},
    eh: {mainModule: join(dist, "duckdb-eh.wasm"), mainWorker: ""}
  };
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate(() => undefined);
  db.open({});
  return db;
}

function plain(result: IngestResult): MetricData {
  const rows = (name: string) =>
    (result.tables.get(name) ?? []).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
    );
  return {
    divisions: rows("divisions"),
    institutions: rows("institutions"),
    inspections: rows("inspections"),
    findings: rows("findings"),
    dispositions: rows("dispositions")
  } as unknown as MetricData;
}

async function open(name: string, result: IngestResult): Promise<void> {
  const file = join(dir, `${name}.duckdb`);
  await writeDuckDBFile(file, toTables(result, {source: name, generatedAt: generationTime()}));
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH '${file}' AS data (READ_ONLY); USE data`);
  wasmDb.registerFileBuffer(`${name}.duckdb`, new Uint8Array(await readFile(file)));
  const wasm = wasmDb.connect();
  wasm.query(`ATTACH '${name}.duckdb' AS ${name} (READ_ONLY)`);
  wasm.query(`USE ${name}`);
  sets.push({name, data: plain(result), conn, wasm, close: () => (conn.closeSync(), instance.closeSync())});
}

/** A `db` for {@link metricByDivision} over native DuckDB, binding the query's parameters. */
const nativeDb = (conn: DuckDBConnection) => ({
  async query(q: SqlQuery) {
    const reader = await conn.runAndReadAll(q.text, q.params as never);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }
});

/** A `db` for {@link metricByDivision} over DuckDB-WASM, converting results as the site's client does. */
const wasmQuery = (conn: WasmConnection) => ({
  async query(q: SqlQuery) {
    const statement = conn.prepare(q.text);
    try {
      return tableToRows(statement.query(...q.params)) as Record<string, unknown>[];
    } finally {
      statement.close();
    }
  }
});

beforeAll(async () => {
  wasmDb = await startWasm();
  dir = await mkdtemp(join(tmpdir(), "fundwatch-metrics-"));
  await open(
    "ningxia",
    await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {today: "2024-12-31"})
  );
  await generate({rows: 4000, seed: 99, out: join(dir, "gen"), format: "csv"});
  await open("seed99", await ingest([join(dir, "gen")], {today: "2024-12-31"}));
}, 120_000);
afterAll(async () => {
  for (const s of sets) s.close();
  await rm(dir, {recursive: true, force: true});
});

const day = fc
  .integer({min: 0, max: 200})
  .map((n) => new Date(Date.UTC(2024, 4, 1) + n * 86_400_000).toISOString().slice(0, 10));
const filterArb: fc.Arbitrary<MetricFilter> = fc.record(
  {
    from: day,
    to: day,
    campaign: fc.constantFrom("ZX2024", "不存在"),
    institutionKinds: fc.subarray(["医院", "基层医疗机构", "村卫生室", "诊所", "零售药店"], {minLength: 1}),
    inspectionKinds: fc.subarray(
      ["专项检查", "日常检查", "自查自纠", "抽查复查", "交叉检查", "飞行检查", "回头看", "智能监控"],
      {minLength: 1}
    )
  },
  {requiredKeys: []}
);
const levelArb = fc.constantFrom("县" as const, "市" as const, "省" as const);

describe.each(METRICS.map((m) => [m.id, m] as const))("metric %s", (_, metric) => {
  it("has a Chinese name, a unit, a direction and a description", () => {
    expect(metric.name).toMatch(/[\u4e00-\u9fff]/);
    expect(metric.description).toMatch(/[\u4e00-\u9fff]/);
    expect(["元", "%", "家", "件"]).toContain(metric.unit);
  });
  it("gives the same parts in native DuckDB, in DuckDB-WASM and in the JS reference, at every level", async () => {
    for (const set of sets) {
      for (const level of ["县", "市", "省"] as const) {
        const sql = await metricByDivision(nativeDb(set.conn), metric, {level});
        expect(sql, `${set.name} ${level}`).toEqual(metricReference(metric, set.data, {level}));
        expect(
          await metricByDivision(wasmQuery(set.wasm), metric, {level}),
          `${set.name} ${level} wasm`
        ).toEqual(sql);
        expect(sql.length).toBeGreaterThan(0);
      }
    }
    const total = metricReference(metric, sets[0]!.data, {level: "省"})[0]!;
    expect(total.numerator).toBeGreaterThan(0);
  });
  it("gives the same parts under random filters, whatever the row order", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, levelArb, fc.integer(), async (filter, level, seed) => {
        for (const set of sets) {
          const sql = await metricByDivision(nativeDb(set.conn), metric, {level, filter});
          expect(await metricByDivision(wasmQuery(set.wasm), metric, {level, filter})).toEqual(sql);
          const shuffled = Object.fromEntries(
            Object.entries(set.data).map(([k, rows]) => [
              k,
              fc.sample(fc.shuffledSubarray(rows as unknown[], {minLength: rows.length}), {
                seed,
                numRuns: 1
              })[0]
            ])
          ) as unknown as MetricData;
          expect(sql).toEqual(metricReference(metric, shuffled, {level, filter}));
        }
      }),
      {numRuns: 15, seed: 20241123}
    );
  }, 120_000);
});

describe("metric SQL", () => {
  it("binds every filter value; none is spliced into the SQL text", () => {
    const filter = {
      from: "2024-06-01",
      to: "2024-08-31",
      campaign: "x' OR '1'='1",
      institutionKinds: ["医院"],
      inspectionKinds: ["飞行检查"]
    };
    const q = metricSql(METRICS[0]!, {level: "市", filter});
    expect(q.text).not.toContain("x' OR");
    expect(q.text).not.toContain("2024-06-01");
    expect(q.params).toEqual(
      expect.arrayContaining(["2024-06-01", "2024-08-31", "x' OR '1'='1", "医院", "飞行检查", "市"])
    );
  });
  it("refuses a malformed date or an empty kind list, in Chinese", () => {
    expect(() => metricSql(METRICS[0]!, {filter: {from: "2024/6/1"}})).toThrow(/YYYY-MM-DD/);
    expect(() => metricSql(METRICS[0]!, {filter: {institutionKinds: []}})).toThrow(/空列表/);
  });
  it("sums money exactly in fen: the province's recovery equals the sum of every recovery disposition", () => {
    const data = sets[0]!.data;
    const direct = data.dispositions
      .filter((p) => ["追回", "拒付", "扣回"].includes(p.action))
      .reduce((s, p) => s + BigInt(p.amount ?? 0), 0n);
    const [province] = metricReference(
      METRICS.find((m) => m.id === "recovery_total")!,
      data,
      {level: "省"}
    );
    expect(BigInt(province!.numerator)).toBe(direct);
  });
});

describe("the working-day calendar", () => {
  it("knows weekends, public holidays and the weekend days made working days (调休)", () => {
    expect(isWorkingDay("2024-05-10")).toBe(true); // a Friday
    expect(isWorkingDay("2024-05-12")).toBe(false); // a Sunday
    expect(isWorkingDay("2024-05-11")).toBe(true); // a Saturday made a working day
    expect(isWorkingDay("2024-10-01")).toBe(false); // 国庆
    expect(isWorkingDay("2024-06-10")).toBe(false); // 端午, a Monday
    expect(isWorkingDay("2025-01-26")).toBe(true); // a Sunday before 春节 made a working day
  });
  it("counts working days after the decision, up to and including the report", () => {
    expect(workingDaysBetween("2024-09-30", "2024-10-08")).toBe(1);
    expect(workingDaysBetween("2024-05-10", "2024-05-13")).toBe(2); // Sat 5-11 worked, Mon 5-13
    expect(workingDaysBetween("2024-07-01", "2024-07-01")).toBe(0);
  });
  it("refuses a year it has no holiday table for, rather than guess", () => {
    expect(() => isWorkingDay("2023-12-29")).toThrow(/节假日表中没有 2023 年/);
  });
  it("is the calendar the SQL uses: big-case timeliness agrees with the JS on cases around holidays", async () => {
    const metric = METRICS.find((m) => m.id === "big_case_timeliness")!;
    const rows = await metricByDivision(nativeDb(sets[0]!.conn), metric, {level: "省"});
    expect(rows).toEqual(metricReference(metric, sets[0]!.data, {level: "省"}));
    expect(rows[0]!.denominator).toBeGreaterThan(10);
    expect(rows[0]!.numerator).toBeLessThan(rows[0]!.denominator!);
  });
});
