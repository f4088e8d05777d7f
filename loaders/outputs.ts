/**
 * Writes an ingest's results: the site's DuckDB database file (every dataset as a table, money as
 * BIGINT fen, dates as DATE, with the source file and line of each row; the rejects, warnings, file
 * summaries, division aliases and meta), and for `npm run ingest` also rejects.csv, warnings.csv and
 * summary.json, the four published as one set (a staging folder renamed into place). The CSV files are
 * safe to open in a spreadsheet (no cell runs as a formula); the DuckDB file keeps every value raw.
 */
import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import {chmod, mkdir, readdir, realpath, rename, rm, stat, writeFile} from "node:fs/promises";
import {pipeline} from "node:stream/promises";
import {basename, dirname, join, resolve} from "node:path";
import {csvFormatRows} from "d3";
import {DATASETS} from "../src/schema/index.js";
import type {Column} from "../src/schema/dataset.js";
import {ruleName} from "../src/schema/rule-names.js";
import {exactText, safeCell} from "../src/format/spreadsheet.js";
import {
  isAlive,
  quote,
  removeStaleTemps,
  tempPathFor,
  writeDuckDBFile,
  type SqlTableSpec,
  type TableSpec,
  type WriteOptions
} from "./duckdb-file.js";
import type {FileSummary, IngestResult, Issue} from "./ingest.js";
import type {SqlIngestResult} from "./ingest-sql.js";
import {calendarTable} from "./calendar.js";

export interface OutputMeta {
  source: string;
  /** ISO timestamp; taken from SOURCE_DATE_EPOCH when set, for reproducible outputs. */
  generatedAt: string;
}

export function generationTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch)
    ? new Date(Number(epoch) * 1000).toISOString()
    : new Date().toISOString();
}

const ISSUE_COLUMNS = [
  "file",
  "sheet",
  "line",
  "column_name",
  "value",
  "reason",
  "reason_en",
  "rule",
  "rule_name"
] as const;

/** The dataset of each input file (for the exact column header in a rule's Chinese name). */
function datasetsOf(files: readonly FileSummary[]): Map<string, string> {
  return new Map(files.map((f) => [f.file, f.dataset]));
}

/** The Chinese name of an issue's rule (src/schema/rule-names.ts), for the file's dataset. */
function issueRuleName(issue: Issue, datasets: ReadonlyMap<string, string>): string {
  return ruleName(issue.rule, datasets.get(issue.file));
}

/** The `rejects` or `warnings` table: every cell as the ingest read it (raw), and the rule's Chinese name. */
function issueTable(name: string, issues: readonly Issue[], files: readonly FileSummary[] = []): TableSpec {
  const datasets = datasetsOf(files);
  return {
    name,
    columns: ISSUE_COLUMNS.map((c) => ({name: c, type: c === "line" ? "INTEGER" : "VARCHAR"})),
    rows: issues.map((i) => [
      i.file,
      i.sheet,
      i.line,
      i.column,
      i.value,
      i.reason,
      i.reason_en,
      i.rule,
      issueRuleName(i, datasets)
    ])
  };
}

/** An ingest's result, with its loaded tables in JS ({@link ingest}) or in DuckDB ({@link ingestSql}). */
export type AnyIngestResult = IngestResult | SqlIngestResult;

/**
 * The tables of the site database, in a stable order with rows in key order (the key values as text,
 * joined by `|`). From an {@link ingestSql} result the datasets are queries on its work database, so
 * the file must be written through its connection (`writeDuckDBFile(…, {conn: result.store.conn})`).
 */
