// The small file first (issue 20): loaders/core-file.ts copies every table of the site's database but
// the record tables, which become views on the full file attached as fundwatch_full. The properties
// that matter: with the full file attached beside it, the small file answers every SDK function exactly
// as the full file does, under generated filters; alone, it answers every default figure, and a query
// that reads a record table fails with the error the client recognises (src/duckdb/split.ts).
import {mkdtemp, readFile, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {DuckDBInstance} from "@duckdb/node-api";
import {checkCorePair, writeCoreFile, writeFirstFile} from "../../loaders/core-file.js";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest} from "../../loaders/ingest.js";
import {openNativeDb} from "../../loaders/native-db.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {
  CORE_CATALOG,
  DATED_TABLES,
  DETAIL_TABLES,
  FULL_CATALOG,
  missingCatalog,
  needsFullFile
} from "../../src/duckdb/split.js";
import {
  METRICS,
  RECOVERY_DIMENSIONS,
  buildCube,
  largestCases,
  TOP_CASES_PER_CELL,
  metricByDivision,
  rankDivisions,
  recoveryBreakdown,
  weeklyProgress,
  type RecoveryDimension
} from "../../src/metrics/index.js";
import {sqlQuery, type QueryDb} from "../../src/sql/template.js";
import {loadFilterChoices} from "../../src/ui/page.js";
import {startWasmNode} from "../support/duckdb-wasm-node.js";
import {filterArb, levelArb, wasmQuery} from "../support/metric-filters.js";

let dir: string;
let full: {db: QueryDb; close: () => void};
let core: {db: QueryDb; close: () => void};
let both: {db: QueryDb; close: () => void};
let written: {copied: string[]; viewed: string[]};
let firstWritten: {copied: string[]; viewed: string[]};
let first: {db: QueryDb; close: () => void};
let firstAll: {db: QueryDb; close: () => void};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-core-"));
  const result = await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {
    today: "2024-12-31"
  });
  await writeDuckDBFile(
    join(dir, "full.duckdb"),
    toTables(result, {source: "测试", generatedAt: generationTime()}),
    {
      after: async (db) => {
        await buildCube(db, METRICS);
        return [];
      }
    }
  );
  written = await writeCoreFile(join(dir, "full.duckdb"), join(dir, "core.duckdb"));
  full = await openNativeDb(join(dir, "full.duckdb"));
  core = await openNativeDb(join(dir, "core.duckdb"));
  // The small file as the pages attach it, with the full file beside it.
  both = await openNativeDb(join(dir, "core.duckdb"), {beside: {[FULL_CATALOG]: join(dir, "full.duckdb")}});
  firstWritten = await writeFirstFile(
    join(dir, "full.duckdb"),
    join(dir, "core.duckdb"),
    join(dir, "first.duckdb")
  );
  first = await openNativeDb(join(dir, "first.duckdb"));
  // The first file as the pages attach it once a date and a record list have asked for the others.
  firstAll = await openNativeDb(join(dir, "first.duckdb"), {
    beside: {[CORE_CATALOG]: join(dir, "core.duckdb"), [FULL_CATALOG]: join(dir, "full.duckdb")}
  });
}, 120_000);
afterAll(async () => {
  full?.close();
  core?.close();
  both?.close();
  first?.close();
  firstAll?.close();
  await rm(dir, {recursive: true, force: true});
});

const tablesOf = async (db: QueryDb, catalog = "fundwatch") =>
  (
    await db.query(
      sqlQuery`SELECT table_name FROM duckdb_tables() WHERE database_name = ${catalog}
        UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ${catalog} AND NOT internal
        ORDER BY 1`
    )
  ).map((r) => String(r.table_name));
const rowsOf = (db: QueryDb, table: string) => db.query({text: `SELECT * FROM "${table}"`, params: []});
const dims = Object.keys(RECOVERY_DIMENSIONS) as RecoveryDimension[];

/**
 * `same(fn)` expects `fn` to give on `db` the same answer, or the same error (a filter naming no
 * campaign, say), as on the full file, and counts the answers. Fresh objects per call: the cube probe
 * is cached per db object, as a page's db is.
 */
function comparer(db: () => QueryDb) {
  let answered = 0;
  const plain = (): QueryDb => ({query: (q) => full.db.query(q)});
  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (value) => ({value}),
      (e: unknown) => ({error: String(e)})
    );
  return {
    async same<T>(fn: (d: QueryDb) => Promise<T>): Promise<void> {
      const answer = await outcome(fn(db()));
      expect(answer).toEqual(await outcome(fn(plain())));
      if ("value" in answer) answered += 1;
    },
    answered: () => answered
  };
}

