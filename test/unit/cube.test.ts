// The cube (src/metrics/cube.ts) answers every metric exactly as the detail rows do: for every metric,
// at every level, under generated filters, the cube's SQL = the detail-row SQL = the JS reference, in
// native DuckDB and in DuckDB-WASM, on the default data and on generated data with empty weeks, a
// county without inspections, institutions inspected twice on one day and inspections of no campaign.
// And the SDK picks the cube by itself: whenever the database has one covering the metric and filter.
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest, type IngestResult, type LoadedRow} from "../../loaders/ingest.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {generate} from "../../scripts/gen-data.js";
import {
  CUBE_TABLES,
  METRICS,
  buildCube,
  cubeCovers,
  metricById,
  metricByDivision,
  metricCubeSql,
  metricQuery,
  metricReference,
  metricSql,
  narrowsDays,
  TOP_CASES_PER_CELL,
  progressCubeCovers,
  RECOVERY_DIMENSIONS,
  recoveryBreakdown,
  recoveryBreakdownCubeSql,
  recoveryBreakdownReference,
  recoveryBreakdownSql,
  institutionFindingsOf,
  institutionsWithFindings,
  institutionsWithFindingsCubeSql,
  institutionsWithFindingsReference,
  institutionsWithFindingsSql,
  largestCases,
  largestCasesCubeSql,
  largestCasesReference,
  largestCasesSql,
  recoveryCaseOf,
  type RecoveryData,
  type RecoveryDimension,
  toMetricRows,
  weeklyProgress,
  weeklyProgressReference,
  weeklyProgressSql,
  type MetricData,
  type MetricFilter
} from "../../src/metrics/index.js";
import {RECOVERY_ACTIONS} from "../../src/schema/actions.js";
import {sqlQuery, type QueryDb, type SqlQuery} from "../../src/sql/template.js";
import {loadFilterChoices} from "../../src/ui/page.js";
import {startWasmNode, type WasmDb} from "../support/duckdb-wasm-node.js";
import {metricDataOf} from "../support/metric-data.js";
import {dayArb, filterArb, levelArb, wasmQuery} from "../support/metric-filters.js";

let dir: string;
let wasmDb: WasmDb;
const sets: {
  name: string;
  data: MetricData;
  native: QueryDb;
  wasm: QueryDb;
  /** How many cases of each undated cell its cube_top_cases holds. */
  topCasesPerCell: number;
  close: () => void;
}[] = [];

const nativeDb = (conn: DuckDBConnection): QueryDb => ({
  async query(q: SqlQuery) {
    return (await conn.runAndReadAll(q.text, q.params as never)).getRowObjectsJS() as Record<
      string,
      unknown
    >[];
  }
});

/** Writes `result` as the loader does (detail tables, then the cube) and opens it natively and in WASM. */
async function open(name: string, result: IngestResult, topCasesPerCell = TOP_CASES_PER_CELL): Promise<void> {
  const file = join(dir, `${name}.duckdb`);
  let written: {cells: number; firstInspections: number} | undefined;
  await writeDuckDBFile(file, toTables(result, {source: name, generatedAt: generationTime()}), {
    after: async (db) => {
      written = await buildCube(db, METRICS, {topCasesPerCell});
      return [];
    }
  });
  expect(written?.cells, name).toBeGreaterThan(0);
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(`ATTACH '${file}' AS data (READ_ONLY); USE data`);
  wasmDb.registerFileBuffer(`${name}.duckdb`, new Uint8Array(await readFile(file)));
  const wasm = wasmDb.connect();
  wasm.query(`ATTACH '${name}.duckdb' AS ${name} (READ_ONLY)`);
  wasm.query(`USE ${name}`);
  sets.push({
    name,
    data: metricDataOf(result) as unknown as MetricData,
    native: nativeDb(conn),
    wasm: wasmQuery(wasm),
    topCasesPerCell,
    close: () => (conn.closeSync(), instance.closeSync())
  });
}