export function toTables(result: AnyIngestResult, meta: OutputMeta): (TableSpec | SqlTableSpec)[] {
  const tables: (TableSpec | SqlTableSpec)[] = [];
  for (const ds of DATASETS) {
    const columns = Object.entries(ds.columns) as [string, Column][];
    const specColumns = [
      ...columns.map(([name, col]) => ({name, type: col.duck})),
      {name: "source_file", type: "VARCHAR" as const},
      {name: "source_line", type: "INTEGER" as const}
    ];
    if ("store" in result) {
      // DuckDB orders text by code point, JS by UTF-16 unit: the same unless a key mixes characters
      // beyond U+FFFF with ones from U+E000 to U+FFFF.
      tables.push({
        name: ds.name,
        columns: specColumns,
        select: `SELECT ${specColumns.map((c) => quote(c.name)).join(", ")} FROM ${result.store.table(ds.name)} ORDER BY fw_key`
      });
      continue;
    }
    const rows = [...(result.tables.get(ds.name) ?? [])].sort((a, b) => {
      const ka = ds.key.map((k) => String(a[k])).join("|");
      const kb = ds.key.map((k) => String(b[k])).join("|");
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    tables.push({
      name: ds.name,
      columns: specColumns,
      rows: rows.map((row) => [
        ...columns.map(([name]) => (row[name] ?? null) as string | number | bigint | boolean | null),
        row.source_file,
        row.source_line
      ])
    });
  }
  tables.push(
    issueTable("rejects", result.rejects, result.files),
    issueTable("warnings", result.warnings, result.files)
  );
  tables.push(calendarTable(result.calendar));
  tables.push({
    name: "inputs",
    columns: [
      {name: "file", type: "VARCHAR"},
      {name: "dataset", type: "VARCHAR"},
      {name: "dataset_label", type: "VARCHAR"},
      {name: "format", type: "VARCHAR"},
      {name: "encoding", type: "VARCHAR"},
      {name: "sheet", type: "VARCHAR"},
      {name: "sha256", type: "VARCHAR"},
      {name: "header_line", type: "INTEGER"},
      {name: "rows_read", type: "INTEGER"},
      {name: "rows_loaded", type: "INTEGER"},
      {name: "rows_rejected", type: "INTEGER"},
      {name: "rows_skipped", type: "INTEGER"},
      {name: "duplicate_of", type: "VARCHAR"}
    ],
    rows: result.files.map((f: FileSummary) => [
      f.file,
      f.dataset,
      DATASETS.find((d) => d.name === f.dataset)?.label ?? f.dataset,
      f.format,
      f.encoding,
      f.sheet,
      f.sha256,
      f.header_line,
      f.rows_read,
      f.rows_loaded,
      f.rows_rejected,
      f.rows_skipped,
      f.duplicate_of
    ])
  });
  tables.push({
    name: "division_aliases",
    columns: [
      {name: "alias", type: "VARCHAR"},
      {name: "code", type: "VARCHAR"}
    ],
    rows: result.divisionAliases.map((a) => [a.alias, a.code])
  });
  // Files found in the input folder and not read (Excel lock files, other formats …), with the reason.
  tables.push({
    name: "skipped_inputs",
    columns: [
      {name: "file", type: "VARCHAR"},
      {name: "reason", type: "VARCHAR"},
      {name: "reason_en", type: "VARCHAR"}
    ],
    rows: result.skippedFiles.map((f) => [f.file, f.reason, f.reason_en])
  });
  tables.push({
    name: "meta",
    columns: [
      {name: "key", type: "VARCHAR"},
      {name: "value", type: "VARCHAR"}
    ],
    rows: [
      ["as_of", result.asOf],
      ["as_of_note", result.asOfNote],
      ["generated_at", meta.generatedAt],
      ["source", meta.source]
    ]
  });
  return tables;
}

/** A file's SHA-256, hex, read as a stream (a data file may be larger than memory allows twice). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** Writes `data` to `path` under a temporary name, then renames it: readers see the old file or the new one. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await removeStaleTemps(path);
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, {force: true});
    throw error;
  }
}

/** The header of rejects.csv and warnings.csv. */
export const ISSUES_CSV_HEADER = [
  "文件",
  "工作表",
  "行号",
  "列",
  "原值",
  "原值（原样）",
  "原因",
  "reason",
  "规则",
  "规则编号"
] as const;

/**
 * rejects.csv or warnings.csv: UTF-8 with a BOM (so that Excel reads it as UTF-8). Every text cell goes
 * through `safeCell` (a leading `'` before text a spreadsheet would run as a formula); 原值（原样） holds
 * the district's value exactly, as `exactText` writes it (a JSON string, invisible characters as
 * `\uXXXX`); 规则 is the rule's Chinese name and 规则编号 its id. The DuckDB file keeps every cell raw.
 */
export function issuesCsv(issues: readonly Issue[], files: readonly FileSummary[] = []): string {
  const datasets = datasetsOf(files);
  const rows = issues.map((i) => [
    ...[i.file, i.sheet ?? "", String(i.line), i.column, i.value].map(safeCell),
    exactText(i.value),
    ...[i.reason, i.reason_en, issueRuleName(i, datasets), i.rule].map(safeCell)
  ]);
  return "\uFEFF" + csvFormatRows([[...ISSUES_CSV_HEADER], ...rows]) + "\n";
}

/** The JSON summary `npm run ingest` prints: per file, rows read, loaded, rejected and reasons by count. */
export function summaryJson(result: AnyIngestResult): object {
  return {
    as_of: result.asOf,
    as_of_note: result.asOfNote,
    totals: totalsOf(result.files),
    warnings: result.warnings.length,
    files: result.files,
    skipped_files: result.skippedFiles
  };
}

/** Rows read, loaded and rejected over all files. */
export function totalsOf(files: readonly FileSummary[]): {
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
} {
  return files.reduce(
    (t, f) => ({
      rows_read: t.rows_read + f.rows_read,
      rows_loaded: t.rows_loaded + f.rows_loaded,
      rows_rejected: t.rows_rejected + f.rows_rejected
    }),
    {rows_read: 0, rows_loaded: 0, rows_rejected: 0}
  );
}

/** The files {@link writeOutputs} publishes together: the output folder holds these and nothing else. */
export const OUTPUT_FILES = ["fundwatch.duckdb", "rejects.csv", "warnings.csv", "summary.json"] as const;

/** Files an operating system or file manager may drop into a folder; harmless beside the set. */
const SYSTEM_FILES = new Set([".DS_Store", "Thumbs.db", "desktop.ini"]);

/** An output file, or what a killed writer of one left (`<file>.<pid>.tmp`, `.tmp.wal`). */
const OWN_ENTRY = new RegExp(
  `^(${OUTPUT_FILES.map((f) => f.replaceAll(".", "\\.")).join("|")})(\\.\\d+\\.tmp(\\.wal)?)?$`
);

/** The output folder cannot be replaced as a whole (it holds other files, or is not a folder). */
export class OutputDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputDirError";
  }
}