describe("the small file (loaders/core-file.ts)", () => {
  it("holds every table of the full file, row for row, but the record tables, which read the full file's", async () => {
    const fullTables = await tablesOf(full.db);
    expect(await tablesOf(both.db)).toEqual(fullTables);
    // What a page lists (information_schema) is the full file's, table for table and column for column.
    const listed = (db: QueryDb) =>
      db.query(sqlQuery`SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_catalog = 'fundwatch' ORDER BY table_name, ordinal_position`);
    expect(await listed(both.db)).toEqual(await listed(full.db));
    expect(written.viewed.sort()).toEqual([...DETAIL_TABLES].sort());
    expect([...written.copied, ...written.viewed].sort()).toEqual(fullTables);
    const views = (
      await both.db.query(
        sqlQuery`SELECT view_name FROM duckdb_views() WHERE database_name = 'fundwatch' AND NOT internal`
      )
    ).map((r) => String(r.view_name));
    expect(views.sort()).toEqual([...DETAIL_TABLES].sort());
    for (const table of fullTables) {
      // Rows, in the same order, with the same column names and types (the values as DuckDB returns them).
      const describe = (db: QueryDb) => db.query({text: `DESCRIBE "${table}"`, params: []});
      expect(await describe(both.db), table).toEqual(await describe(full.db));
      expect(await rowsOf(both.db, table), table).toEqual(await rowsOf(full.db, table));
      if (!(DETAIL_TABLES as readonly string[]).includes(table))
        expect(await rowsOf(core.db, table), `${table} alone`).toEqual(await rowsOf(full.db, table));
    }
    expect((await rowsOf(full.db, "inspections")).length).toBeGreaterThan(0);
    expect((await stat(join(dir, "core.duckdb"))).size).toBeLessThan(
      (await stat(join(dir, "full.duckdb"))).size
    );
  });

  it("names the full file it was made from: the build's check passes on the pair and fails on another full file", async () => {
    await expect(checkCorePair(join(dir, "core.duckdb"), join(dir, "full.duckdb"))).resolves.toBeUndefined();
    await expect(checkCorePair(join(dir, "core.duckdb"), join(dir, "core.duckdb"))).rejects.toThrow(
      /不是同一次载入的结果/
    );
    await expect(checkCorePair(join(dir, "full.duckdb"), join(dir, "full.duckdb"))).rejects.toThrow(
      /不是由 writeCoreFile 写出的/
    );
  });

  it("alone, fails a query on a record table with the error the client attaches the full file on", async () => {
    for (const table of DETAIL_TABLES) {
      const error = await rowsOf(core.db, table).then(
        () => null,
        (e: unknown) => e
      );
      expect(needsFullFile(error), table).toBe(true);
    }
    const other = await core.db
      .query({text: "SELECT * FROM instituions", params: []})
      .catch((e: unknown) => e);
    expect(needsFullFile(other)).toBe(false);
  });

  it("refuses a database with a view, leaving no file", async () => {
    const instance = await DuckDBInstance.create(join(dir, "with-view.duckdb"));
    const conn = await instance.connect();
    await conn.run("CREATE TABLE t AS SELECT 1 AS a; CREATE VIEW v AS SELECT * FROM t");
    conn.closeSync();
    instance.closeSync();
    await expect(
      writeCoreFile(join(dir, "with-view.duckdb"), join(dir, "with-view-core.duckdb"))
    ).rejects.toThrow(/视图（v）/);
    await expect(stat(join(dir, "with-view-core.duckdb"))).rejects.toThrow();
  });
});