/** Generated data made awkward: two empty weeks, a county with no inspection, same-day repeats, no campaign. */
function roughen(result: IngestResult): IngestResult {
  const tables = new Map(result.tables);
  const institutions = tables.get("institutions") ?? [];
  const county = String(institutions.find((i) => String(i.division_code).startsWith("6403"))?.division_code);
  const inCounty = new Set(institutions.filter((i) => i.division_code === county).map((i) => String(i.code)));
  const inspections = (tables.get("inspections") ?? []).filter(
    (s) =>
      !inCounty.has(String(s.institution_code)) &&
      !(String(s.date) >= "2024-07-01" && String(s.date) <= "2024-07-14")
  );
  expect(inspections.length).toBeLessThan((tables.get("inspections") ?? []).length);
  const repeats: LoadedRow[] = inspections.slice(0, 60).map((s, i) => ({
    ...s,
    id: `${String(s.id)}-又`,
    problem_found: !s.problem_found,
    kind: i % 2 ? s.kind : "飞行检查"
  }));
  const noCampaign: LoadedRow[] = inspections.slice(60, 90).map((s) => ({...s, campaign_id: null}));
  const kept = [...noCampaign, ...inspections.slice(90), ...repeats];
  const ids = new Set(kept.map((s) => String(s.id)));
  const findings = (tables.get("findings") ?? []).filter((f) => ids.has(String(f.inspection_id)));
  const findingIds = new Set(findings.map((f) => String(f.id)));
  const dispositions = (tables.get("dispositions") ?? []).filter((p) =>
    p.finding_id !== null ? findingIds.has(String(p.finding_id)) : ids.has(String(p.inspection_id))
  );
  // Cases with several recovery actions, one of them twice: their actions are listed once each, in
  // code-point order (拒付、扣回、追回).
  const recovered = dispositions.filter((p) =>
    (RECOVERY_ACTIONS as readonly string[]).includes(String(p.action))
  );
  expect(recovered.length).toBeGreaterThan(40);
  const moreActions: LoadedRow[] = recovered
    .slice(0, 40)
    .flatMap((p, i) => [
      {...p, id: `${String(p.id)}-拒`, action: "拒付"},
      {...p, id: `${String(p.id)}-再`},
      ...(i % 2 ? [{...p, id: `${String(p.id)}-扣`, action: "扣回"}] : [])
    ]);
  dispositions.push(...moreActions);
  tables.set("inspections", kept);
  tables.set("findings", findings);
  tables.set("dispositions", dispositions);
  return {...result, tables};
}

beforeAll(async () => {
  wasmDb = await startWasmNode();
  dir = await mkdtemp(join(tmpdir(), "fundwatch-cube-"));
  await open(
    "ningxia",
    await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {today: "2024-12-31"})
  );
  await generate({rows: 3000, seed: 7, out: join(dir, "gen"), format: "csv"});
  // Two cases a cell in its top cases: most cells hold more, so a wrong choice of which to keep shows.
  await open("rough", roughen(await ingest([join(dir, "gen")], {today: "2024-12-31"})), 2);
}, 180_000);
afterAll(async () => {
  for (const s of sets) s.close();
  await rm(dir, {recursive: true, force: true});
});

/** Filters the institution-counting metrics' cube covers: no `from`, no inspection kinds. */
const coveredArb = filterArb.map((filter) => {
  const rest = {...filter};
  delete rest.from;
  delete rest.inspectionKinds;
  return rest;
});

/** Filters without a date: the cube answers them from its undated tables (cube_cells_all_days…). */
const undatedArb = filterArb.map((filter) => {
  const rest = {...filter};
  delete rest.from;
  delete rest.to;
  return rest;
});

/** Any filter, half of them without a date, so that both the dated and the undated tables are compared. */
const anyFilterArb = fc.oneof(filterArb, undatedArb);

/** A filter without its `to`. */
function withoutTo(filter: MetricFilter): MetricFilter {
  const rest = {...filter};
  delete rest.to;
  return rest;
}

async function rowsOf(db: QueryDb, query: SqlQuery) {
  return toMetricRows((await db.query(query)) as {code: unknown; numerator: unknown; denominator: unknown}[]);
}