/** The output folder as an absolute path; a symbolic link is followed (the folder it names is replaced). */
async function outputFolder(dir: string): Promise<string> {
  return realpath(dir).catch(() => resolve(dir));
}

/**
 * Beside the output folder `<name>`: `.<name>.staging-<pid>`, where a run writes the new set, and
 * `.<name>.old-<pid>`, where the previous set waits while the new one is renamed into place.
 */
function besidePath(folder: string, kind: "staging" | "old", pid = process.pid): string {
  return join(dirname(folder), `.${basename(folder)}.${kind}-${pid}`);
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false
  );

/**
 * Checks that `dir` can hold the outputs: it does not exist yet, or it is a folder holding only a previous
 * set (and what a killed run left of one). Writing replaces the folder as a whole, so a folder with other
 * files is refused rather than emptied.
 */
export async function checkOutputDir(dir: string): Promise<void> {
  const folder = await outputFolder(dir);
  const info = await stat(folder).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new OutputDirError(`输出目录 ${dir} 已存在，但不是目录`);
  const foreign = (await readdir(folder)).filter((e) => !OWN_ENTRY.test(e) && !SYSTEM_FILES.has(e)).sort();
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join("、") + (foreign.length > 5 ? ` 等 ${foreign.length} 项` : "");
    throw new OutputDirError(
      `输出目录 ${dir} 中有检查结果以外的文件或目录（${shown}）。检查结果整体替换输出目录，为免误删，请指定一个新的目录，或只存放检查结果的目录`
    );
  }
}

