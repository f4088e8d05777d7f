/**
 * The ingest, with its rows in DuckDB (issue 21): no large file's rows are held in JS. A CSV file of
 * 4 MB or more ({@link SQL_FROM_BYTES}) is staged into DuckDB (./sources/csv-stage.ts) and checked by SQL
 * (./sql-rows.ts); a smaller one, or an XLSX file, is read and checked in JS (`parseFile`, the reference the
 * SQL is tested against) and its checked rows appended. The cross-record rules (duplicates,
 * references, dates against campaigns and today, the warnings on recoveries and clean inspections, the
 * as-of date, the calendar years) are joins over every file's checked rows. What stays in JS is small:
 * the first records of each file (header and dataset), the divisions table (its parent chain depends on
 * row order), the rejected and warned rows, and whatever the SQL leaves to the JS reference (texts
 * outside its NFKC table, 合计 rows).
 *
 * The loaded tables stay in the work database ({@link IngestStore}); `toTables`/`writeOutputs`
 * (./outputs.ts) copy them into the site's file by SQL.
 */
import {mkdtemp, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {extname, join} from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import {DATASETS} from "../src/schema/index.js";
import {RECOVERY_ACTIONS} from "../src/schema/actions.js";
import type {Column, Dataset} from "../src/schema/dataset.js";
import type {Cell} from "../src/parse/values.js";
import {calendarForData} from "./calendar.js";
import {appendCell, literal, quote, textOfBytes, type CellValue} from "./duckdb-file.js";
import {
  DATED,
  IngestError,
  addDivisionAliases,
  asOfOfLatest,
  countReasons,
  datasetFromFileName,
  emptySummary,
  errorText,
  fileProblem,
  mapHeaders,
  mappingProblem,
  parseFile,
  planIngest,
  readDetecting,
  sortIssues,
  splitSheet,
  VERSION_OVERLAP,
  versionProblem,
  type FileSummary,
  type IngestOptions,
  type IngestResult,
  type Issue,
  type LoadedRow,
  type Mapping,
  type VersionFile
} from "./ingest.js";
import {installValueMacros} from "./sql-cells.js";
import {ROW_MACROS, parseStagedFile} from "./sql-rows.js";
import {stageCsv, type StagedCsv} from "./sources/csv-stage.js";
import {readCsv} from "./sources/csv.js";
import {readXlsx, type RawTable} from "./sources/xlsx.js";

/** The work database of an ingest: the loaded rows of each dataset, in load order. */
export interface IngestStore {
  conn: DuckDBConnection;
  /**
   * The table of a dataset's loaded rows: its fields (typed as the site's table: money BIGINT fen, dates
   * DATE), `source_file`, `source_line`, `fw_key` (the key as the site's table is ordered by) and
   * `fw_seq` (the load order).
   */
  table(dataset: string): string;
  /**
   * Drops the loaded tables and every other table of the work database, once they are copied where they
   * go: what runs next on this connection (the cube, in the loader) then has DuckDB's memory limit to
   * itself. {@link table} names nothing after it.
   */
  release(): Promise<void>;
  /** Closes the work database and removes its spill folder. */
  close(): Promise<void>;
}

/** An ingest's result with the loaded tables in DuckDB instead of `tables`. */
export type SqlIngestResult = Omit<IngestResult, "tables"> & {store: IngestStore};

/**
 * CSV files smaller than this are read and checked in JS (the reference the SQL is tested against),
 * larger ones in DuckDB: on a small file the SQL's fixed cost (planning some twenty statements) is
 * more than the JS takes, and its rows are few. XLSX files are checked in JS whatever their size.
 */
export const SQL_FROM_BYTES = 4 * 1024 * 1024;

/** FUNDWATCH_SQL_FROM_BYTES: {@link SQL_FROM_BYTES} for a run (0: every CSV file in DuckDB, as a test may want). */
function envBytes(): number | undefined {
  const text = process.env.FUNDWATCH_SQL_FROM_BYTES;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

export interface SqlIngestOptions extends IngestOptions {
  /** CSV files of at least this many bytes are checked in DuckDB, smaller ones in JS (default {@link SQL_FROM_BYTES}). */
  sqlFromBytes?: number;
  /** DuckDB's memory limit for the work database (default 600MB): beyond it, DuckDB spills to a temporary folder. */
  memoryLimit?: string;
}

/** A file read: staged (CSV, in DuckDB) or read whole in JS (XLSX, small CSV). */
type ReadFile =
  | {kind: "staged"; file: string; staged: StagedCsv; table: string; dataset: Dataset; mapping: Mapping}
  | {kind: "js"; file: string; table: RawTable & {encoding?: string}; dataset: Dataset; mapping: Mapping};

const outTable = (ds: string): string => `fw_out_${ds}`;
const candTable = (ds: string): string => `fw_cand_${ds}`;
/** A row's place in load order: its file's ordinal (high 32 bits) and its line. */
const seqOf = (alias: string): string => `(CAST(${alias}.fw_file AS BIGINT) * 4294967296 + ${alias}.line)`;
/** The order of datasets: divisions first (the alias table), then what refers to what is loaded before it. */
const DATASET_ORDER = new Map(DATASETS.map((ds, i) => [ds.name, i]));

/** The key of a row as the ingest compares keys: `String(value)` of each key field, joined by `|`. */
function keySql(ds: Dataset, alias: string): string {
  return ds.key.map((k) => `coalesce(CAST(${alias}.${quote(k)} AS VARCHAR), 'null')`).join(" || '|' || ");
}

/** `String(value)` of a parsed value in SQL (JS `String(null)` is `null`). */
const str = (x: string): string => `coalesce(CAST(${x} AS VARCHAR), 'null')`;

/** The candidate table of a dataset: every row that passed its file's checks, with each field's raw text. */
function candidateColumns(ds: Dataset): string {
  const fields = Object.entries(ds.columns) as [string, Column][];
  return [
    "fw_file INTEGER",
    "line INTEGER",
    ...fields.map(([f, c]) => `${quote(f)} ${c.duck}`),
    ...fields.map(([f]) => `${quote(`${f}__raw`)} VARCHAR`)
  ].join(", ");
}

export async function ingestSql(
  paths: readonly string[],
  options: SqlIngestOptions = {}
): Promise<SqlIngestResult> {
  const readStart = performance.now();
  const {files, today, display, skippedFiles, limits} = await planIngest(paths, options);
  const spill = await mkdtemp(join(tmpdir(), "fundwatch-ingest-"));
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  const store: IngestStore = {
    conn,
    table: outTable,
    async release() {
      const tables = (
        await conn.runAndReadAll(
          "SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE database_name IN ('memory', 'temp')"
        )
      ).getRowObjectsJS() as {database_name: string; schema_name: string; table_name: string}[];
      for (const t of tables)
        await conn.run(`DROP TABLE ${[t.database_name, t.schema_name, t.table_name].map(quote).join(".")}`);
    },
    async close() {
      conn.closeSync();
      instance.closeSync();
      await rm(spill, {recursive: true, force: true});
    }
  };
  try {
    await conn.run(`SET memory_limit = ${literal(options.memoryLimit ?? "600MB")}`);
    await conn.run(`SET temp_directory = ${literal(spill)}`);
    await installValueMacros(conn);
    await conn.run(ROW_MACROS);
    const result = await run(conn, {files, today, display, skippedFiles, limits, options, readStart});
    return {...result, store};
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function run(
  conn: DuckDBConnection,
  plan: Awaited<ReturnType<typeof planIngest>> & {options: SqlIngestOptions; readStart: number}
): Promise<Omit<SqlIngestResult, "store">> {
  const {files, today, display, skippedFiles, limits, options, readStart} = plan;
  const sqlFromBytes = options.sqlFromBytes ?? envBytes() ?? SQL_FROM_BYTES;
  const problems: string[] = [];
  const seenHashes = new Map<string, string>();

  // 1. Read every file and map its headers: CSV staged into DuckDB, XLSX read in JS.
  const read: ReadFile[] = [];
  const summaries: FileSummary[] = [];
  for (const [n, entry] of files.entries()) {
    const [path, sheet] = splitSheet(entry);
    const file = display(path) + (sheet === undefined ? "" : `#${sheet}`);
    const stage = `fw_stage_${n}`;
    try {
      const named =
        datasetFromFileName(sheet === undefined ? path : `${sheet}.xlsx`) ?? datasetFromFileName(path);
      const candidates = named ? [named] : DATASETS;
      const xlsx = extname(path).toLowerCase() === ".xlsx";
      const inJs = xlsx || (await stat(path)).size < sqlFromBytes;
      const {table, dataset: ds} = xlsx
        ? await readDetecting(path, candidates, (isHeaderRow) =>
            readXlsx(path, {isHeaderRow, ...(sheet ? {sheet} : {})})
          )
        : inJs
          ? await readDetecting(path, candidates, (isHeaderRow) => readCsv(path, {isHeaderRow}))
          : await readDetecting(path, candidates, (isHeaderRow) =>
              stageCsv(conn, path, stage, {isHeaderRow})
            );
      const mapping = mapHeaders(ds, table.headers, table.groups);
      const unmapped = mappingProblem(file, ds, table, mapping);
      const contentKey = sheet === undefined ? table.sha256 : `${table.sha256}#${sheet}`;
      const duplicateOf = seenHashes.get(contentKey);
      if (unmapped !== undefined || duplicateOf) {
        await conn.run(`DROP TABLE IF EXISTS ${stage}`);
        if (unmapped !== undefined) problems.push(unmapped);
        else summaries.push({...emptySummary(file, ds, table), duplicate_of: duplicateOf ?? null});
        continue;
      }
      seenHashes.set(contentKey, file);
      read.push(
        inJs
          ? {kind: "js", file, table: table as RawTable, dataset: ds, mapping}
          : {kind: "staged", file, staged: table as StagedCsv, table: stage, dataset: ds, mapping}
      );
    } catch (error) {
      await conn.run(`DROP TABLE IF EXISTS ${stage}`);
      problems.push(fileProblem(file, path, error));
    }
  }

  const validateStart = performance.now();
  // 2. Each file's own checks, divisions first (they make the alias table names resolve through).
  read.sort(
    (a, b) =>
      (DATASET_ORDER.get(a.dataset.name) ?? 0) - (DATASET_ORDER.get(b.dataset.name) ?? 0) ||
      (a.file < b.file ? -1 : 1)
  );
  for (const ds of DATASETS) await conn.run(`CREATE TABLE ${candTable(ds.name)} (${candidateColumns(ds)})`);
  await conn.run("CREATE TABLE fw_files (fw_file INTEGER, file VARCHAR, sheet VARCHAR, dataset VARCHAR)");
  const aliasTable = new Map<string, string>();
  const checked: {
    file: string;
    dataset: Dataset;
    summary: FileSummary;
    rejects: Issue[];
    warnings: Issue[];
  }[] = [];
  for (const entry of read) {
    const fileNo = checked.length;
    const ds = entry.dataset;
    try {
      const summary = await checkFile(conn, entry, fileNo, aliasTable, problems, limits);
      checked.push({file: entry.file, dataset: ds, ...summary});
      await conn.run(
        `INSERT INTO fw_files VALUES (${fileNo}, ${literal(entry.file)}, ${summary.summary.sheet === null ? "NULL" : literal(summary.summary.sheet)}, ${literal(ds.name)})`
      );
    } catch (error) {
      problems.push(
        fileProblem(entry.file, entry.kind === "js" ? entry.table.file : entry.staged.file, error)
      );
    } finally {
      if (entry.kind === "staged") await conn.run(`DROP TABLE IF EXISTS ${entry.table}`);
    }
  }
  problems.push(...(await versionConflicts(conn, checked)));
  const partial = (): {files: FileSummary[]; skippedFiles: typeof skippedFiles} => ({
    files: [...summaries, ...checked.map((p) => p.summary)].sort((a, b) => (a.file < b.file ? -1 : 1)),
    skippedFiles
  });
  if (problems.length > 0) throw new IngestError(problems, partial());

  // 3. Cross-record rules, in dependency order; then the as-of date, and the rows dated after it.
  let cross: Issue[][];
  try {
    cross = await crossCheck(conn, checked, today);
  } catch (error) {
    throw new IngestError(
      [`核对记录之间的关系时出现意外错误（请报告给维护者）：${errorText(error)}`],
      partial()
    );
  }
  const asOf = asOfOfLatest(await latestByDivision(conn), options.asOfCutoff);
  const afterAsOf = await warnAfterAsOf(conn, checked.length, asOf);
  // 4. The working-day calendar: the rows that first need each year are enough to name them.
  const calendar = await calendarForData(await rowsNeedingYears(conn), options.calendar);
  if (!calendar.calendar) throw new IngestError(calendar.problems);

  const loadedCounts = await countLoaded(conn);
  const rejects: Issue[] = [];
  const warnings: Issue[] = [];
  checked.forEach((p, fileNo) => {
    const [crossRejects = [], crossWarnings = []] = [cross[2 * fileNo], cross[2 * fileNo + 1]];
    rejects.push(...p.rejects, ...crossRejects);
    warnings.push(...p.warnings, ...crossWarnings, ...(afterAsOf.get(fileNo) ?? []));
    p.summary.rows_loaded = loadedCounts.get(fileNo) ?? 0;
    p.summary.rows_rejected = p.summary.rows_read - p.summary.rows_loaded;
    p.summary.reasons = countReasons([...p.rejects, ...crossRejects]);
    summaries.push(p.summary);
  });
  summaries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const divisionAliases = [...aliasTable.entries()]
    .map(([alias, code]) => ({alias, code}))
    .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  return {
    rejects: sortIssues(rejects),
    warnings: sortIssues(warnings),
    files: summaries,
    divisionAliases,
    asOf: asOf.date,
    asOfNote: asOf.note,
    skippedFiles,
    calendar: calendar.calendar,
    timings: {read_ms: validateStart - readStart, validate_ms: performance.now() - validateStart}
  };
}

/** Issues read from a DuckDB table (`line, column, value, reason, reason_en, rule`, values as bytes). */
async function readIssues(
  conn: DuckDBConnection,
  sql: string,
  file: string,
  sheet: string | null
): Promise<Issue[]> {
  const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS() as {
    line: number;
    column: Uint8Array;
    value: Uint8Array;
    reason: Uint8Array;
    reason_en: Uint8Array;
    rule: string;
  }[];
  return rows.map((r) => ({
    file,
    sheet,
    line: Number(r.line),
    column: textOfBytes(r.column),
    value: textOfBytes(r.value),
    reason: textOfBytes(r.reason),
    reason_en: textOfBytes(r.reason_en),
    rule: r.rule
  }));
}

const ISSUE_BYTES =
  'line, encode("column") AS "column", encode(value) AS value, encode(reason) AS reason, encode(reason_en) AS reason_en, rule';

/** One file's own checks; its checked rows go to the dataset's candidate table. */
async function checkFile(
  conn: DuckDBConnection,
  entry: ReadFile,
  fileNo: number,
  aliasTable: Map<string, string>,
  problems: string[],
  limits: Parameters<typeof parseFile>[3]
): Promise<{summary: FileSummary; rejects: Issue[]; warnings: Issue[]}> {
  const ds = entry.dataset;
  const fields = Object.entries(ds.columns) as [string, Column][];
  if (entry.kind === "js") {
    const parsed = parseFile(entry, aliasTable, problems, limits);
    const appender = await conn.createAppender(candTable(ds.name));
    for (const {line, row, cells} of parsed.rows) {
      appender.appendInteger(fileNo);
      appender.appendInteger(line);
      for (const [field, col] of fields) appendCell(appender, col.duck, (row[field] ?? null) as CellValue);
      for (const [field] of fields) appender.appendVarchar(parsed.rawOf(cells, field));
      appender.endRow();
    }
    appender.closeSync();
    if (ds.name === "divisions") for (const {row} of parsed.rows) addDivisionAliases(aliasTable, row);
    return {summary: parsed.summary, rejects: parsed.rejects, warnings: parsed.warnings};
  }
  const {staged, mapping, file} = entry;
  const outcome = await parseStagedFile(conn, {
    file,
    staged,
    table: entry.table,
    dataset: ds,
    mapping,
    aliases: aliasTable,
    limits
  });
  problems.push(...outcome.problems);
  const summary: FileSummary = {
    ...emptySummary(file, ds, staged),
    ignored_columns: mapping.ignored,
    rows_read: outcome.rowsRead,
    rows_skipped: outcome.rowsSkipped
  };
  const sheet = summary.sheet;
  const rejects = await readIssues(
    conn,
    `SELECT ${ISSUE_BYTES} FROM fw_rejects ORDER BY line, ord`,
    file,
    sheet
  );
  const warnings = await readIssues(
    conn,
    `SELECT ${ISSUE_BYTES} FROM fw_warnings ORDER BY line, ord`,
    file,
    sheet
  );
  await conn.run(`INSERT INTO ${candTable(ds.name)}
    SELECT ${fileNo}, l.line, ${fields.map(([f, c]) => `CAST(l.${quote(f)} AS ${c.duck})`).join(", ")},
      ${fields.map(([f]) => `coalesce(c.${quote(`${f}__raw`)}, '')`).join(", ")}
    FROM fw_loaded AS l JOIN fw_cells AS c USING (line) ORDER BY l.line`);
  if (ds.name === "divisions") {
    const rows = (
      await conn.runAndReadAll(`SELECT code, name, aliases, insurance_code FROM fw_loaded ORDER BY line`)
    ).getRowObjectsJS();
    for (const row of rows) addDivisionAliases(aliasTable, row);
  }
  return {summary, rejects, warnings};
}

/** A dataset's candidate or loaded rows as the JS ingest holds them (dates as ISO text). */
function jsColumns(ds: Dataset, alias = ""): string {
  return (Object.entries(ds.columns) as [string, Column][])
    .map(([f, c]) =>
      c.duck === "DATE" ? `strftime(${alias}${quote(f)}, '%Y-%m-%d') AS ${quote(f)}` : `${alias}${quote(f)}`
    )
    .join(", ");
}

/**
 * Two files of the same dataset that share at least half of the smaller one's keys: two versions of one
 * submission (a resent file with corrections, a copy saved again). Loading both would keep the first
 * file's rows and reject the second's as duplicates — which version is right is for the office to say,
 * so the ingest stops, naming both files, how many keys they share, how many of those rows differ and
 * the first difference. Keys are compared as their values' text; byte-identical copies are not seen here: they are read once (`duplicate_of`).
 */
async function versionConflicts(
  conn: DuckDBConnection,
  checked: readonly {dataset: Dataset; summary: FileSummary}[]
): Promise<string[]> {
  const problems: string[] = [];
  for (const ds of DATASETS) {
    if (checked.filter((c) => c.dataset.name === ds.name).length < 2) continue;
    const vkey = ds.key.map((k) => `coalesce(CAST(${quote(k)} AS VARCHAR), '')`).join(" || '|' || ");
    const pairs = (
      await conn.runAndReadAll(`WITH k AS (SELECT DISTINCT fw_file, ${vkey} AS key FROM ${candTable(ds.name)}),
        f AS (SELECT key, min(fw_file) AS first FROM k GROUP BY key),
        sizes AS (SELECT fw_file, count(*) AS n FROM k GROUP BY fw_file),
        pairs AS (SELECT f.first AS a, k.fw_file AS b, count(*) AS shared FROM k JOIN f USING (key)
                  WHERE k.fw_file <> f.first GROUP BY ALL)
        SELECT a, b, least(sa.n, sb.n) AS smaller FROM pairs
          JOIN sizes AS sa ON sa.fw_file = a JOIN sizes AS sb ON sb.fw_file = b
        WHERE shared >= least(sa.n, sb.n) * ${VERSION_OVERLAP} ORDER BY a, b`)
    ).getRowObjectsJS() as {a: number; b: number; smaller: bigint}[];
    for (const {a, b, smaller} of pairs) {
      const [fa, fb] = [checked[a], checked[b]];
      if (!fa || !fb) continue;
      problems.push(
        versionProblem(
          ds,
          await versionFile(conn, ds, a, fa.summary.file),
          await versionFile(conn, ds, b, fb.summary.file),
          Number(smaller)
        )
      );
    }
  }
  return problems;
}

/** One file's checked rows in JS (only for the rare problem of two versions of one submission). */
async function versionFile(
  conn: DuckDBConnection,
  ds: Dataset,
  fileNo: number,
  file: string
): Promise<VersionFile> {
  const fields = Object.keys(ds.columns);
  const rows = (
    await conn.runAndReadAll(
      `SELECT line, ${jsColumns(ds)}, [${fields.map((f) => `encode(${quote(`${f}__raw`)})`).join(", ")}] AS fw_raw
       FROM ${candTable(ds.name)} WHERE fw_file = ${fileNo} ORDER BY line`
    )
  ).getRowObjectsJS();
  return {
    summary: {file},
    rows: rows.map(({line, fw_raw, ...row}) => ({
      line: Number(line),
      row,
      cells: (fw_raw as Uint8Array[]).map(textOfBytes) as Cell[]
    })),
    rawOf: (cells, field) => String(cells[fields.indexOf(field)] ?? "")
  };
}

/** A reference or date problem of a row, as SQL: NULL or `{column, value, reason, reason_en, rule}`. */
function problem(field: string, column: string, reason: string, reasonEn: string, rule: string): string {
  return `{'column': ${literal(column)}, 'value': c.${quote(`${field}__raw`)}, 'reason': ${reason}, 'reason_en': ${literal(reasonEn)}, 'rule': ${literal(rule)}}`;
}

/** The first reference or date rule a row of `ds` breaks, given the datasets loaded before (`referenceProblem`). */
function referenceSql(ds: string, today: string): {joins: string; problem: string} {
  const has = (table: string, value: string) =>
    `EXISTS (SELECT 1 FROM ${outTable(table)} AS o WHERE o.fw_key = ${str(value)})`;
  const future = (field: string, column: string) =>
    `WHEN c.${quote(field)} IS NOT NULL AND CAST(c.${quote(field)} AS VARCHAR) > ${literal(today)} THEN ${problem(
      field,
      column,
      `'日期在未来：' || CAST(c.${quote(field)} AS VARCHAR) || ${literal(`（今天是 ${today}）`)}`,
      "date in the future",
      "future-date"
    )}`;
  // A reference to a row of `table` that was not loaded (`optional`: checked only when given).
  const unknown = (
    field: string,
    column: string,
    table: string,
    reason: string,
    reasonEn: string,
    rule: string,
    optional = false
  ) =>
    `WHEN ${optional ? `c.${quote(field)} IS NOT NULL AND ` : ""}NOT ${has(table, `c.${quote(field)}`)} THEN ${problem(field, column, `${literal(reason)} || ${str(`c.${quote(field)}`)}`, reasonEn, rule)}`;
  const none =
    'CAST(NULL AS STRUCT("column" VARCHAR, value VARCHAR, reason VARCHAR, reason_en VARCHAR, rule VARCHAR))';
  const cases = (...whens: string[]) => `CASE ${whens.join(" ")} ELSE ${none} END`;
  switch (ds) {
    case "inspections":
      return {
        joins: `LEFT JOIN ${outTable("campaigns")} AS cp ON c.campaign_id IS NOT NULL AND cp.fw_key = CAST(c.campaign_id AS VARCHAR)`,
        problem: cases(
          unknown(
            "institution_code",
            "机构编码",
            "institutions",
            "机构表中没有此机构：",
            "unknown institution",
            "unknown-institution"
          ),
          `WHEN c.campaign_id IS NOT NULL AND cp.fw_key IS NULL THEN ${problem("campaign_id", "行动编号", `'没有此专项行动：' || ${str("c.campaign_id")}`, "unknown campaign", "unknown-campaign")}`,
          `WHEN c.campaign_id IS NOT NULL AND (${str("c.date")} < ${str("cp.start_date")} OR ${str("c.date")} > ${str("cp.end_date")}) THEN ${problem(
            "date",
            "检查日期",
            `'检查日期 ' || ${str("c.date")} || ' 不在专项行动期间（' || ${str("cp.start_date")} || ' 至 ' || ${str("cp.end_date")} || '）'`,
            "date outside the campaign",
            "date-outside-campaign"
          )}`,
          future("date", "检查日期")
        )
      };
    case "findings":
      return {
        joins: "",
        problem: cases(
          unknown(
            "inspection_id",
            "检查编号",
            "inspections",
            "检查记录中没有此检查（或该检查已被拒收）：",
            "unknown or rejected inspection",
            "unknown-inspection"
          )
        )
      };
    case "dispositions":
      return {
        joins: "",
        problem: cases(
          unknown(
            "finding_id",
            "问题编号",
            "findings",
            "没有此问题（或该问题已被拒收）：",
            "unknown or rejected finding",
            "unknown-finding",
            true
          ),
          unknown(
            "inspection_id",
            "检查编号",
            "inspections",
            "没有此检查（或该检查已被拒收）：",
            "unknown or rejected inspection",
            "unknown-inspection",
            true
          ),
          future("decided_on", "处理日期"),
          future("reported_on", "上报日期")
        )
      };
    case "figures":
      return {
        joins: "",
        problem: cases(
          unknown(
            "unit_code",
            "unit_code",
            "divisions",
            "区划表中没有此单位：",
            "unknown division",
            "unknown-division"
          )
        )
      };
    case "weekly_reports":
      return {
        joins: "",
        problem: cases(
          unknown(
            "division_code",
            "区划",
            "divisions",
            "区划表中没有此区划：",
            "unknown division",
            "unknown-division"
          ),
          unknown(
            "campaign_id",
            "行动编号",
            "campaigns",
            "没有此专项行动：",
            "unknown campaign",
            "unknown-campaign",
            true
          ),
          future("week_ending", "统计截止日期")
        )
      };
    case "institutions":
      return {
        joins: "",
        problem: cases(
          unknown(
            "division_code",
            "所属区划",
            "divisions",
            "区划表中没有此区划：",
            "unknown division",
            "unknown-division"
          )
        )
      };
    default:
      return {joins: "", problem: none};
  }
}

/**
 * The cross-record rules over every file's checked rows, in `DATASETS` order (`crossCheck` of ./ingest.ts):
 * a row is a duplicate when an earlier row with its key was loaded; else rejected by its first reference
 * or date problem; else loaded. Fills the loaded tables; returns per file (index 2n: rejects, 2n + 1:
 * warnings) the issues, in the order the JS ingest adds them.
 */
async function crossCheck(
  conn: DuckDBConnection,
  checked: readonly {dataset: Dataset; summary: FileSummary}[],
  today: string
): Promise<Issue[][]> {
  await conn.run(
    'CREATE TABLE fw_cross (fw_file INTEGER, kind INTEGER, phase INTEGER, seq BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, reason_en VARCHAR, rule VARCHAR)'
  );
  for (const ds of DATASETS) {
    const fields = Object.keys(ds.columns);
    const out = outTable(ds.name);
    const keyColumn = literal(ds.columns[ds.key[0] ?? ""]?.header ?? "");
    const keyNames = ds.key.map((k) => ds.columns[k]?.header).join("+");
    await conn.run(`CREATE TABLE ${out} AS SELECT ${fields.map(quote).join(", ")},
      CAST(NULL AS VARCHAR) AS source_file, CAST(NULL AS INTEGER) AS source_line, CAST(NULL AS VARCHAR) AS fw_key,
      CAST(NULL AS BIGINT) AS fw_seq FROM ${candTable(ds.name)} LIMIT 0`);
    if (ds.name === "divisions") {
      await crossCheckDivisions(conn, ds);
      continue;
    }
    const {joins, problem: ref} = referenceSql(ds.name, today);
    await conn.run(`CREATE OR REPLACE TEMP TABLE fw_x AS
      SELECT *, min(CASE WHEN fw_ref IS NULL THEN fw_seq END) OVER (PARTITION BY fw_key) AS fw_first FROM (
        SELECT c.*, ${seqOf("c")} AS fw_seq, ${keySql(ds, "c")} AS fw_key, ${ref} AS fw_ref
        FROM ${candTable(ds.name)} AS c ${joins})`);
    const firstAt = `f.file || ' 第 ' || CAST(x.fw_first % 4294967296 AS VARCHAR) || ' 行'`;
    await conn.run(`INSERT INTO fw_cross
      SELECT x.fw_file, 0, 0, x.fw_seq, ${keyColumn}, x.fw_key,
        ${literal(`重复的${keyNames}：与 `)} || ${firstAt} || ' 重复', 'duplicate key, first seen at ' || ${firstAt}, 'duplicate-key'
      FROM fw_x AS x JOIN fw_files AS f ON f.fw_file = x.fw_first // 4294967296
      WHERE x.fw_first < x.fw_seq
      UNION ALL
      SELECT fw_file, 0, 0, fw_seq, fw_ref."column", fw_ref.value, fw_ref.reason, fw_ref.reason_en, fw_ref.rule
      FROM fw_x WHERE fw_ref IS NOT NULL AND (fw_first IS NULL OR fw_first > fw_seq)`);
    await conn.run(`INSERT INTO ${out}
      SELECT ${fields.map((f) => `x.${quote(f)}`).join(", ")}, f.file, x.line, x.fw_key, x.fw_seq
      FROM fw_x AS x JOIN fw_files AS f USING (fw_file) WHERE x.fw_ref IS NULL AND x.fw_first = x.fw_seq ORDER BY x.fw_seq`);
    await conn.run("DROP TABLE fw_x");
  }

  // Warnings that keep the row: recovered more than involved (once per file and finding, at its first
  // row); findings on an inspection marked "no problem". Both look at every checked row, loaded or not.
  const actions = RECOVERY_ACTIONS.map(literal).join(", ");
  await conn.run(`INSERT INTO fw_cross
    WITH rec AS (
      SELECT finding_id, sum(amount) AS s FROM ${outTable("dispositions")}
      WHERE finding_id IS NOT NULL AND finding_id <> '' AND action IN (${actions}) AND amount IS NOT NULL GROUP BY finding_id),
    hit AS (
      SELECT d.fw_file, ${seqOf("d")} AS seq, d.finding_id, d.amount, r.s, f.amount_involved,
        row_number() OVER (PARTITION BY d.fw_file, d.finding_id ORDER BY d.line) AS k
      FROM ${candTable("dispositions")} AS d
        JOIN rec AS r ON r.finding_id = d.finding_id
        JOIN ${outTable("findings")} AS f ON f.fw_key = d.finding_id
      WHERE d.finding_id <> '' AND f.amount_involved IS NOT NULL AND r.s > f.amount_involved)
    SELECT fw_file, 1, 1, seq, '处理金额', ${str("amount")},
      '问题 ' || finding_id || ' 的追回、拒付、扣回合计 ' || fw_money_yuan(s) || '大于涉及金额 ' || fw_money_yuan(amount_involved),
      'recovered more than involved', 'recovered-exceeds-involved'
    FROM hit WHERE k = 1`);
  await conn.run(`INSERT INTO fw_cross
    SELECT c.fw_file, 1, 2, ${seqOf("c")}, '检查编号', ${str("c.inspection_id")},
      '所属检查记录标为未发现问题', 'inspection marked as no problem found', 'finding-on-clean-inspection'
    FROM ${candTable("findings")} AS c JOIN ${outTable("inspections")} AS i ON i.fw_key = ${str("c.inspection_id")}
    WHERE i.problem_found = false`);

  const rows = (
    await conn.runAndReadAll(
      `SELECT fw_file, kind, seq % 4294967296 AS line, ${ISSUE_BYTES.replace("line, ", "")}
       FROM fw_cross ORDER BY fw_file, kind, phase, seq`
    )
  ).getRowObjectsJS();
  const byFile: Issue[][] = checked.flatMap(() => [[], []]);
  for (const r of rows) {
    const f = checked[Number(r.fw_file)];
    if (!f) continue;
    byFile[2 * Number(r.fw_file) + Number(r.kind)]?.push({
      file: f.summary.file,
      sheet: f.summary.sheet,
      line: Number(r.line),
      column: textOfBytes(r.column as Uint8Array),
      value: textOfBytes(r.value as Uint8Array),
      reason: textOfBytes(r.reason as Uint8Array),
      reason_en: textOfBytes(r.reason_en as Uint8Array),
      rule: String(r.rule)
    });
  }
  return byFile;
}

/**
 * The divisions in JS: a parent must be a division loaded before its child, so the rule depends on row
 * order; the table has a row per division (hundreds), whatever the size of the data.
 */
async function crossCheckDivisions(conn: DuckDBConnection, ds: Dataset): Promise<void> {
  const rows = (
    await conn.runAndReadAll(
      `SELECT c.fw_file, c.line, ${seqOf("c")} AS fw_seq, ${keySql(ds, "c")} AS fw_key,
         c.parent_code, encode(c.parent_code__raw) AS parent_raw, f.file
       FROM ${candTable(ds.name)} AS c JOIN fw_files AS f USING (fw_file) ORDER BY fw_seq`
    )
  ).getRowObjectsJS() as {
    fw_file: number;
    line: number;
    fw_seq: bigint;
    fw_key: string;
    parent_code: string | null;
    parent_raw: Uint8Array;
    file: string;
  }[];
  const seen = new Map<string, string>();
  await conn.run("CREATE OR REPLACE TEMP TABLE fw_div_loaded (fw_seq BIGINT)");
  const loaded = await conn.createAppender("fw_div_loaded");
  const issues = await conn.createAppender("fw_cross");
  const keyNames = ds.key.map((k) => ds.columns[k]?.header).join("+");
  for (const r of rows) {
    const first = seen.get(r.fw_key);
    const reject = (column: string, value: string, reason: string, reasonEn: string, rule: string) => {
      issues.appendInteger(Number(r.fw_file));
      issues.appendInteger(0);
      issues.appendInteger(0);
      issues.appendBigInt(r.fw_seq);
      for (const text of [column, value, reason, reasonEn, rule]) issues.appendVarchar(text);
      issues.endRow();
    };
    if (first !== undefined) {
      reject(
        ds.columns[ds.key[0] ?? ""]?.header ?? "",
        r.fw_key,
        `重复的${keyNames}：与 ${first} 重复`,
        `duplicate key, first seen at ${first}`,
        "duplicate-key"
      );
    } else if (r.parent_code !== null && !seen.has(String(r.parent_code))) {
      reject(
        "上级编码",
        textOfBytes(r.parent_raw),
        `上级区划不存在（上级须排在下级之前）：${String(r.parent_code)}`,
        "unknown parent division",
        "unknown-parent"
      );
    } else {
      seen.set(r.fw_key, `${r.file} 第 ${r.line} 行`);
      loaded.appendBigInt(r.fw_seq);
      loaded.endRow();
    }
  }
  loaded.closeSync();
  issues.closeSync();
  const fields = Object.keys(ds.columns);
  await conn.run(`INSERT INTO ${outTable(ds.name)}
    SELECT ${fields.map((f) => `c.${quote(f)}`).join(", ")}, f.file, c.line, ${keySql(ds, "c")}, ${seqOf("c")} AS s
    FROM ${candTable(ds.name)} AS c JOIN fw_files AS f USING (fw_file)
    WHERE ${seqOf("c")} IN (SELECT fw_seq FROM fw_div_loaded) ORDER BY s`);
}

/** Each reporting division's latest dated loaded row (see `asOfDate` in ./ingest.ts). */
async function latestByDivision(conn: DuckDBConnection): Promise<string[]> {
  const ins = outTable("institutions");
  const insp = outTable("inspections");
  const fnd = outTable("findings");
  const rows = (
    await conn.runAndReadAll(`WITH
      inst AS (SELECT fw_key AS code, ${str("division_code")} AS division FROM ${ins}),
      insp AS (SELECT fw_key AS id, i.division FROM ${insp} AS x JOIN inst AS i ON i.code = ${str("x.institution_code")}),
      fnd AS (SELECT fw_key AS id, p.division FROM ${fnd} AS x LEFT JOIN insp AS p ON p.id = ${str("x.inspection_id")}),
      dated AS (
        SELECT division_code AS division, week_ending AS d FROM ${outTable("weekly_reports")}
        UNION ALL SELECT i.division, x.date FROM ${insp} AS x JOIN inst AS i ON i.code = ${str("x.institution_code")}
        UNION ALL SELECT CASE WHEN x.finding_id IS NOT NULL THEN f.division ELSE p.division END, x.decided_on
          FROM ${outTable("dispositions")} AS x
          LEFT JOIN fnd AS f ON f.id = CAST(x.finding_id AS VARCHAR)
          LEFT JOIN insp AS p ON p.id = CAST(x.inspection_id AS VARCHAR))
      SELECT strftime(max(d), '%Y-%m-%d') AS latest FROM dated WHERE d IS NOT NULL AND division IS NOT NULL GROUP BY division`)
  ).getRowObjectsJS() as {latest: string}[];
  return rows.map((r) => r.latest);
}

/** Warnings on loaded rows dated after the as-of date (rule `after-as-of`), per file. */
async function warnAfterAsOf(
  conn: DuckDBConnection,
  fileCount: number,
  asOf: {date: string | null; note: string}
): Promise<Map<number, Issue[]>> {
  const byFile = new Map<number, Issue[]>();
  const {date} = asOf;
  if (date === null) return byFile;
  const parts = DATED.map(([table, field], k) => {
    const header = DATASETS.find((ds) => ds.name === table)?.columns[field]?.header ?? field;
    return `SELECT ${k} AS k, fw_seq, source_file, source_line, ${literal(header)} AS "column", strftime(${quote(field)}, '%Y-%m-%d') AS value
      FROM ${outTable(table)} WHERE ${quote(field)} > CAST(${literal(date)} AS DATE)`;
  });
  const rows = (
    await conn.runAndReadAll(`SELECT fw_seq // 4294967296 AS fw_file, source_file, source_line, sheet, "column", value
      FROM (${parts.join(" UNION ALL ")}) JOIN fw_files AS f ON f.fw_file = fw_seq // 4294967296 ORDER BY k, fw_seq`)
  ).getRowObjectsJS() as {
    fw_file: bigint;
    source_file: string;
    source_line: number;
    sheet: string | null;
    column: string;
    value: string;
  }[];
  for (const r of rows) {
    const n = Number(r.fw_file);
    if (n >= fileCount) continue;
    const list = byFile.get(n) ?? [];
    list.push({
      file: r.source_file,
      sheet: r.sheet,
      line: Number(r.source_line),
      column: r.column,
      value: r.value,
      reason: `日期 ${r.value} 晚于数据截至日期 ${date}（${asOf.note}）；此行照常载入，请核对日期是否填错`,
      reason_en: `dated after the data's as-of date ${date}`,
      rule: "after-as-of"
    });
    byFile.set(n, list);
  }
  return byFile;
}

/**
 * The loaded rows that first need each calendar year (`yearsNeeded` of ./calendar.ts looks at nothing
 * else): per year, the first disposition whose 处理日期 to 上报日期 spans it, and the first campaign.
 */
async function rowsNeedingYears(conn: DuckDBConnection): Promise<Map<string, LoadedRow[]>> {
  const firsts = (table: string, from: string, to: string) =>
    `SELECT min(fw_seq) FROM (
       SELECT fw_seq, unnest(generate_series(least(year(${from}), year(${to})), greatest(year(${from}), year(${to})))) AS y
       FROM ${outTable(table)}) GROUP BY y`;
  const tables = new Map<string, LoadedRow[]>();
  for (const [table, from, to] of [
    ["dispositions", "decided_on", "coalesce(reported_on, decided_on)"],
    ["campaigns", "start_date", "end_date"]
  ] as const) {
    const ds = DATASETS.find((d) => d.name === table);
    if (!ds) continue;
    const rows = (
      await conn.runAndReadAll(
        `SELECT ${jsColumns(ds)}, source_file, source_line FROM ${outTable(table)}
         WHERE fw_seq IN (${firsts(table, from, to)}) ORDER BY fw_seq`
      )
    ).getRowObjectsJS() as LoadedRow[];
    tables.set(table, rows);
  }
  return tables;
}

async function countLoaded(conn: DuckDBConnection): Promise<Map<number, number>> {
  const rows = (
    await conn.runAndReadAll(
      `SELECT fw_seq // 4294967296 AS f, count(*) AS n FROM (${DATASETS.map((ds) => `SELECT fw_seq FROM ${outTable(ds.name)}`).join(" UNION ALL ")}) GROUP BY ALL`
    )
  ).getRowObjectsJS() as {f: bigint; n: bigint}[];
  return new Map(rows.map((r) => [Number(r.f), Number(r.n)]));
}

/** The loaded tables in JS, as {@link ingest} returns them (for tests and small data only). */
export async function loadedTables(store: IngestStore): Promise<Map<string, LoadedRow[]>> {
  const tables = new Map<string, LoadedRow[]>();
  for (const ds of DATASETS) {
    const rows = (
      await store.conn.runAndReadAll(
        `SELECT ${jsColumns(ds)}, source_file, source_line FROM ${store.table(ds.name)} ORDER BY fw_seq`
      )
    ).getRowObjectsJS() as LoadedRow[];
    tables.set(ds.name, rows);
  }
  return tables;
}

/** {@link ingestSql} with its tables brought into JS: an {@link IngestResult} (for tests and small data). */
export async function ingestViaSql(
  paths: readonly string[],
  options: SqlIngestOptions = {}
): Promise<IngestResult> {
  const {store, ...result} = await ingestSql(paths, options);
  try {
    return {...result, tables: await loadedTables(store)};
  } finally {
    await store.close();
  }
}
