// The ingest's two ways through a file and two ways to its outputs: each CSV file checked in DuckDB
// (`sqlFromBytes: 0`) and the loaded tables copied into the site's file by SQL, as `npm run ingest` and the
// site's loader do for large files; and each file checked in JS (`parseFile`, the default for small files)
// with the tables brought into JS and written with appenders (`ingest`, for tests and small data). Both
// give the same outputs byte for byte (rejects.csv, warnings.csv, summary.json) and the same database
// content (every table, column, type and row in order, the cube's tables too) on the default data. Before the JS ingest was removed (issue 21), the same test held between it and
// the DuckDB ingest, and every ingest test ran on both and compared whole results.
import {mkdtemp, readFile, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {ingestSql} from "../../loaders/ingest-sql.js";
import {OUTPUT_FILES, totalsOf, writeOutputs, type AnyIngestResult} from "../../loaders/outputs.js";
import {buildCube, METRICS} from "../../src/metrics/index.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DATA = join(ROOT, "data", "ningxia");
const OPTIONS = {root: DATA, today: "2024-12-31"};
const META = {source: "test", generatedAt: "2024-12-31T00:00:00.000Z"};

let dir: string;
let js: IngestResult;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-ingest-sql-"));
  js = await ingest([DATA], OPTIONS);
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

async function write(name: string, result: AnyIngestResult): Promise<string> {
  const out = join(dir, name);
  await writeOutputs(out, result, META, {
    after: async (db) => {
      await buildCube(db, METRICS);
      return [];
    }
  });
  return out;
}

/** Every table of a database file: its columns with types, and its rows in stored order. */
async function content(file: string): Promise<Map<string, {columns: unknown[]; rows: unknown[]}>> {
  const instance = await DuckDBInstance.create(file, {access_mode: "READ_ONLY"});
  const conn = await instance.connect();
  try {
    const tables = new Map<string, {columns: unknown[]; rows: unknown[]}>();
    const names = (
      await conn.runAndReadAll("SELECT table_name FROM duckdb_tables() ORDER BY table_name")
    ).getRowObjectsJS() as {table_name: string}[];
    for (const {table_name: name} of names) {
      const columns = (
        await conn.runAndReadAll(
          "SELECT column_name, data_type, column_index FROM duckdb_columns() WHERE table_name = $1 ORDER BY column_index",
          [name]
        )
      ).getRowObjectsJS();
      const rows = (await conn.runAndReadAll(`SELECT * FROM "${name}"`)).getRowObjectsJson();
      tables.set(name, {columns, rows});
    }
    return tables;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe("the ingest's outputs from DuckDB and from JS", () => {
  it("writes the same rejects.csv, warnings.csv, summary.json and database content on the default data", async () => {
    // Every CSV file checked in DuckDB (the default data's are small enough for JS otherwise).
    const sql = await ingestSql([DATA], {...OPTIONS, sqlFromBytes: 0});
    let b: string;
    try {
      const counts = await sql.store.conn.runAndReadAll(
        `SELECT count(*) AS n FROM ${sql.store.table("inspections")}`
      );
      expect(Number(counts.getRowObjectsJS()[0]?.n)).toBe(js.tables.get("inspections")?.length);
      expect(totalsOf(sql.files)).toEqual(totalsOf(js.files));
      b = await write("sql", sql);
    } finally {
      await sql.store.close();
    }
    const a = await write("js", js);
    expect(js.rejects.length).toBeGreaterThan(5);
    expect(js.warnings.length).toBeGreaterThan(5);
    for (const name of OUTPUT_FILES.filter((f) => f !== "fundwatch.duckdb")) {
      expect(await readFile(join(b, name), "utf8"), name).toBe(await readFile(join(a, name), "utf8"));
    }
    const [x, y] = [await content(join(a, "fundwatch.duckdb")), await content(join(b, "fundwatch.duckdb"))];
    expect([...y.keys()]).toEqual([...x.keys()]);
    expect(x.get("inspections")?.rows.length).toBeGreaterThan(100);
    expect(x.get("cube_cells")?.rows.length).toBeGreaterThan(0);
    for (const [name, table] of x) expect(y.get(name), name).toEqual(table);
  });

  it("works within the memory limit it is given, spilling to a folder of its own that close() removes; release() drops its tables", async () => {
    const sql = await ingestSql([DATA], {...OPTIONS, memoryLimit: "64MB"});
    let spill: string;
    try {
      const settings = (
        await sql.store.conn.runAndReadAll(
          "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t"
        )
      ).getRowObjectsJS()[0] as {m: string; t: string};
      expect(settings.m).toMatch(/^6[0-9](\.\d+)? MiB$/);
      spill = settings.t;
      expect(spill.startsWith(tmpdir())).toBe(true);
      expect(totalsOf(sql.files)).toEqual(totalsOf(js.files));
      // release() leaves the work database empty (the loader's cube then has its memory).
      const tables = async () =>
        Number(
          (
            await sql.store.conn.runAndReadAll(
              "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name IN ('memory', 'temp')"
            )
          ).getRowObjectsJS()[0]?.n
        );
      expect(await tables()).toBeGreaterThan(5);
      await sql.store.release();
      expect(await tables()).toBe(0);
    } finally {
      await sql.store.close();
    }
    await expect(stat(spill)).rejects.toThrow(/ENOENT/);
  });
});