/**
 * Clears what killed runs left around `folder` (runs whose process is gone): staging folders are removed;
 * a previous set a run had moved aside is put back if the folder is missing (the run was killed between
 * its two renames), else removed; `<file>.<pid>.tmp` and `.wal` files inside the folder are removed.
 * Returns the names removed or restored.
 */
export async function removeStaleOutputs(folder: string): Promise<string[]> {
  const prefix = `.${basename(folder)}.`;
  const done: string[] = [];
  for (const entry of (await readdir(dirname(folder)).catch(() => [] as string[])).sort()) {
    const match = entry.startsWith(prefix) ? /^(staging|old)-(\d+)$/.exec(entry.slice(prefix.length)) : null;
    if (!match || (Number(match[2]) !== process.pid && isAlive(Number(match[2])))) continue;
    const path = join(dirname(folder), entry);
    if (match[1] === "old" && !(await exists(folder))) await rename(path, folder);
    else await rm(path, {recursive: true, force: true});
    done.push(entry);
  }
  for (const file of OUTPUT_FILES) done.push(...(await removeStaleTemps(join(folder, file))));
  return done;
}

/**
 * Puts the complete set in `staging` in place of `folder`: the folder is renamed aside, the staging folder
 * renamed to its name, and the previous set removed. Both renames are within one parent folder, so each
 * is atomic; a kill between the two leaves the previous set aside, which the next run puts back.
 */
async function publishFolder(staging: string, folder: string): Promise<void> {
  const old = besidePath(folder, "old");
  const hadPrevious = await rename(folder, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    }
  );
  try {
    await rename(staging, folder);
  } catch (error) {
    if (hadPrevious) await rename(old, folder);
    throw error;
  }
  if (hadPrevious) await rm(old, {recursive: true, force: true});
}

/**
 * Writes fundwatch.duckdb, rejects.csv, warnings.csv and summary.json as one set: all four into a staging
 * folder beside `dir` (`.<name>.staging-<pid>`), which then replaces `dir` by rename. A reader of `dir`
 * (or a kill at any moment) sees the previous complete set or the new one, never a mix; what killed runs
 * left is cleared first ({@link removeStaleOutputs}). `dir` must be new or hold only a previous set
 * ({@link checkOutputDir}). `options` go to the DuckDB writer (e.g. tables computed over the data).
 */
export async function writeOutputs(
  dir: string,
  result: AnyIngestResult,
  meta: OutputMeta,
  options: WriteOptions & {
    /** More keys for summary.json, asked for once the database is written (e.g. the gates' verdict). */
    summaryExtra?: () => Record<string, unknown>;
  } = {}
): Promise<void> {
  const folder = await outputFolder(dir);
  await mkdir(dirname(folder), {recursive: true});
  await removeStaleOutputs(folder);
  await checkOutputDir(folder);
  const staging = besidePath(folder, "staging");
  await mkdir(staging);
  try {
    const mode = (await stat(folder).catch(() => undefined))?.mode;
    if (mode !== undefined) await chmod(staging, mode & 0o7777);
    await writeDuckDBFile(join(staging, "fundwatch.duckdb"), toTables(result, meta), {
      ...options,
      ...("store" in result ? {conn: result.store.conn} : {})
    });
    await writeFile(join(staging, "rejects.csv"), issuesCsv(result.rejects, result.files));
    await writeFile(join(staging, "warnings.csv"), issuesCsv(result.warnings, result.files));
    const summary = {...summaryJson(result), ...options.summaryExtra?.()};
    await writeFile(join(staging, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    await publishFolder(staging, folder);
  } catch (error) {
    await rm(staging, {recursive: true, force: true});
    throw error;
  }
}