describe.each(METRICS.map((m) => [m.id, m] as const))("cube: metric %s", (_, metric) => {
  it("is declared answerable from the cube", () => {
    expect(["cells", "institutions"]).toContain(metric.cube);
  });
  it("gives the detail rows' and the JS reference's parts under generated filters, natively and in DuckDB-WASM", async () => {
    const arb = metric.cube === "institutions" ? fc.oneof(coveredArb, anyFilterArb) : anyFilterArb;
    let answered = 0;
    let undated = 0;
    await fc.assert(
      fc.asyncProperty(arb, levelArb, async (filter, level) => {
        const cube = metricCubeSql(metric, {level, filter});
        expect(cube === null).toBe(!cubeCovers(metric, filter));
        for (const set of sets) {
          const detail = await rowsOf(set.native, metricSql(metric, {level, filter}));
          expect(detail, `${set.name} detail = reference`).toEqual(
            metricReference(metric, set.data, {level, filter})
          );
          if (!cube) continue;
          answered += 1;
          if (!narrowsDays(filter)) undated += 1;
          expect(await rowsOf(set.native, cube), `${set.name} cube = detail`).toEqual(detail);
          expect(await rowsOf(set.wasm, cube), `${set.name} cube in WASM`).toEqual(detail);
        }
      }),
      {numRuns: 40, seed: 20261205}
    );
    expect(answered).toBeGreaterThan(20);
    // Both the dated tables and the undated ones (cube_cells_all_days) were compared.
    expect(undated).toBeGreaterThan(4);
    expect(undated).toBeLessThan(answered);
  }, 180_000);
  it("gives the same unfiltered figures at every level, and they are not all zero", async () => {
    for (const set of sets)
      for (const level of ["县", "市", "省"] as const) {
        const cube = await rowsOf(set.native, metricCubeSql(metric, {level})!);
        expect(cube).toEqual(metricReference(metric, set.data, {level}));
        if (level === "省") expect(cube[0]?.numerator, set.name).toBeGreaterThan(0);
      }
  });
});

describe("cube: weekly progress", () => {
  it("gives the detail rows' and the JS reference's weeks under generated filters, natively and in DuckDB-WASM", async () => {
    let answered = 0;
    let undated = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(coveredArb, coveredArb.map(withoutTo), anyFilterArb),
        levelArb,
        dayArb,
        dayArb,
        async (filter, level, from, to) => {
          const options = {level, filter, from, to};
          const cube = weeklyProgressSql(options, {cube: true});
          const detailSql = weeklyProgressSql(options);
          expect(cube === null).toBe(detailSql === null || !progressCubeCovers(filter));
          for (const set of sets) {
            const detail = detailSql ? await set.native.query(detailSql) : [];
            expect(
              detail.map((r) => ({
                ...r,
                inspected: Number(r.inspected),
                institutions: Number(r.institutions),
                recovered: Number(r.recovered)
              })),
              `${set.name} detail`
            ).toEqual(
              weeklyProgressReference(set.data, options).map((r) => {
                const rest: Partial<typeof r> = {...r};
                delete rest.coverage;
                return rest;
              })
            );
            if (!cube) continue;
            answered += 1;
            if (!narrowsDays(filter)) undated += 1;
            for (const table of ["cube_recoveries_weekly", "cube_first_onsite_weeks", "cube_institutions"])
              expect(cube.text.includes(table), `${table} exactly when undated`).toBe(!narrowsDays(filter));
            expect(await set.native.query(cube), `${set.name} cube = detail`).toEqual(detail);
            expect(
              (await set.wasm.query(cube)).map((r) => ({
                ...r,
                inspected: BigInt(Number(r.inspected)),
                institutions: BigInt(Number(r.institutions)),
                recovered: BigInt(Number(r.recovered))
              })),
              `${set.name} cube in WASM`
            ).toEqual(
              detail.map((r) => ({
                ...r,
                inspected: BigInt(Number(r.inspected)),
                institutions: BigInt(Number(r.institutions)),
                recovered: BigInt(Number(r.recovered))
              }))
            );
          }
        }
      ),
      {numRuns: 40, seed: 20261205}
    );
    expect(answered).toBeGreaterThan(10);
    expect(undated).toBeGreaterThan(4);
    expect(undated).toBeLessThan(answered);
  }, 180_000);

  it("is answered from the cube by weeklyProgress when covered", async () => {
    const db = sets[0]!.native;
    const seen: string[] = [];
    const spy: QueryDb = {query: (q) => (seen.push(q.text), db.query(q))};
    const options = {level: "市" as const, from: "2024-05-15", to: "2024-09-27", filter: {to: "2024-08-31"}};
    const rows = await weeklyProgress(spy, options);
    expect(seen.some((t) => t.includes("cube_recoveries"))).toBe(true);
    expect(rows).toEqual(weeklyProgressReference(sets[0]!.data, options));
    expect(rows.at(-1)?.inspected).toBeGreaterThan(0);
  });
});