describe("the small file answers as the full file does", () => {
  it("with the full file beside it: every SDK function, under generated filters", async () => {
    const {same, answered} = comparer(() => ({query: (q) => both.db.query(q)}));
    expect(await loadFilterChoices({query: (q) => both.db.query(q)})).toEqual(
      await loadFilterChoices({query: (q) => full.db.query(q)})
    );
    await fc.assert(
      fc.asyncProperty(
        filterArb,
        levelArb,
        fc.constantFrom(...METRICS),
        fc.constantFrom(...dims),
        async (filter, level, metric, by) => {
          await same((d) => metricByDivision(d, metric, {level, filter}));
          await same((d) => recoveryBreakdown(d, by, filter));
          await same((d) => largestCases(d, {filter, limit: 5}));
          await same((d) => weeklyProgress(d, {level, filter, from: "2024-05-15", to: "2024-09-27"}));
          await same((d) => rankDivisions(d, {level: level === "省" ? "市" : level, filter}));
        }
      ),
      {numRuns: 40, seed: 20261206}
    );
    expect(answered()).toBeGreaterThan(100);
  }, 240_000);

  it("in DuckDB-WASM too: alone for the defaults, then with the full file attached beside it", async () => {
    const wasm = await startWasmNode();
    wasm.registerFileBuffer("core.duckdb", new Uint8Array(await readFile(join(dir, "core.duckdb"))));
    wasm.registerFileBuffer("full.duckdb", new Uint8Array(await readFile(join(dir, "full.duckdb"))));
    const conn = wasm.connect();
    conn.query("ATTACH 'core.duckdb' AS fundwatch (READ_ONLY)");
    conn.query("USE fundwatch");
    const raw = wasmQuery(conn);
    const db: QueryDb = {
      query: (q) =>
        raw.query(q).catch((e: unknown) => {
          throw new Error(`${String(e)} :: ${q.text.slice(0, 300)}`);
        })
    };
    const numbers = (rows: unknown) =>
      JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));
    for (const metric of METRICS)
      expect(numbers(await metricByDivision(db, metric, {level: "市"})), metric.id).toEqual(
        numbers(await metricByDivision(full.db, metric, {level: "市"}))
      );
    // With no date and a limit up to TOP_CASES_PER_CELL, the small file's cube_top_cases answer alone.
    expect(numbers(await largestCases(db, {limit: 5}))).toEqual(
      numbers(await largestCases(full.db, {limit: 5}))
    );
    expect((await largestCases(db, {limit: 5})).length).toBe(5);
    // A date, or more cases: cube_cases, in the full file.
    const dated = {filter: {to: "2024-08-31"}, limit: 5};
    const error = await largestCases(db, dated).catch((e: unknown) => e);
    expect(needsFullFile(error)).toBe(true);
    expect(
      needsFullFile(await largestCases(db, {limit: TOP_CASES_PER_CELL + 1}).catch((e: unknown) => e))
    ).toBe(true);
    conn.query(`ATTACH 'full.duckdb' AS ${FULL_CATALOG} (READ_ONLY)`);
    expect(numbers(await largestCases(db, dated))).toEqual(numbers(await largestCases(full.db, dated)));
    expect((await largestCases(db, dated)).length).toBe(5);
  }, 120_000);

  it("alone: the default (unfiltered) figures of every metric, breakdown, weekly progress and the filter bar", async () => {
    for (const metric of METRICS)
      for (const level of ["省", "市", "县"] as const)
        expect(await metricByDivision(core.db, metric, {level}), `${metric.id} ${level}`).toEqual(
          await metricByDivision(full.db, metric, {level})
        );
    for (const by of dims)
      expect(await recoveryBreakdown(core.db, by), by).toEqual(await recoveryBreakdown(full.db, by));
    const progress = {level: "市" as const, from: "2024-05-15", to: "2024-09-27"};
    expect(await weeklyProgress(core.db, progress)).toEqual(await weeklyProgress(full.db, progress));
    expect(await rankDivisions(core.db)).toEqual(await rankDivisions(full.db));
    expect(await loadFilterChoices(core.db)).toEqual(await loadFilterChoices(full.db));
  });
});

/** A filter without its dates: what the filter bar sends until a date is chosen. */
const undatedArb = filterArb.map((filter) => {
  const rest = {...filter};
  delete rest.from;
  delete rest.to;
  return rest;
});

