// The DuckDB ingest (loaders/ingest-sql.ts) against the JS ingest while both exist (issue 21): the same
// outputs byte for byte (rejects.csv, warnings.csv, summary.json) and the same database content (every
// table, column, type and row in order, the cube's tables too) on the default data; and the comparison
// that the ingest's own test files run through (FUNDWATCH_INGEST=both) sees a difference when there is one.
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {ingest, IngestError, type IngestResult} from "../../loaders/ingest.js";
import {ingestSql, sameIngest} from "../../loaders/ingest-sql.js";
import {OUTPUT_FILES, writeOutputs, type AnyIngestResult} from "../../loaders/outputs.js";
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

describe("the DuckDB ingest against the JS ingest", () => {
  it("writes the same rejects.csv, warnings.csv, summary.json and database content on the default data", async () => {
    const sql = await ingestSql([DATA], OPTIONS);
    let b: string;
    try {
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

  it("sees a difference between two ingests wherever there is one", () => {
    const same = {result: js};
    expect(sameIngest(same, {result: structuredClone(js)})).toBeUndefined();

    const reworded = structuredClone(js);
    const first = reworded.rejects[0];
    if (!first) throw new Error("the default data has rejects");
    first.reason += "。";
    expect(sameIngest(same, {result: reworded})).toMatch(/^rejects \(\d+ against \d+\), first at 0:/);

    const reordered = structuredClone(js);
    const rows = reordered.tables.get("inspections") ?? [];
    [rows[0], rows[1]] = [rows[1] as (typeof rows)[number], rows[0] as (typeof rows)[number]];
    expect(sameIngest(same, {result: reordered})).toMatch(/^tables\.inspections .*first at 0/);

    const asOf = {...js, asOf: "2024-01-01"};
    expect(sameIngest(same, {result: asOf})).toMatch(/^asOf:/);

    const one = new IngestError(["a.csv: 缺少必需的列"], {files: [], skippedFiles: []});
    const other = new IngestError(["b.csv: 缺少必需的列"], {files: [], skippedFiles: []});
    expect(sameIngest({error: one}, {error: one})).toBeUndefined();
    expect(sameIngest({error: one}, {error: other})).toMatch(/^problems/);
    expect(sameIngest(same, {error: one})).toBeDefined();
  });
});