describe("cube: recovery breakdowns", () => {
  const dimensionArb = fc.constantFrom(...(Object.keys(RECOVERY_DIMENSIONS) as RecoveryDimension[]));
  const shares = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({key: String(r.key), amount: Number(r.amount), dispositions: Number(r.dispositions)}));

  it("gives the detail rows' and the JS reference's shares under generated filters, natively and in DuckDB-WASM", async () => {
    let nonEmpty = 0;
    let undated = 0;
    await fc.assert(
      fc.asyncProperty(dimensionArb, anyFilterArb, async (by, filter) => {
        const cube = recoveryBreakdownCubeSql(by, filter);
        const detailSql = recoveryBreakdownSql(by, filter);
        for (const set of sets) {
          const detail = await set.native.query(detailSql);
          expect(shares(detail), `${set.name} ${by} detail = reference`).toEqual(
            recoveryBreakdownReference(set.data as RecoveryData, by, filter)
          );
          // Exactly the same rows, types included (BIGINT amounts and counts, VARCHAR keys).
          expect(await set.native.query(cube), `${set.name} ${by} cube = detail`).toEqual(detail);
          expect(shares(await set.wasm.query(cube)), `${set.name} ${by} cube in WASM`).toEqual(
            shares(detail)
          );
          if (detail.length > 0) nonEmpty += 1;
          if (!narrowsDays(filter)) undated += 1;
        }
      }),
      {numRuns: 60, seed: 20261206}
    );
    expect(nonEmpty).toBeGreaterThan(10);
    expect(undated).toBeGreaterThan(4);
  }, 180_000);

  it("is answered from the cube by recoveryBreakdown, for every dimension", async () => {
    const db = sets[0]!.native;
    for (const by of Object.keys(RECOVERY_DIMENSIONS) as RecoveryDimension[]) {
      const seen: string[] = [];
      const spy: QueryDb = {query: (q) => (seen.push(q.text), db.query(q))};
      const filter = {within: "640100", to: "2024-08-31"};
      const rows = await recoveryBreakdown(spy, by, filter);
      expect(
        seen.some((t) => t.includes("cube_recovery_shares")),
        by
      ).toBe(true);
      expect(rows, by).toEqual(recoveryBreakdownReference(sets[0]!.data as RecoveryData, by, filter));
      expect(rows.length, by).toBeGreaterThan(0);
    }
  });
});

describe("cube: the largest cases and the institutions with findings", () => {
  const limitArb = fc.constantFrom(1, 2, 3, 20, 50, 500);
  // The references' fields, from rows of either SQL.
  const cases = (rows: Record<string, unknown>[]) => rows.map(recoveryCaseOf);
  const institutions = (rows: Record<string, unknown>[]) => rows.map(institutionFindingsOf);

  it("give the detail rows' and the JS reference's rows under generated filters and limits, natively and in DuckDB-WASM", async () => {
    let nonEmpty = 0;
    let topCases = 0;
    let severalActions = 0;
    await fc.assert(
      fc.asyncProperty(anyFilterArb, limitArb, async (filter, limit) => {
        for (const set of sets) {
          const data = set.data as RecoveryData;
          const detailCases = await set.native.query(largestCasesSql(filter, limit));
          expect(cases(detailCases), `${set.name} cases: detail = reference`).toEqual(
            largestCasesReference(data, {filter, limit})
          );
          // Exactly the same rows, types included.
          const cubeCases = largestCasesCubeSql(filter, limit, {topCasesPerCell: set.topCasesPerCell});
          expect(await set.native.query(cubeCases), `${set.name} cases: cube = detail`).toEqual(detailCases);
          expect(cases(await set.wasm.query(cubeCases)), `${set.name} cases: cube in WASM`).toEqual(
            cases(detailCases)
          );
          const detailInstitutions = await set.native.query(institutionsWithFindingsSql(filter, limit));
          expect(institutions(detailInstitutions), `${set.name} institutions: detail = reference`).toEqual(
            institutionsWithFindingsReference(data, {filter, limit})
          );
          const cubeInstitutions = institutionsWithFindingsCubeSql(filter, limit);
          expect(await set.native.query(cubeInstitutions), `${set.name} institutions: cube = detail`).toEqual(
            detailInstitutions
          );
          expect(
            institutions(await set.wasm.query(cubeInstitutions)),
            `${set.name} institutions: cube in WASM`
          ).toEqual(institutions(detailInstitutions));
          if (detailCases.length > 0 && detailInstitutions.length > 0) nonEmpty += 1;
          if (cases(detailCases).some((c) => String(c.actions).includes("、"))) severalActions += 1;
          if (cubeCases.text.includes("cube_top_cases")) topCases += 1;
        }
      }),
      {numRuns: 60, seed: 20261207}
    );
    expect(nonEmpty).toBeGreaterThan(10);
    expect(severalActions).toBeGreaterThan(5);
    // The undated cells' top cases answered some (a limit up to TOP_CASES_PER_CELL, no date), cube_cases the rest.
    expect(topCases).toBeGreaterThan(4);
  }, 240_000);

  it("are answered from the cube by largestCases and institutionsWithFindings", async () => {
    const db = sets[0]!.native;
    const seen: string[] = [];
    const spy: QueryDb = {query: (q) => (seen.push(q.text), db.query(q))};
    const filter = {within: "640100", to: "2024-08-31"};
    const data = sets[0]!.data as RecoveryData;
    const top = await largestCases(spy, {filter, limit: 10});
    expect(top).toEqual(largestCasesReference(data, {filter, limit: 10}));
    expect(top.length).toBe(10);
    const found = await institutionsWithFindings(spy, {filter, limit: 10});
    expect(found).toEqual(institutionsWithFindingsReference(data, {filter, limit: 10}));
    expect(found.length).toBe(10);
    expect(seen.some((t) => t.includes("FROM cube_cases"))).toBe(true);
    expect(seen.some((t) => t.includes("FROM cube_institution_findings"))).toBe(true);
    // Neither reads a record table.
    expect(seen.filter((t) => /\b(FROM|JOIN)\s+(inspections|findings|dispositions)\b/i.test(t))).toEqual([]);
  });
});

