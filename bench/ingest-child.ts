/**
 * One run of the ingest benchmark, in a process of its own so that each run starts with a fresh heap
 * and has its own peak RSS:
 *
 *   node --import tsx bench/ingest-child.ts <fundwatch|native> <dataDir> <outDir>
 *
 * `fundwatch` runs the ingest and writes its outputs (fundwatch.duckdb, rejects.csv, warnings.csv,
 * summary.json); `native` has DuckDB read the same CSVs into a database file of the same storage
 * version. Prints one line of JSON (a {@link ChildReport}) to stdout.
 */
import {mkdir, readdir, stat} from "node:fs/promises";
import {basename, extname, join, resolve} from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import {ingestSql} from "../loaders/ingest-sql.js";
import {totalsOf, writeOutputs} from "../loaders/outputs.js";
import {STORAGE_VERSION} from "../loaders/duckdb-file.js";
import {INGEST_MODES, type ChildReport, type IngestMode} from "./ingest.js";

const USAGE = "usage: node --import tsx bench/ingest-child.ts <fundwatch|native> <dataDir> <outDir>";
/** Fixed, so that every run does the same work and writes the same bytes. */
const TODAY = "2024-12-31";
const GENERATED_AT = "2024-12-31T00:00:00.000Z";

/** The figures a mode measures; the rest of a {@link ChildReport} is the same for both. */
type Measured = Omit<ChildReport, "mode" | "csv_bytes" | "process_ms" | "max_rss_bytes">;

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const sqlName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The CSV files directly in `dir`, absolute, in name order. */
async function csvFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => extname(n).toLowerCase() === ".csv").sort();
  return names.map((n) => resolve(dir, n));
}

async function totalBytes(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

async function runFundwatch(dataDir: string, outDir: string): Promise<Measured> {
  const start = performance.now();
  const result = await ingestSql([dataDir], {root: dataDir, today: TODAY});
  const ingested = performance.now();
  try {
    await writeOutputs(outDir, result, {source: "bench", generatedAt: GENERATED_AT});
  } finally {
    await result.store.close();
  }
  const end = performance.now();
  const {read_ms, validate_ms} = result.timings;
  return {
    ...totalsOf(result.files),
    read_ms,
    validate_ms,
    read_validate_ms: ingested - start,
    write_ms: end - ingested,
    total_ms: end - start
  };
}

/** Creates `out.<name>` from the CSV with DuckDB's own reader; returns its row count. */
async function loadCsv(conn: DuckDBConnection, file: string): Promise<number> {
  const name = basename(file, extname(file));
  // sample_size = -1: detect the types from the whole file (a column can look numeric for many rows).
  const created = await conn.runAndReadAll(
    `CREATE TABLE out.main.${sqlName(name)} AS ` +
      `SELECT * FROM read_csv(${sqlString(file)}, header = true, sample_size = -1)`
  );
  return Number(created.value(0, 0));
}

/**
 * DuckDB reads, parses and converts in one fused pass (and may write large tables' row groups to the
 * file while it loads them), so read and validate are one figure here: the CREATE TABLE … AS
 * statements. Write is what is left at the end: CHECKPOINT and DETACH.
 */
async function runNative(files: readonly string[], outDir: string): Promise<Measured> {
  await mkdir(outDir, {recursive: true});
  const start = performance.now();
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const target = sqlString(join(outDir, "native.duckdb"));
    await conn.run(`ATTACH ${target} AS out (STORAGE_VERSION ${sqlString(STORAGE_VERSION)})`);
    let rows = 0;
    for (const file of files) rows += await loadCsv(conn, file);
    const loaded = performance.now();
    await conn.run("CHECKPOINT out");
    await conn.run("DETACH out");
    const end = performance.now();
    return {
      rows_read: rows,
      rows_loaded: rows,
      rows_rejected: 0,
      read_ms: null,
      validate_ms: null,
      read_validate_ms: loaded - start,
      write_ms: end - loaded,
      total_ms: end - start
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const isMode = (text: string | undefined): text is IngestMode => INGEST_MODES.some((m) => m === text);

const [mode, dataDir, outDir] = process.argv.slice(2);
if (!isMode(mode) || !dataDir || !outDir) {
  console.error(USAGE);
  process.exit(2);
}
const files = await csvFiles(dataDir);
const measured = mode === "fundwatch" ? await runFundwatch(dataDir, outDir) : await runNative(files, outDir);
const report: ChildReport = {
  mode,
  csv_bytes: await totalBytes(files),
  ...measured,
  process_ms: performance.now(),
  max_rss_bytes: process.resourceUsage().maxRSS * 1024
};
process.stdout.write(JSON.stringify(report) + "\n");
