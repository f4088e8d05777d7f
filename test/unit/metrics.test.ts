// Every metric computed three ways — its SQL in native DuckDB, the same SQL in DuckDB-WASM (the package
// the browser uses, run in Node), and its plain JS reference — on generated data, by division at every
// level and under random filters, must agree exactly (integers: counts, and money in fen).
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
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
  NO_CATEGORY,
  RECOVERY_DIMENSIONS,
  largestCases,
  largestCasesReference,
  largestCasesSql,
  institutionsWithFindings,
  institutionsWithFindingsReference,
  metricById,
  metricByDivision,
  metricReference,
  metricSql,
  rankDivisions,
  reconcileReference,
  reconcileWeekly,
  recoveryBreakdown,
  recoveryBreakdownReference,
  recoveryBreakdownSql,
  weeklyProgress,
  weeklyProgressReference,
  type MetricData,
  type ReconcileData,
  type RecoveryData,
  type RecoveryDimension
} from "../../src/metrics/index.js";
import type {SqlQuery} from "../../src/sql/template.js";
import {startWasmNode, type WasmConnection, type WasmDb} from "../support/duckdb-wasm-node.js";
import {metricDataOf} from "../support/metric-data.js";
import {filterArb, levelArb, wasmQuery} from "../support/metric-filters.js";
import {
  calendarFromRows,
  isWorkingDay,
  workingDaysBetween,
  type WorkingCalendar
} from "../../src/metrics/calendar.js";

let dir: string;
const sets: {
  name: string;
  data: ReconcileData;
  conn: DuckDBConnection;
  wasm: WasmConnection;
  /** The mvp build, which older intranet browsers get: it cannot survive an exception inside DuckDB. */
  mvp: WasmConnection;
  close: () => void;
}[] = [];
let wasmDb: WasmDb;
let mvpDb: WasmDb;
/** The default data's ingest (its calendar: the shipped data/节假日.csv). */
let ningxia: IngestResult;

const startWasm = startWasmNode;

const plain = metricDataOf;