describe("cube: the filter bar's choices", () => {
  it("are the same from the cube as from the detail rows, and read no inspection", async () => {
    for (const set of sets) {
      const seen: string[] = [];
      const spy: QueryDb = {query: (q) => (seen.push(q.text), set.native.query(q))};
      const fromCube = await loadFilterChoices(spy);
      expect(
        seen.some((t) => /\binspections\b/.test(t)),
        set.name
      ).toBe(false);
      const detail: QueryDb = {
        query: (q) => (/cube_meta/.test(q.text) ? Promise.resolve([]) : set.native.query(q))
      };
      // A database whose cube probe finds nothing is read from the detail rows.
      const probe: QueryDb = {
        query: (q) => (/information_schema/.test(q.text) ? Promise.resolve([{n: 0}]) : detail.query(q))
      };
      const fromDetail = await loadFilterChoices(probe);
      expect(fromCube, set.name).toEqual(fromDetail);
      const kinds = [...new Set(set.data.inspections.map((s) => s.kind))];
      expect([...fromCube.inspectionKinds].sort(), set.name).toEqual(kinds.sort());
      const days = set.data.inspections.map((s) => s.date).sort();
      expect([fromCube.firstDay, fromCube.lastDay], set.name).toEqual([days[0], days.at(-1)]);
      expect(fromCube.inspectionKinds.length, set.name).toBeGreaterThan(1);
    }
  });
});