describe("the first file (writeFirstFile): the small file without the cube's tables by day", () => {
  it("holds every table of the full file, row for row: the dated cube's read the small file's, the records the full file's", async () => {
    const fullTables = await tablesOf(full.db);
    expect(await tablesOf(firstAll.db)).toEqual(fullTables);
    expect(firstWritten.viewed.sort()).toEqual([...DETAIL_TABLES, ...DATED_TABLES].sort());
    expect([...firstWritten.copied, ...firstWritten.viewed].sort()).toEqual(fullTables);
    const views = await firstAll.db.query(
      sqlQuery`SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'fundwatch' AND NOT internal ORDER BY view_name`
    );
    for (const {view_name: name, sql} of views)
      expect(String(sql), String(name)).toContain(
        (DATED_TABLES as readonly unknown[]).includes(name) ? CORE_CATALOG : FULL_CATALOG
      );
    for (const table of fullTables) {
      const describe = (db: QueryDb) => db.query({text: `DESCRIBE "${table}"`, params: []});
      expect(await describe(firstAll.db), table).toEqual(await describe(full.db));
      expect(await rowsOf(firstAll.db, table), table).toEqual(await rowsOf(full.db, table));
    }
    const size = async (name: string) => (await stat(join(dir, name))).size;
    expect(await size("first.duckdb")).toBeLessThan(await size("core.duckdb"));
    await expect(checkCorePair(join(dir, "first.duckdb"), join(dir, "full.duckdb"))).resolves.toBeUndefined();
  });

  it("alone, answers every SDK function under any filter without a date as the full file does", async () => {
    const {same, answered} = comparer(() => ({query: (q) => first.db.query(q)}));
    expect(await loadFilterChoices({query: (q) => first.db.query(q)})).toEqual(
      await loadFilterChoices({query: (q) => full.db.query(q)})
    );
    await fc.assert(
      fc.asyncProperty(
        undatedArb,
        levelArb,
        fc.constantFrom(...METRICS),
        fc.constantFrom(...dims),
        async (filter, level, metric, by) => {
          // The cube's undated tables only: a filter with inspection kinds or `from` for coverage reads
          // the records, so those are compared where they answer (the full file would be attached).
          if (filter.inspectionKinds === undefined)
            await same((d) => metricByDivision(d, metric, {level, filter}));
          await same((d) => recoveryBreakdown(d, by, filter));
          await same((d) => largestCases(d, {filter, limit: 5}));
          if (filter.inspectionKinds === undefined) {
            await same((d) => weeklyProgress(d, {level, filter, from: "2024-05-15", to: "2024-09-27"}));
            await same((d) => rankDivisions(d, {level: level === "省" ? "市" : level, filter}));
          }
        }
      ),
      {numRuns: 40, seed: 20261208}
    );
    expect(answered()).toBeGreaterThan(80);
  }, 240_000);

  it("with the small and the full file beside it: every SDK function, under generated filters", async () => {
    const {same, answered} = comparer(() => ({query: (q) => firstAll.db.query(q)}));
    await fc.assert(
      fc.asyncProperty(filterArb, levelArb, fc.constantFrom(...METRICS), async (filter, level, metric) => {
        await same((d) => metricByDivision(d, metric, {level, filter}));
        await same((d) => weeklyProgress(d, {level, filter, from: "2024-05-15", to: "2024-09-27"}));
        await same((d) => largestCases(d, {filter, limit: 5}));
      }),
      {numRuns: 25, seed: 20261208}
    );
    expect(answered()).toBeGreaterThan(40);
  }, 240_000);

  it("alone, fails a query with a date on the small file's catalog and one on the records on the full file's, in DuckDB-WASM too", async () => {
    const dated = {level: "市" as const, filter: {to: "2024-08-31"}};
    expect(missingCatalog(await metricByDivision(first.db, "findings", dated).catch((e: unknown) => e))).toBe(
      CORE_CATALOG
    );
    for (const table of DATED_TABLES)
      expect(missingCatalog(await rowsOf(first.db, table).catch((e: unknown) => e)), table).toBe(
        CORE_CATALOG
      );
    for (const table of DETAIL_TABLES)
      expect(missingCatalog(await rowsOf(first.db, table).catch((e: unknown) => e)), table).toBe(
        FULL_CATALOG
      );
    const wasm = await startWasmNode();
    for (const name of ["first", "core", "full"])
      wasm.registerFileBuffer(`${name}.duckdb`, new Uint8Array(await readFile(join(dir, `${name}.duckdb`))));
    const conn = wasm.connect();
    conn.query("ATTACH 'first.duckdb' AS fundwatch (READ_ONLY)");
    conn.query("USE fundwatch");
    const db = wasmQuery(conn);
    const numbers = (rows: unknown) =>
      JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));
    for (const metric of METRICS)
      expect(numbers(await metricByDivision(db, metric, {level: "县"})), metric.id).toEqual(
        numbers(await metricByDivision(full.db, metric, {level: "县"}))
      );
    expect(missingCatalog(await metricByDivision(db, "findings", dated).catch((e: unknown) => e))).toBe(
      CORE_CATALOG
    );
    conn.query(`ATTACH 'core.duckdb' AS ${CORE_CATALOG} (READ_ONLY)`);
    expect(numbers(await metricByDivision(db, "findings", dated))).toEqual(
      numbers(await metricByDivision(full.db, "findings", dated))
    );
    const detail = {filter: {to: "2024-08-31"}, limit: 5};
    expect(missingCatalog(await largestCases(db, detail).catch((e: unknown) => e))).toBe(FULL_CATALOG);
    conn.query(`ATTACH 'full.duckdb' AS ${FULL_CATALOG} (READ_ONLY)`);
    expect(numbers(await largestCases(db, detail))).toEqual(numbers(await largestCases(full.db, detail)));
  }, 120_000);
});