async function open(name: string, result: IngestResult): Promise<void> {
  const file = join(dir, `${name}.duckdb`);
  await writeDuckDBFile(file, toTables(result, {source: name, generatedAt: generationTime()}));
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH '${file}' AS data (READ_ONLY); USE data`);
  const bytes = await readFile(file);
  const [wasm, mvp] = [wasmDb, mvpDb].map((db) => {
    db.registerFileBuffer(`${name}.duckdb`, new Uint8Array(bytes));
    const c = db.connect();
    c.query(`ATTACH '${name}.duckdb' AS ${name} (READ_ONLY)`);
    c.query(`USE ${name}`);
    return c;
  }) as [WasmConnection, WasmConnection];
  sets.push({
    name,
    data: plain(result),
    conn,
    wasm,
    mvp,
    close: () => (conn.closeSync(), instance.closeSync())
  });
}

/** A `db` for {@link metricByDivision} over native DuckDB, binding the query's parameters. */
const nativeDb = (conn: DuckDBConnection) => ({
  async query(q: SqlQuery) {
    const reader = await conn.runAndReadAll(q.text, q.params as never);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }
});

beforeAll(async () => {
  wasmDb = await startWasm();
  mvpDb = await startWasm("mvp");
  dir = await mkdtemp(join(tmpdir(), "fundwatch-metrics-"));
  ningxia = await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {today: "2024-12-31"});
  await open("ningxia", ningxia);
  await generate({rows: 4000, seed: 99, out: join(dir, "gen"), format: "csv"});
  // Another campaign's rules: big cases from 20,000 yuan, reported within 3 working days.
  const campaignsCsv = join(dir, "gen", "campaigns.csv");
  const rules = (await readFile(campaignsCsv, "utf8")).replace(/,50000,2(\r?\n)/, ",20000,3$1");
  expect(rules).toContain(",20000,3");
  await writeFile(campaignsCsv, rules);
  await open("seed99", await ingest([join(dir, "gen")], {today: "2024-12-31"}));
}, 120_000);
afterAll(async () => {
  for (const s of sets) s.close();
  await rm(dir, {recursive: true, force: true});
});

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
        expect(
          await metricByDivision(wasmQuery(set.mvp), metric, {level}),
          `${set.name} ${level} mvp`
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
          expect(await metricByDivision(wasmQuery(set.mvp), metric, {level, filter})).toEqual(sql);
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
  it("with `within`, gives only the divisions in it (a city's counties; the city itself at city level)", async () => {
    const set = sets[0]!;
    const counties = set.data.divisions.filter((d) => d.parent_code === "640100").map((d) => d.code);
    const rows = await metricByDivision(nativeDb(set.conn), "coverage", {
      level: "县",
      filter: {within: "640100"}
    });
    expect(rows.map((r) => r.code).sort()).toEqual([...counties].sort());
    const cities = await metricByDivision(nativeDb(set.conn), "coverage", {
      level: "市",
      filter: {within: "640104"}
    });
    const [county] = await metricByDivision(nativeDb(set.conn), "coverage", {
      level: "县",
      filter: {within: "640104"}
    });
    expect(cities).toEqual([{...county!, code: "640100"}]);
    const weeks = await weeklyProgress(nativeDb(set.conn), {
      level: "县",
      from: "2024-05-15",
      to: "2024-06-30",
      filter: {within: "640100"}
    });
    expect([...new Set(weeks.map((w) => w.code))].sort()).toEqual([...counties].sort());
  });
  it("refuses a malformed date or an empty kind list, in Chinese", () => {
    expect(() => metricSql(METRICS[0]!, {filter: {from: "2024/6/1"}})).toThrow(/YYYY-MM-DD/);
    expect(() => metricSql(METRICS[0]!, {filter: {institutionKinds: []}})).toThrow(/空列表/);
  });
  it("takes the big-case threshold and time limit from the case's campaign, the default without one", async () => {
    const metric = METRICS.find((m) => m.id === "big_case_timeliness")!;
    const set = sets.find((s) => s.name === "seed99")!;
    const [row] = await metricByDivision(nativeDb(set.conn), metric, {level: "省"});
    const campaignOf = new Map(set.data.inspections.map((s) => [s.id, s.campaign_id]));
    const decided = new Set(set.data.dispositions.map((p) => p.finding_id));
    const cases = set.data.findings.filter(
      (f) =>
        decided.has(f.id) &&
        f.amount_involved >= (campaignOf.get(f.inspection_id) === "ZX2024" ? 2_000_000 : 5_000_000)
    );
    const atDefault = set.data.findings.filter((f) => decided.has(f.id) && f.amount_involved >= 5_000_000);
    expect(row!.denominator).toBe(cases.length);
    expect(cases.length).toBeGreaterThan(atDefault.length);
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
  let calendar: WorkingCalendar;
  beforeAll(() => {
    calendar = calendarFromRows(ningxia.calendar.rows);
  });
  it("knows weekends, public holidays and the weekend days made working days (调休)", () => {
    expect(isWorkingDay(calendar, "2024-05-10")).toBe(true); // a Friday
    expect(isWorkingDay(calendar, "2024-05-12")).toBe(false); // a Sunday
    expect(isWorkingDay(calendar, "2024-05-11")).toBe(true); // a Saturday made a working day
    expect(isWorkingDay(calendar, "2024-10-01")).toBe(false); // 国庆
    expect(isWorkingDay(calendar, "2024-06-10")).toBe(false); // 端午, a Monday
    expect(isWorkingDay(calendar, "2025-01-26")).toBe(true); // a Sunday before 春节 made a working day
    // 2023, which the hard-coded table lacked: 中秋节、国庆节 9月29日至10月6日, 10月7日（星期六） worked.
    expect(isWorkingDay(calendar, "2023-10-02")).toBe(false);
    expect(isWorkingDay(calendar, "2023-10-07")).toBe(true);
  });
  it("counts working days after the decision, up to and including the report", () => {
    expect(workingDaysBetween(calendar, "2024-09-30", "2024-10-08")).toBe(1);
    expect(workingDaysBetween(calendar, "2024-05-10", "2024-05-13")).toBe(2); // Sat 5-11 worked, Mon 5-13
    expect(workingDaysBetween(calendar, "2024-07-01", "2024-07-01")).toBe(0);
    // Fri 2023-12-29 to Tue 2024-01-02: 12-30 Sat, 12-31 Sun, 01-01 元旦 off; 01-02 worked.
    expect(workingDaysBetween(calendar, "2023-12-29", "2024-01-02")).toBe(1);
  });
  it("refuses a year the calendar does not cover, rather than guess, naming the year", () => {
    expect(() => isWorkingDay(calendar, "2027-01-04")).toThrow(/节假日表中没有 2027 年/);
    const only2024 = calendarFromRows(ningxia.calendar.rows.filter((r) => r.year === 2024));
    expect(() => isWorkingDay(only2024, "2023-12-29")).toThrow(
      /节假日表中没有 2023 年，无法计算工作日（节假日表已有：2024 年）/
    );
    expect(() => workingDaysBetween(only2024, "2024-12-30", "2025-01-02")).toThrow(/没有 2025 年/);
    expect(() => isWorkingDay(calendar, "2024-02-30")).toThrow(/存在的 YYYY-MM-DD 日期/);
  });
  it("is the calendar the SQL uses: big-case timeliness agrees with the JS on cases around holidays", async () => {
    const metric = METRICS.find((m) => m.id === "big_case_timeliness")!;
    const rows = await metricByDivision(nativeDb(sets[0]!.conn), metric, {level: "省"});
    expect(rows).toEqual(metricReference(metric, sets[0]!.data, {level: "省"}));
    expect(rows[0]!.denominator).toBeGreaterThan(10);
    expect(rows[0]!.numerator).toBeLessThan(rows[0]!.denominator!);
  });
  it("reads the working days from the database's calendar table: SQL and JS follow an edited calendar alike", async () => {
    // Every day of 2024 made a day off: no report is then any working day late, so every big case with a
    // report is timely. The cases, counted here directly: findings of at least the campaign's 50,000 yuan
    // (5,000,000 fen; the default rule is the same) with a disposition, and of those, the ones reported.
    const metric = METRICS.find((m) => m.id === "big_case_timeliness")!;
    const data = sets[0]!.data;
    const decided = new Map<string, boolean>();
    for (const p of data.dispositions)
      if (p.finding_id !== null)
        decided.set(p.finding_id, (decided.get(p.finding_id) ?? false) || p.reported_on !== null);
    const big = data.findings.filter((f) => f.amount_involved >= 5_000_000 && decided.has(f.id));
    const reported = big.filter((f) => decided.get(f.id)).length;
    expect(reported).toBeGreaterThan(0);

    const days = Array.from({length: 366}, (_, i) =>
      new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)
    );
    const allOff = {
      ...ningxia,
      calendar: {
        ...ningxia.calendar,
        rows: days.map((day, i) => ({
          day,
          kind: "休" as const,
          name: "元旦",
          year: 2024,
          source: "测试",
          note: null,
          line: i + 2
        }))
      }
    };
    const file = join(dir, "all-off.duckdb");
    await writeDuckDBFile(file, toTables(allOff, {source: "test", generatedAt: generationTime()}));
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(`ATTACH '${file}' AS edited (READ_ONLY); USE edited`);
      const [edited] = await metricByDivision(nativeDb(conn), metric, {level: "省"});
      const [reference] = metricReference(metric, {...data, calendar: allOff.calendar.rows}, {level: "省"});
      expect(edited).toEqual(reference);
      expect([edited!.numerator, edited!.denominator]).toEqual([reported, big.length]);
      const [shipped] = await metricByDivision(nativeDb(sets[0]!.conn), metric, {level: "省"});
      expect(edited!.numerator).toBeGreaterThan(shipped!.numerator);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe("recovery breakdown and largest cases", () => {
  const dims = Object.keys(RECOVERY_DIMENSIONS) as RecoveryDimension[];
  const recoveryData = (set: (typeof sets)[number]) => set.data as unknown as RecoveryData;
  it("is the same in native DuckDB, DuckDB-WASM (eh and mvp) and the JS reference, by every dimension", async () => {
    for (const set of sets) {
      for (const by of dims) {
        const sql = await recoveryBreakdown(nativeDb(set.conn), by);
        expect(sql, `${set.name} ${by}`).toEqual(recoveryBreakdownReference(recoveryData(set), by));
        expect(await recoveryBreakdown(wasmQuery(set.wasm), by)).toEqual(sql);
        expect(await recoveryBreakdown(wasmQuery(set.mvp), by)).toEqual(sql);
        expect(sql.length, `${set.name} ${by}`).toBeGreaterThan(1);
      }
    }
  }, 120_000);
  it("sums, by every dimension and under random filters, to the recovery_total metric", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, fc.constantFrom(...dims), async (filter, by) => {
        for (const set of sets) {
          const rows = await recoveryBreakdown(nativeDb(set.conn), by, filter);
          expect(rows).toEqual(recoveryBreakdownReference(recoveryData(set), by, filter));
          expect(await recoveryBreakdown(wasmQuery(set.mvp), by, filter)).toEqual(rows);
          const [province] = await metricByDivision(nativeDb(set.conn), "recovery_total", {
            level: "省",
            filter
          });
          expect(rows.reduce((s, r) => s + r.amount, 0)).toBe(province?.numerator ?? 0);
        }
      }),
      {numRuns: 15, seed: 20241124}
    );
  }, 120_000);
  it("counts recovery decided on a whole inspection under its own key, not a violation category", async () => {
    // The default data has none: add one (a 追回 on an inspection, with no finding) to a copy.
    const set = sets[0]!;
    const inspection = set.data.inspections[0]!;
    const extra = {
      id: "CLTEST0001",
      finding_id: null,
      inspection_id: inspection.id,
      action: "追回",
      amount: 123_456,
      decided_on: "2024-08-01",
      reported_on: null
    };
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(`ATTACH '${join(dir, `${set.name}.duckdb`)}' AS src (READ_ONLY)`);
      for (const t of ["divisions", "campaigns", "institutions", "inspections", "findings", "dispositions"])
        await conn.run(`CREATE TABLE ${t} AS SELECT * FROM src.${t}`);
      await conn.run(
        `INSERT INTO dispositions (id, finding_id, inspection_id, action, amount, decided_on) VALUES ('CLTEST0001', NULL, $1, '追回', 123456, DATE '2024-08-01')`,
        [inspection.id]
      );
      const data = {...set.data, dispositions: [...set.data.dispositions, extra]} as unknown as RecoveryData;
      const rows = await recoveryBreakdown(nativeDb(conn), "category");
      expect(rows).toEqual(recoveryBreakdownReference(data, "category"));
      expect(rows.find((r) => r.key === NO_CATEGORY)).toEqual({
        key: NO_CATEGORY,
        amount: 123_456,
        dispositions: 1
      });
      const cases = await largestCases(nativeDb(conn), {limit: 100000});
      expect(cases).toEqual(largestCasesReference(data, {limit: 100000}));
      expect(cases.find((c) => c.id === inspection.id)).toMatchObject({
        category: NO_CATEGORY,
        amount_involved: null,
        recovered: 123_456,
        actions: "追回"
      });
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }, 120_000);
  it("lists the largest cases the same three ways, largest first, limited", async () => {
    for (const set of sets) {
      for (const limit of [1, 10, 100000]) {
        const sql = await largestCases(nativeDb(set.conn), {limit});
        expect(sql, `${set.name} ${limit}`).toEqual(largestCasesReference(recoveryData(set), {limit}));
        expect(await largestCases(wasmQuery(set.wasm), {limit})).toEqual(sql);
        expect(await largestCases(wasmQuery(set.mvp), {limit})).toEqual(sql);
        expect(sql.length).toBe(Math.min(limit, sql.length));
        for (let i = 1; i < sql.length; ++i)
          expect(sql[i]!.recovered).toBeLessThanOrEqual(sql[i - 1]!.recovered);
      }
      // Every case together is the whole recovery total.
      const all = largestCasesReference(recoveryData(set), {limit: 1e9});
      const [province] = metricReference(metricById("recovery_total"), set.data, {level: "省"});
      expect(all.reduce((s, c) => s + c.recovered, 0)).toBe(province!.numerator);
    }
    await fc.assert(
      fc.asyncProperty(filterArb, async (filter) => {
        for (const set of sets)
          expect(await largestCases(wasmQuery(set.mvp), {filter, limit: 15})).toEqual(
            largestCasesReference(recoveryData(set), {filter, limit: 15})
          );
      }),
      {numRuns: 10, seed: 7}
    );
  }, 120_000);
  it("lists the institutions with findings the same three ways, under random filters", async () => {
    for (const set of sets) {
      const all = await institutionsWithFindings(nativeDb(set.conn), {limit: 100000});
      expect(all).toEqual(institutionsWithFindingsReference(recoveryData(set), {limit: 100000}));
      expect(await institutionsWithFindings(wasmQuery(set.wasm), {limit: 100000})).toEqual(all);
      expect(await institutionsWithFindings(wasmQuery(set.mvp), {limit: 100000})).toEqual(all);
      // Their findings and amounts add up to the metrics'.
      const [findings] = metricReference(metricById("findings"), set.data, {level: "省"});
      const [involved] = metricReference(metricById("amount_involved"), set.data, {level: "省"});
      expect(all.reduce((s, i) => s + i.findings, 0)).toBe(findings!.numerator);
      expect(all.reduce((s, i) => s + i.amount_involved, 0)).toBe(involved!.numerator);
      expect(all.length).toBeGreaterThan(10);
    }
    await fc.assert(
      fc.asyncProperty(filterArb, async (filter) => {
        for (const set of sets)
          expect(await institutionsWithFindings(wasmQuery(set.mvp), {filter, limit: 25})).toEqual(
            institutionsWithFindingsReference(recoveryData(set), {filter, limit: 25})
          );
      }),
      {numRuns: 10, seed: 11}
    );
  }, 120_000);
  it("refuses an unknown dimension or a bad limit, in Chinese, and binds the filter", () => {
    expect(() => recoveryBreakdownSql("county" as RecoveryDimension)).toThrow(/不能按「county」分组/);
    expect(() => largestCasesSql({}, 0)).toThrow(/正整数/);
    const q = largestCasesSql({campaign: "x' OR '1'='1"}, 5);
    expect(q.text).not.toContain("x' OR");
    expect(q.params).toContain("x' OR '1'='1");
  });
});

describe("weekly cumulative progress by the Friday cut-off", () => {
  const weeks = {from: "2024-05-15", to: "2024-09-27"};
  it("is the same in native DuckDB, DuckDB-WASM and the JS reference, at every level", async () => {
    for (const set of sets) {
      for (const level of ["县", "市", "省"] as const) {
        const sql = await weeklyProgress(nativeDb(set.conn), {...weeks, level});
        expect(sql, `${set.name} ${level}`).toEqual(weeklyProgressReference(set.data, {...weeks, level}));
        expect(await weeklyProgress(wasmQuery(set.wasm), {...weeks, level})).toEqual(sql);
        expect(await weeklyProgress(wasmQuery(set.mvp), {...weeks, level})).toEqual(sql);
      }
    }
  });
  it("has one row per division and Friday, cumulative (never falling), ending at the last Friday", async () => {
    const rows = await weeklyProgress(nativeDb(sets[0]!.conn), {...weeks, level: "市"});
    const fridays = [...new Set(rows.map((r) => r.week_ending))];
    expect(fridays[0]).toBe("2024-05-17");
    expect(fridays.at(-1)).toBe("2024-09-27");
    expect(fridays).toHaveLength(20);
    expect(fridays.every((d) => new Date(`${d}T00:00:00Z`).getUTCDay() === 5)).toBe(true);
    for (const code of new Set(rows.map((r) => r.code))) {
      const series = rows.filter((r) => r.code === code);
      for (let i = 1; i < series.length; ++i) {
        expect(series[i]!.inspected).toBeGreaterThanOrEqual(series[i - 1]!.inspected);
        expect(series[i]!.recovered).toBeGreaterThanOrEqual(series[i - 1]!.recovered);
      }
    }
    // The last Friday's coverage is the coverage metric up to that day.
    const coverage = await metricByDivision(nativeDb(sets[0]!.conn), "coverage", {
      level: "市",
      filter: {to: "2024-09-27"}
    });
    for (const c of coverage) {
      const last = rows.find((r) => r.code === c.code && r.week_ending === "2024-09-27")!;
      expect([last.inspected, last.institutions]).toEqual([c.numerator, c.denominator]);
    }
  });
  it("agrees under random filters and levels", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, levelArb, async (filter, level) => {
        for (const set of sets) {
          const sql = await weeklyProgress(nativeDb(set.conn), {...weeks, level, filter});
          expect(sql).toEqual(weeklyProgressReference(set.data, {...weeks, level, filter}));
        }
      }),
      {numRuns: 10, seed: 20241124}
    );
  }, 120_000);
  it("is empty when no Friday falls in the range", async () => {
    expect(await weeklyProgress(nativeDb(sets[0]!.conn), {from: "2024-05-18", to: "2024-05-23"})).toEqual([]);
  });
});

describe("weekly reports reconciled against case records", () => {
  it("is the same in native DuckDB, DuckDB-WASM and the JS reference", async () => {
    for (const set of sets) {
      const sql = await reconcileWeekly(nativeDb(set.conn));
      expect(sql.length, set.name).toBe(set.data.weekly_reports.length);
      expect(sql).toEqual(reconcileReference(set.data));
      expect(await reconcileWeekly(wasmQuery(set.wasm))).toEqual(sql);
      expect(await reconcileWeekly(wasmQuery(set.mvp))).toEqual(sql);
    }
  });
  it("finds exactly the districts that over-report, and only rounding differences elsewhere", async () => {
    // The generator makes 640221 and 640324 report 3% more institutions than they inspected.
    const rows = await reconcileWeekly(nativeDb(sets[0]!.conn));
    const inspectedOff = new Set(rows.filter((r) => r.figures.inspected !== "一致").map((r) => r.code));
    expect([...inspectedOff].sort()).toEqual(["640221", "640324"]);
    for (const r of rows.filter((r) => r.figures.inspected === "不一致"))
      expect(r.reported.inspected).toBeGreaterThan(r.recorded.inspected);
    expect(rows.filter((r) => r.figures.problems !== "一致")).toEqual([]);
    for (const r of rows) {
      for (const figure of ["recovered", "fined"] as const) {
        if (r.figures[figure] === "尾差")
          expect(Math.abs(r.reported[figure]! - r.recorded[figure])).toBeLessThanOrEqual(5000);
        expect(r.figures[figure], `${r.code} ${r.week_ending} ${figure}`).not.toBe("不一致");
      }
    }
  });
  it("tells a rounding difference of a report in 万元 (尾差, up to 50 元) from a discrepancy", () => {
    const data = sets[0]!.data;
    const [first, ...rest] = data.weekly_reports;
    const shifted = (fen: number) =>
      reconcileReference({
        ...data,
        weekly_reports: [{...first!, amount_recovered: first!.amount_recovered + fen}, ...rest]
      }).find((r) => r.code === first!.division_code && r.week_ending === first!.week_ending)!;
    expect(shifted(0).figures.recovered).toBe("一致");
    expect(shifted(5000).figures.recovered).toBe("尾差");
    expect(shifted(-5000).status).toBe("尾差");
    expect(shifted(5001).figures.recovered).toBe("不一致");
    expect(shifted(5001).status).toBe("不一致");
  });
});

describe("the lagging-district ranking on the database", () => {
  it("is the same over native DuckDB and DuckDB-WASM, and ranks every county with values", async () => {
    for (const set of sets) {
      const native = await rankDivisions(nativeDb(set.conn), {asOf: "2024-09-27"});
      const wasm = await rankDivisions(wasmQuery(set.wasm), {asOf: "2024-09-27"});
      expect(wasm).toEqual(native);
      expect(await rankDivisions(wasmQuery(set.mvp), {asOf: "2024-09-27"})).toEqual(native);
      const ranks = native.rows.map((r) => r.rank).filter((r): r is number => r !== null);
      expect(ranks.length).toBeGreaterThan(10);
      expect(Math.min(...ranks)).toBe(1);
      expect(Math.max(...ranks)).toBeLessThanOrEqual(ranks.length);
    }
  });
  it("takes the targets of the campaign at the as-of date, from the data", async () => {
    const ranking = await rankDivisions(nativeDb(sets[0]!.conn));
    expect(ranking.asOf).toBe("2024-09-27");
    expect(ranking.campaign?.id).toBe("ZX2024");
    expect(ranking.coverageTarget).toMatchObject({target: 100, deadline: "2024-10-31"});
    expect(ranking.coverageTarget?.due).toEqual({target: 80, deadline: "2024-08-31"});
    for (const row of ranking.rows) {
      const coverage = row.metrics.find((m) => m.id === "coverage")!;
      expect(row.behindTarget).toBe(
        coverage.value !== null && coverage.value < ranking.coverageTarget!.expected / 100
      );
      if (coverage.value !== null && coverage.value < 0.8)
        expect(row.reasons.join("；")).toMatch(/检查覆盖率 [\d.]+%，未达已到期目标 80%（2024年8月31日）/);
      const rereview = row.metrics.find((m) => m.id === "rereview_ratio")!;
      if (rereview.value !== null && rereview.value < 0.05)
        expect(row.reasons.join("；")).toContain(`单据复审比例 `);
    }
    // The generator's two slow districts (兴庆区 and 永宁县, pace < 0.6) are in the bottom quartile.
    const lagging = ranking.rows.filter((r) => r.lagging).map((r) => r.code);
    expect(lagging.length).toBe(Math.ceil(ranking.rows.filter((r) => r.rank !== null).length / 4));
    expect(lagging).toEqual(expect.arrayContaining(["640104", "640121"]));
  });
  it("asks for a direction for a metric that has none, and for known metrics only", async () => {
    await expect(rankDivisions(nativeDb(sets[0]!.conn), {metrics: ["no_such_metric"]})).rejects.toThrow(
      /没有指标「no_such_metric」/
    );
    await expect(rankDivisions(nativeDb(sets[0]!.conn), {metrics: ["amount_involved"]})).rejects.toThrow(
      /没有好坏方向.*direction/
    );
    const byAmount = await rankDivisions(nativeDb(sets[0]!.conn), {
      metrics: [{id: "amount_involved", direction: "lower"}]
    });
    expect(byAmount.rows[0]!.metrics[0]!.percentile).toBe(1);
  });
});