describe("the SDK's choice of engine", () => {
  it("answers from the cube when the database has one that covers the metric and filter, else from the detail rows", async () => {
    const db = sets[0]!.native;
    expect(
      (await metricQuery(db, metricById("recovery_total"), {filter: {from: "2024-06-01"}})).text
    ).toContain("cube_cells");
    expect((await metricQuery(db, metricById("coverage"), {filter: {to: "2024-08-31"}})).text).toMatch(
      /FROM cube_institution_days\b/
    );
    expect((await metricQuery(db, metricById("coverage"), {filter: {campaign: "ZX2024"}})).text).toContain(
      "FROM cube_institution_all_days"
    );
    // Without a date, the tables summed over every day.
    expect(
      (await metricQuery(db, metricById("recovery_total"), {filter: {within: "640100"}})).text
    ).toContain("FROM cube_cells_all_days");
    expect((await metricQuery(db, metricById("recovery_total"), {filter: {to: "2024-08-31"}})).text).toMatch(
      /FROM cube_cells\b(?!_)/
    );
    const picked = async (run: (spy: QueryDb) => Promise<unknown>): Promise<string> => {
      const seen: string[] = [];
      await run({query: (q) => (seen.push(q.text), db.query(q))});
      return seen.join("\n");
    };
    expect(await picked((spy) => recoveryBreakdown(spy, "category", {within: "640100"}))).toContain(
      "cube_recovery_shares_all_days"
    );
    expect(
      await picked((spy) =>
        weeklyProgress(spy, {level: "市", from: "2024-05-15", to: "2024-09-27", filter: {campaign: "ZX2024"}})
      )
    ).toMatch(
      /cube_recoveries_weekly[^]*cube_first_onsite_weeks|cube_first_onsite_weeks[^]*cube_recoveries_weekly/
    );
    expect(
      await picked((spy) => largestCases(spy, {filter: {within: "640100"}, limit: TOP_CASES_PER_CELL}))
    ).toContain("FROM cube_top_cases");
    const beyond = await picked((spy) =>
      largestCases(spy, {filter: {within: "640100"}, limit: TOP_CASES_PER_CELL + 1})
    );
    expect(beyond).toContain("FROM cube_cases");
    expect(beyond).not.toContain("cube_top_cases");
    const detail = await metricQuery(db, metricById("coverage"), {filter: {from: "2024-06-01"}});
    expect(detail.text).not.toContain("cube_");
    expect(detail).toEqual(metricSql(metricById("coverage"), {filter: {from: "2024-06-01"}}));
  });

  it("uses the detail rows on a database without a cube, or with a cube of another version", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(`ATTACH '${join(dir, "ningxia.duckdb")}' AS data (READ_ONLY)`);
      await conn.run(`CREATE TABLE mem AS SELECT 1; USE memory`);
      for (const t of [
        "divisions",
        "institutions",
        "inspections",
        "findings",
        "dispositions",
        "campaigns",
        "calendar"
      ])
        await conn.run(`CREATE VIEW ${t} AS SELECT * FROM data.${t}`);
      const plain = nativeDb(conn);
      const metric = metricById("findings");
      expect((await metricQuery(plain, metric)).text).not.toContain("cube_");
      const fromDetail = await metricByDivision(plain, metric, {level: "市"});
      expect(fromDetail).toEqual(metricReference(metric, sets[0]!.data, {level: "市"}));

      const old = nativeDb(conn);
      await conn.run(`CREATE VIEW cube_cells AS SELECT * FROM data.cube_cells`);
      await conn.run(
        `CREATE TABLE cube_meta AS SELECT version + 1 AS version, cell_metrics, institution_metrics FROM data.cube_meta`
      );
      expect((await metricQuery(old, metric)).text).not.toContain("cube_");
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it("writes the cube tables, far fewer cell rows than records, dropping its temporary tables", async () => {
    const db = sets[1]!.native;
    const tables = (
      await db.query(sqlQuery`SELECT table_name FROM information_schema.tables WHERE table_catalog = 'data'`)
    ).map((r) => String(r.table_name));
    for (const t of CUBE_TABLES) expect(tables).toContain(t);
    expect(tables.filter((t) => t.startsWith("cube_"))).toEqual(expect.arrayContaining([...CUBE_TABLES]));
    expect(tables.filter((t) => t.startsWith("cube_")).length).toBe(CUBE_TABLES.length);
    const [meta] = await db.query(
      sqlQuery`SELECT cells, first_inspections, (SELECT count(*) FROM inspections) AS inspections FROM cube_meta`
    );
    expect(Number(meta?.cells)).toBeLessThanOrEqual(Number(meta?.inspections));
    expect(Number(meta?.first_inspections)).toBeLessThanOrEqual(Number(meta?.inspections));
    // The undated tables: fewer rows than the dated ones, and at most TOP_CASES_PER_CELL cases a cell.
    const [rows] = await db.query(sqlQuery`SELECT
  (SELECT count(*) FROM cube_cells) AS cells, (SELECT count(*) FROM cube_cells_all_days) AS cells_all,
  (SELECT count(*) FROM cube_recoveries) AS recoveries,
  (SELECT count(*) FROM cube_recoveries_weekly) AS weekly,
  (SELECT count(*) FROM cube_recovery_shares) AS shares,
  (SELECT count(*) FROM cube_recovery_shares_all_days) AS shares_all,
  (SELECT count(*) FROM cube_cases) AS cases, (SELECT count(*) FROM cube_top_cases) AS top,
  (SELECT max(n) FROM (SELECT count(*) AS n FROM cube_top_cases
    GROUP BY county, institution_kind, campaign_id, inspection_kind)) AS most`);
    expect(Number(rows?.cells_all)).toBeLessThan(Number(rows?.cells));
    expect(Number(rows?.weekly)).toBeLessThan(Number(rows?.recoveries));
    expect(Number(rows?.shares_all)).toBeLessThan(Number(rows?.shares));
    // Built with two cases a cell: the cells held more, so it kept fewer than all.
    expect(Number(rows?.top)).toBeLessThan(Number(rows?.cases));
    expect(Number(rows?.top)).toBeGreaterThan(0);
    expect(Number(rows?.most)).toBe(sets[1]!.topCasesPerCell);
  });
});
