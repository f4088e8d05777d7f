/**
 * Writes an ingest's results: the site's DuckDB database file (every dataset as a table, money as
 * BIGINT fen, dates as DATE, with the source file and line of each row; the rejects, warnings, file
 * summaries, division aliases and meta), and for `npm run ingest` also rejects.csv, warnings.csv and
 * summary.json. Every file is written under a temporary name and renamed into place.
 */
import {rename, rm, writeFile, mkdir} from "node:fs/promises";
import {join} from "node:path";
import {csvFormatRows} from "d3";
import {DATASETS} from "../src/schema/index.js";
import type {Column} from "../src/schema/dataset.js";
import {removeStaleTemps, tempPathFor, writeDuckDBFile, type TableSpec} from "./duckdb-file.js";
import type {FileSummary, IngestResult, Issue} from "./ingest.js";

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
  "rule"
] as const;

function issueTable(name: string, issues: readonly Issue[]): TableSpec {
  return {
    name,
    columns: ISSUE_COLUMNS.map((c) => ({name: c, type: c === "line" ? "INTEGER" : "VARCHAR"})),
    rows: issues.map((i) => [i.file, i.sheet, i.line, i.column, i.value, i.reason, i.reason_en, i.rule])
  };
}

/** The tables of the site database, in a stable order with rows in key order. */
export function toTables(result: IngestResult, meta: OutputMeta): TableSpec[] {
  const tables: TableSpec[] = [];
  for (const ds of DATASETS) {
    const columns = Object.entries(ds.columns) as [string, Column][];
    const rows = [...(result.tables.get(ds.name) ?? [])].sort((a, b) => {
      const ka = ds.key.map((k) => String(a[k])).join("|");
      const kb = ds.key.map((k) => String(b[k])).join("|");
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    tables.push({
      name: ds.name,
      columns: [
        ...columns.map(([name, col]) => ({name, type: col.duck})),
        {name: "source_file", type: "VARCHAR"},
        {name: "source_line", type: "INTEGER"}
      ],
      rows: rows.map((row) => [
        ...columns.map(([name]) => (row[name] ?? null) as string | number | bigint | boolean | null),
        row.source_file,
        row.source_line
      ])
    });
  }
  tables.push(issueTable("rejects", result.rejects), issueTable("warnings", result.warnings));
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
  tables.push({
    name: "meta",
    columns: [
      {name: "key", type: "VARCHAR"},
      {name: "value", type: "VARCHAR"}
    ],
    rows: [
      ["as_of", result.asOf],
      ["generated_at", meta.generatedAt],
      ["source", meta.source]
    ]
  });
  return tables;
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

function issuesCsv(issues: readonly Issue[]): string {
  const header = ["文件", "工作表", "行号", "列", "原值", "原因", "reason", "规则"];
  // A BOM so that Excel opens the UTF-8 file with the right encoding.
  return (
    "\uFEFF" +
    csvFormatRows([
      header,
      ...issues.map((i) => [
        i.file,
        i.sheet ?? "",
        String(i.line),
        i.column,
        i.value,
        i.reason,
        i.reason_en,
        i.rule
      ])
    ]) +
    "\n"
  );
}

/** The JSON summary `npm run ingest` prints: per file, rows read, loaded, rejected and reasons by count. */
export function summaryJson(result: IngestResult): object {
  return {
    as_of: result.asOf,
    totals: totalsOf(result.files),
    warnings: result.warnings.length,
    files: result.files
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

/** Writes fundwatch.duckdb, rejects.csv, warnings.csv and summary.json into `dir`. */
export async function writeOutputs(dir: string, result: IngestResult, meta: OutputMeta): Promise<void> {
  await mkdir(dir, {recursive: true});
  await writeDuckDBFile(join(dir, "fundwatch.duckdb"), toTables(result, meta));
  await writeAtomic(join(dir, "rejects.csv"), issuesCsv(result.rejects));
  await writeAtomic(join(dir, "warnings.csv"), issuesCsv(result.warnings));
  await writeAtomic(join(dir, "summary.json"), JSON.stringify(summaryJson(result), null, 2) + "\n");
}
