/**
 * The ingest shared by the data loader and `npm run ingest`: reads every input file (CSV in UTF-8 or
 * GBK, XLSX), finds which dataset it holds, maps its headers, validates every row and every
 * cross-record rule, and accounts for every row: per file, rows read = rows loaded + rows rejected.
 * Rejected rows are kept with file, line, column, value and a reason in Chinese and English; a file in
 * an input folder that is not read is listed with the reason (`skippedFiles`).
 * Structural problems (unreadable file, unknown encoding, not a workbook, a quote left open over several
 * lines, missing required column, a 合计 row that disagrees with its detail rows, two versions of one
 * submission) stop the ingest with every such problem listed.
 *
 * The pipeline runs in DuckDB (./ingest-sql.ts). This module holds what it shares: listing the inputs,
 * finding a file's header and dataset, mapping headers, the per-file checks in JS (`parseFile`: XLSX
 * files, and the reference that the SQL twins in ./sql-rows.ts are tested against), the as-of rule, the
 * texts of the structural problems, and the result's types.
 */
import {open, readdir, stat} from "node:fs/promises";
import {basename, extname, join, relative, resolve, sep} from "node:path";
import {DATASETS} from "../src/schema/index.js";
import {parseCell, type Column, type Dataset, type ParseContext} from "../src/schema/dataset.js";
import {
  cellText,
  isMissing,
  normalizeHeader,
  normalizeText,
  parseAmountFen,
  parseCount,
  type Cell,
  type MoneyUnitName
} from "../src/parse/values.js";
import type {CalendarFile} from "./calendar.js";
import type {RawTable} from "./sources/xlsx.js";
import {formatMoney} from "../src/format/money.js";

/** A row or cell that did not pass, or a warning about one that did. */
export interface Issue {
  file: string;
  sheet: string | null;
  line: number;
  column: string;
  value: string;
  reason: string;
  reason_en: string;
  rule: string;
}

export interface FileSummary {
  file: string;
  dataset: string;
  format: string;
  encoding: string | null;
  sheet: string | null;
  sha256: string;
  header_line: number;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
  /** Blank rows are not counted anywhere; total (合计) and note rows are listed here, not read. */
  rows_skipped: number;
  ignored_columns: string[];
  duplicate_of: string | null;
  reasons: Record<string, number>;
}

/** A loaded row: the dataset's fields plus where it came from. */
export type LoadedRow = Record<string, unknown> & {source_file: string; source_line: number};

export interface IngestResult {
  tables: Map<string, LoadedRow[]>;
  rejects: Issue[];
  warnings: Issue[];
  files: FileSummary[];
  divisionAliases: {alias: string; code: string}[];
  /** The data's as-of date: see {@link asOfDate} (or the `asOfCutoff` option when given). */
  asOf: string | null;
  /** How the as-of date was set, in Chinese (for the summary and the quality page). */
  asOfNote: string;
  /** Files under the input folders that were not read, each with the reason (none is skipped silently). */
  skippedFiles: SkippedFile[];
  /** The working-day calendar (data/节假日.csv, or the `calendar` option), checked to cover the data's years. */
  calendar: CalendarFile;
  /** Wall-clock time of the ingest's stages (for the benchmark). */
  timings: IngestTimings;
}

export interface IngestTimings {
  /** Step 1: listing, reading and decoding every file, parsing it and mapping its headers. */
  read_ms: number;
  /** Steps 2–3: parsing and validating every row, the cross-record rules, and the summaries. */
  validate_ms: number;
}

/** A file in an input folder that the ingest did not read, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
  reason_en: string;
}

/** One line per file not read, for the loaders' logs: `[fundwatch] 未读取 名称：原因`. */
export function skippedFileLines(skipped: readonly SkippedFile[]): string[] {
  return skipped.map((s) => `[fundwatch] 未读取 ${s.file}：${s.reason}`);
}

/** Problems that stop an ingest: each names its file. */
export class IngestError extends Error {
  readonly problems: string[];
  /** What was read before the ingest stopped (files listed and skipped), so a summary can still be printed. */
  readonly partial: {files: FileSummary[]; skippedFiles: SkippedFile[]};
  constructor(problems: string[], partial: {files?: FileSummary[]; skippedFiles?: SkippedFile[]} = {}) {
    super(`输入文件有 ${problems.length} 个结构性问题，未生成数据：\n- ${problems.join("\n- ")}`);
    this.name = "IngestError";
    this.problems = problems;
    this.partial = {files: partial.files ?? [], skippedFiles: partial.skippedFiles ?? []};
  }
}

const INPUT_EXTENSIONS = new Set([".csv", ".xlsx"]);

/** Expands files and folders to the input files under them (CSV and XLSX), sorted for a stable order. */
/** `报表.xlsx#工作表` names one worksheet of a workbook. */
const SHEET_SUFFIX = /^(.+\.xlsx)#([^#/\\]+)$/i;

/** Splits `path#sheet` (as {@link listInputFiles} returns it) into the path and the sheet name. */
export function splitSheet(entry: string): [string, string | undefined] {
  const match = SHEET_SUFFIX.exec(entry);
  return match?.[1] ? [match[1], match[2]] : [entry, undefined];
}

/** The input files under `paths` (folders walked in name order), absolute; `x.xlsx#工作表` picks a sheet. */
export async function listInputFiles(paths: readonly string[]): Promise<string[]> {
  const listed = await listInputs(paths);
  if (listed.problems.length > 0) throw new IngestError(listed.problems);
  return listed.files;
}

/** Formats that are spreadsheets but not read: say what to do with them. */
const OTHER_SPREADSHEETS = new Set([".xls", ".xlsm", ".xlsb", ".et", ".ett", ".ods", ".numbers", ".wps"]);
const ARCHIVES = new Set([".zip", ".rar", ".7z", ".gz", ".tar"]);

/** Why a file in an input folder is not read (Chinese and English), or undefined if it is an input. */
async function skipReason(
  path: string,
  name: string
): Promise<{reason: string; reason_en: string} | undefined> {
  const ext = extname(name).toLowerCase();
  if (name.startsWith("~$"))
    return {
      reason: "Excel 的临时锁定文件（~$ 开头，Excel 打开工作簿时自动生成），不是数据，未读取",
      reason_en: "Excel lock file, not data"
    };
  // macOS writes `._名称` beside files copied to other disks or zipped: resource data, not the file itself.
  if (name.startsWith("._") && (await isAppleDouble(path)))
    return {
      reason: "macOS 的附属文件（._ 开头的 AppleDouble 资源文件，随压缩包或 U 盘复制产生），不是数据，未读取",
      reason_en: "macOS AppleDouble resource file, not data"
    };
  if (INPUT_EXTENSIONS.has(ext)) return undefined;
  if (OTHER_SPREADSHEETS.has(ext))
    return {
      reason: `不支持的表格格式（${ext}），未读取：请在 Excel 或 WPS 中另存为 .xlsx（或 CSV）后重新报送`,
      reason_en: `unsupported spreadsheet format ${ext}: save as .xlsx`
    };
  if (ARCHIVES.has(ext))
    return {
      reason: `压缩包（${ext}）未解压，其中的文件未读取：请解压后放入输入目录`,
      reason_en: `archive ${ext} not unpacked`
    };
  return {
    reason: "不是 .csv 或 .xlsx 文件，未读取",
    reason_en: "not a .csv or .xlsx file"
  };
}

/** Whether the file starts with the AppleDouble magic number 0x00051607. */
async function isAppleDouble(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(4);
    const {bytesRead} = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32BE(0) === 0x00051607;
  } finally {
    await handle.close();
  }
}

/**
 * Every file under `paths`: the inputs to read (absolute, sorted; `x.xlsx#工作表` picks a sheet), the
 * files not read, each with the reason, and the paths that could not be listed. Nothing is passed over
 * silently: an Excel lock file (`~$…`), a macOS `._…` resource file, a hidden folder (`.git`), an
 * `.xls` or any other file is listed as skipped. A `.csv` or `.xlsx` whose name starts with `.` is read
 * like any other: its name is the sender's (or a download tool's, `..%2f检查记录.csv`), its content a submission.
 */
export async function listInputs(paths: readonly string[]): Promise<{
  files: string[];
  skipped: {path: string; reason: string; reason_en: string}[];
  problems: string[];
}> {
  const files: string[] = [];
  const skipped: {path: string; reason: string; reason_en: string}[] = [];
  const problems: string[] = [];
  async function walk(path: string, explicit: boolean): Promise<void> {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    const named = SHEET_SUFFIX.exec(path);
    if (info instanceof Error && named?.[1] && (await stat(named[1]).catch(() => undefined))?.isFile()) {
      files.push(`${resolve(named[1])}#${named[2] ?? ""}`);
      return;
    }
    if (info instanceof Error) {
      problems.push(
        info.code === "ENOENT" && explicit
          ? `${path}: 文件或目录不存在`
          : `${path}: 无法访问（${info.code ?? info.message}）：文件不存在、是失效的链接或没有读取权限`
      );
      return;
    }
    const name = basename(path);
    if (info.isDirectory()) {
      if (!explicit && name.startsWith(".")) {
        skipped.push({
          path,
          reason: "隐藏目录（名称以 . 开头，多为工具生成），其中的文件未读取",
          reason_en: "hidden folder, not read"
        });
        return;
      }
      const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => error);
      if (entries instanceof Error) {
        problems.push(`${path}: 无法读取目录（${entries.code ?? entries.message}）`);
        return;
      }
      for (const entry of entries.sort()) await walk(join(path, entry), false);
      return;
    }
    if (explicit) {
      if (INPUT_EXTENSIONS.has(extname(path).toLowerCase()) && info.isFile()) files.push(path);
      else problems.push(`${path}: 不支持的文件类型（只接受 .csv 和 .xlsx）`);
      return;
    }
    const reason = info.isFile()
      ? await skipReason(path, name)
      : {reason: "不是普通文件（设备、管道等），未读取", reason_en: "not a regular file"};
    if (reason) skipped.push({path, ...reason});
    else files.push(path);
  }
  for (const path of paths) await walk(path, true);
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    files: [...new Set(files.map((f) => resolve(f)))].sort(byName),
    skipped: skipped.map((s) => ({...s, path: resolve(s.path)})).sort((a, b) => byName(a.path, b.path)),
    problems
  };
}

/** A text as names and aliases are matched: NFKC, every white space removed. */
export const squash = (s: string): string => normalizeText(s).replace(/\s/g, "");

/** The names a column answers to, normalized. */
function columnNames(col: Column): string[] {
  return [col.header, ...col.aliases].map((n) => normalizeHeader(n).name);
}

export interface Mapping {
  /** dataset field → file column index and the unit its header gives. */
  fields: Map<string, {index: number; unit: MoneyUnitName | null; header: string}>;
  missing: string[];
  ignored: string[];
  ambiguous: string[];
}

/** Maps a file's headers (and group headers) to a dataset's columns. */
export function mapHeaders(ds: Dataset, headers: readonly string[], groups: readonly string[] = []): Mapping {
  const fields: Mapping["fields"] = new Map();
  const used = new Map<number, string>();
  const ambiguous: string[] = [];
  for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
    const names = columnNames(col);
    const matches: {index: number; unit: MoneyUnitName | null; header: string}[] = [];
    headers.forEach((header, index) => {
      const leaf = normalizeHeader(header);
      const group = normalizeHeader(groups[index] ?? "");
      const combined = normalizeHeader(`${groups[index] ?? ""}${header}`);
      for (const candidate of [leaf, combined]) {
        if (candidate.name !== "" && names.includes(candidate.name)) {
          matches.push({index, unit: candidate.unit ?? leaf.unit ?? group.unit, header});
          return;
        }
      }
    });
    if (matches.length > 1)
      ambiguous.push(`「${col.header}」对应多列：${matches.map((m) => m.header).join("、")}`);
    const match = matches[0];
    if (match && !used.has(match.index)) {
      fields.set(field, match);
      used.set(match.index, field);
    }
  }
  const missing = (Object.entries(ds.columns) as [string, Column][])
    .filter(([field, col]) => !col.optional && !fields.has(field))
    .map(([, col]) => col.header);
  const ignored = headers.filter((h, i) => h !== "" && !used.has(i));
  return {fields, missing, ignored, ambiguous};
}

/**
 * How well a row of texts fits as the header of `ds`: the share of its required columns present.
 * Strict: all of them. Lenient: at least half, and two or more (so a file missing a column is still
 * recognised, and the missing column named).
 */
export function headerScore(ds: Dataset, texts: readonly string[], strict: boolean): number {
  const required = (Object.values(ds.columns) as Column[]).filter((c) => !c.optional);
  const {fields} = mapHeaders(ds, texts);
  const hits = required.filter((c) => [...fields.keys()].some((f) => ds.columns[f] === c)).length;
  const enough = strict ? hits === required.length : hits >= Math.max(2, Math.ceil(required.length / 2));
  return enough ? hits / required.length : 0;
}

/** The dataset a file name names (by its English name, Chinese label or file words), if exactly one. */
export function datasetFromFileName(path: string): Dataset | undefined {
  const name = squash(basename(path, extname(path))).toLowerCase();
  const hits = DATASETS.filter((ds) =>
    [ds.name, ds.label, ...ds.fileWords].some((w) => name.includes(squash(w).toLowerCase()))
  );
  // The most specific: prefer a match on the full name or label over a generic word.
  const strong = hits.filter((ds) => name.includes(ds.name) || name.includes(squash(ds.label)));
  return strong.length === 1 ? strong[0] : hits.length === 1 ? hits[0] : undefined;
}

/**
 * Reads a file with `read`, finding its header row and dataset among `candidates`: the first of its first
 * rows that holds all required columns of a dataset (the best fit), else one that holds most of them.
 */
export async function readDetecting<T>(
  path: string,
  candidates: readonly Dataset[],
  read: (isHeaderRow: (texts: string[]) => boolean) => Promise<T>
): Promise<{table: T; dataset: Dataset}> {
  const attempt = async (strict: boolean): Promise<{table: T; dataset: Dataset}> => {
    let chosen: Dataset | undefined;
    const isHeaderRow = (texts: string[]): boolean => {
      let best = 0;
      for (const ds of candidates) {
        const score = headerScore(ds, texts, strict);
        if (score > best) {
          best = score;
          chosen = ds;
        }
      }
      return best > 0;
    };
    const table = await read(isHeaderRow);
    if (!chosen) throw new Error(`${path}: 无法判断文件属于哪个数据集`);
    return {table, dataset: chosen};
  };
  // A group row above a two-row header can pass the lenient test; the full header row passes the strict one.
  try {
    return await attempt(true);
  } catch (error) {
    if (!/找不到表头/.test((error as Error).message)) throw error;
    return attempt(false);
  }
}

export const TOTAL_ROW = /^(合计|总计|小计|共计|全市合计|全区合计)$/;
export const NOTE_ROW = /^(注|说明|填表说明|备注|制表|填表人|审核人|联系电话)[:：]?/;

/** Classifies a row that is not data: a 合计 row or a note row below the table. */
export function classifyRow(cells: readonly Cell[]): "total" | "note" | "data" {
  const filled = cells.filter((c) => !isMissing(c));
  const first = filled[0];
  if (first === undefined) return "data";
  const text = squash(cellText(first));
  if (TOTAL_ROW.test(text)) return "total";
  if (filled.length === 1 && NOTE_ROW.test(text)) return "note";
  return "data";
}

export interface ParsedFile {
  summary: FileSummary;
  dataset: Dataset;
  rows: {line: number; row: Record<string, unknown>; cells: readonly Cell[]}[];
  /** A field's raw text in a row's cells, for the value shown with a reject. */
  rawOf: (cells: readonly Cell[], field: string) => string;
  rejects: Issue[];
  warnings: Issue[];
}

export interface IngestOptions {
  /** The root that file names in the outputs are relative to (no machine paths end up in the site). */
  root?: string;
  /** Dates after this (YYYY-MM-DD) are rejected as in the future. Default: today in Asia/Shanghai. */
  today?: string;
  /** The holiday calendar file (节假日表). Default: data/节假日.csv of this project. */
  calendar?: string;
  /** Amount limits per value, in fen (default {@link DEFAULT_AMOUNT_LIMITS}). */
  amountLimits?: AmountLimits;
  /** Event dates (every date column) before this (YYYY-MM-DD) are rejected. Default {@link DEFAULT_EARLIEST_DATE}. */
  earliestDate?: string;
  /**
   * The campaign's stated cut-off (YYYY-MM-DD): when given, it is the data's as-of date, whatever the
   * rows say (rows dated after it are warned). Default: computed from the data, see {@link asOfDate}.
   */
  asOfCutoff?: string;
}

/** Per-value limits on amounts, in fen. */
export interface AmountLimits {
  /** A value above this is rejected (rule `amount-ceiling`). At most BIGINT's maximum. */
  rejectAboveFen: bigint | number;
  /** A value at or above this is kept and warned (rule `amount-implausible`). At most `rejectAboveFen`. */
  warnAboveFen: bigint | number;
}

/**
 * Default amount limits. Every amount the datasets hold is one finding, one disposition, one campaign
 * threshold or one district's cumulative weekly total. Ningxia's whole basic medical insurance fund
 * spends on the order of 100亿元 a year, and the national supervision campaigns recover on the order of
 * 100–200亿元 a year for the whole country: one value above 100亿元 (10^12 fen) cannot be true (a slipped
 * unit or extra digits) and is rejected; one of 1亿元 (10^10 fen) or more is possible for a district's
 * cumulative total or the largest fraud cases ever reported, but rare enough to be checked by a person,
 * so it is warned. Both are far below BIGINT's maximum (about 9.2 × 10^18 fen), so nothing loaded can overflow.
 */
export const DEFAULT_AMOUNT_LIMITS: {rejectAboveFen: bigint; warnAboveFen: bigint} = {
  rejectAboveFen: 1_000_000_000_000n,
  warnAboveFen: 10_000_000_000n
};

/**
 * Default earliest event date. Basic medical insurance for urban employees began in 1998 (国发〔1998〕44号)
 * and fund supervision records in these datasets are all later, so a date before 2000-01-01 is an error;
 * the common ones are Excel's "zero dates" (1900-01-01, 1899-12-30, 1899-12-31: an empty cell or a 0 with a
 * date format), which must never load as real dates.
 */
export const DEFAULT_EARLIEST_DATE = "2000-01-01";

/** BIGINT's maximum: no amount beyond it can be stored. */
const BIGINT_MAX = 2n ** 63n - 1n;

/** Checks the options' limits and dates; problems are worded for the administrator who set them. */
export function rowLimits(options: IngestOptions): {limits: RowLimits; problems: string[]} {
  const problems: string[] = [];
  const fen = (name: string, value: bigint | number | undefined, fallback: bigint): bigint => {
    if (value === undefined) return fallback;
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      problems.push(`金额限额 ${name} 应为整数（分）：${value}`);
      return fallback;
    }
    const big = BigInt(value);
    if (big < 0n || big > BIGINT_MAX) {
      problems.push(`金额限额 ${name} 应在 0 到 ${BIGINT_MAX}（分）之间：${value}`);
      return fallback;
    }
    return big;
  };
  const rejectAboveFen = fen(
    "rejectAboveFen",
    options.amountLimits?.rejectAboveFen,
    DEFAULT_AMOUNT_LIMITS.rejectAboveFen
  );
  const warnAboveFen = fen(
    "warnAboveFen",
    options.amountLimits?.warnAboveFen,
    DEFAULT_AMOUNT_LIMITS.warnAboveFen
  );
  if (warnAboveFen > rejectAboveFen)
    problems.push(
      `金额限额有误：核对线 warnAboveFen（${warnAboveFen}）大于拒收上限 rejectAboveFen（${rejectAboveFen}）`
    );
  const earliestDate = options.earliestDate ?? DEFAULT_EARLIEST_DATE;
  for (const [name, value] of [
    ["earliestDate（最早日期）", earliestDate],
    ["asOfCutoff（数据截至日期）", options.asOfCutoff]
  ] as const) {
    if (value !== undefined && !isIsoDate(value))
      problems.push(`${name} 应为 YYYY-MM-DD 格式的日期：${value}`);
  }
  return {limits: {rejectAboveFen, warnAboveFen, earliestDate}, problems};
}

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
function isIsoDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

export function todayInChina(): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit"
  }).format(new Date());
}

/** Runs the whole ingest over files and folders. Throws {@link IngestError} on structural problems. */
/** What every ingest starts from: the input files, how they are named, today, and the row limits. */
export interface IngestPlan {
  files: string[];
  today: string;
  /** A path as outputs name it: relative to the inputs' common root, with `/`. */
  display: (path: string) => string;
  skippedFiles: SkippedFile[];
  limits: RowLimits;
}

/** Lists the inputs and checks the options; throws an {@link IngestError} when there is nothing to read. */
export async function planIngest(paths: readonly string[], options: IngestOptions): Promise<IngestPlan> {
  const listed = await listInputs(paths);
  const files = listed.files;
  const root = resolve(
    options.root ?? commonRoot(files.length > 0 ? files : listed.skipped.map((s) => s.path))
  );
  const today = options.today ?? todayInChina();
  const display = (path: string): string => relative(root, path).split(sep).join("/") || basename(path);
  const skippedFiles: SkippedFile[] = listed.skipped.map(({path, reason, reason_en}) => ({
    file: display(path),
    reason,
    reason_en
  }));
  const {limits, problems: optionProblems} = rowLimits(options);
  if (listed.problems.length > 0 || optionProblems.length > 0)
    throw new IngestError([...listed.problems, ...optionProblems], {skippedFiles});
  if (files.length === 0)
    throw new IngestError([`${paths.join("、")}: 没有 .csv 或 .xlsx 输入文件`], {skippedFiles});
  return {files, today, display, skippedFiles, limits};
}

/** Why a file whose headers were mapped cannot be read (a required column missing, an ambiguous one). */
export function mappingProblem(
  file: string,
  ds: Dataset,
  table: {headerLine: number; headers: readonly string[]},
  mapping: Mapping
): string | undefined {
  if (mapping.missing.length > 0)
    return `${file}（${ds.label}）: 缺少必需的列：${mapping.missing.map((m) => `「${m}」`).join("、")}（表头第 ${table.headerLine} 行为：${table.headers.join("，")}）`;
  if (mapping.ambiguous.length > 0) return `${file}: ${mapping.ambiguous.join("；")}`;
  return undefined;
}

/**
 * The ingest: reads every input file, checks every row and every cross-record rule, and returns the
 * loaded tables with every reject and warning. It runs in DuckDB ({@link ingestSql} in ./ingest-sql.ts)
 * and brings the loaded tables into JS: for tests and small inputs. The site's loader and
 * `npm run ingest` call {@link ingestSql}, whose tables stay in DuckDB.
 */
export async function ingest(paths: readonly string[], options: IngestOptions = {}): Promise<IngestResult> {
  const {ingestViaSql} = await import("./ingest-sql.js");
  return ingestViaSql(paths, options);
}

/** An error's message, whatever was thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A problem reading one file, named by its display name (the readers' messages start with the path). */
export function fileProblem(file: string, path: string, error: unknown): string {
  if (error instanceof IngestError) return error.problems.join("；");
  const message = errorText(error);
  if (message.includes(path)) return `${file}: ${message.replace(path, "").replace(/^:\s*/, "")}`;
  return `${file}: 读取时出现意外错误（请报告给维护者）：${message}`;
}

/** Two files of one dataset sharing at least this share of the smaller file's keys are two versions of one submission. */
export const VERSION_OVERLAP = 0.5;

/** A parsed value as text, for comparing two versions of a row. */
export const valueKey = (value: unknown): string =>
  value === null || value === undefined ? "" : String(value);

/** What {@link versionProblem} reads of a file: its name, its parsed rows and their raw texts. */
export type VersionFile = {summary: {file: string}} & Pick<ParsedFile, "rows" | "rawOf">;

type KeyedFile = {f: VersionFile; keys: Map<string, ParsedFile["rows"][number]>};

/**
 * The problem of two files that look like two versions of one submission (`smaller`: the smaller
 * file's count of distinct keys): the keys they share, how many of those rows differ, the first difference.
 */
export function versionProblem(ds: Dataset, fileA: VersionFile, fileB: VersionFile, smaller: number): string {
  const keyOf = (row: Record<string, unknown>): string => ds.key.map((k) => valueKey(row[k])).join("|");
  const keyed = (f: VersionFile): KeyedFile => ({f, keys: new Map(f.rows.map((r) => [keyOf(r.row), r]))});
  const [a, b] = [keyed(fileA), keyed(fileB)];
  const shared = [...b.keys.keys()].filter((key) => a.keys.has(key));
  const [nameA, nameB] = [a.f.summary.file, b.f.summary.file];
  const fields = Object.keys(ds.columns);
  let differing = 0;
  let first = "";
  for (const key of shared) {
    const rowA = a.keys.get(key);
    const rowB = b.keys.get(key);
    if (!rowA || !rowB) continue;
    const field = fields.find((name) => valueKey(rowA.row[name]) !== valueKey(rowB.row[name]));
    if (field === undefined) continue;
    differing += 1;
    if (first === "") {
      const header = ds.columns[field]?.header ?? field;
      first = `第一处：${nameB} 第 ${rowB.line} 行「${header}」为「${b.f.rawOf(rowB.cells, field)}」，${nameA} 第 ${rowA.line} 行为「${a.f.rawOf(rowA.cells, field)}」`;
    }
  }
  const keyName = ds.key.map((k) => ds.columns[k]?.header ?? k).join("+");
  const percent = Math.round((shared.length / smaller) * 100);
  const differences =
    differing === 0
      ? "这些行内容完全相同（只是编码、格式或行序不同）"
      : `其中 ${differing} 行内容不同（${first}）`;
  return `${nameA} 与 ${nameB} 像是同一份${ds.label}的两个版本：两者有 ${shared.length} 个相同的${keyName}（占较小文件 ${smaller} 个的 ${percent}%），${differences}。请只保留其中一个文件（删除或移走另一个）后重新运行`;
}

export function emptySummary(
  file: string,
  ds: Dataset,
  table: Omit<RawTable, "rows"> & {encoding?: string}
): FileSummary {
  return {
    file,
    dataset: ds.name,
    format: table.format,
    encoding: table.encoding ?? null,
    sheet: table.sheet ?? null,
    sha256: table.sha256,
    header_line: table.headerLine,
    rows_read: 0,
    rows_loaded: 0,
    rows_rejected: 0,
    rows_skipped: 0,
    ignored_columns: [],
    duplicate_of: null,
    reasons: {}
  };
}

export function commonRoot(files: readonly string[]): string {
  const parts = files.map((f) => resolve(f).split(sep).slice(0, -1));
  const first = parts[0] ?? [];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && p[i] === first[i]) ++i;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

export function addDivisionAliases(table: Map<string, string>, row: Record<string, unknown>): void {
  const code = String(row.code);
  const names = [code, String(row.name), ...(row.aliases ? String(row.aliases).split(/[、|,，;；/]/) : [])];
  if (row.insurance_code) names.push(String(row.insurance_code));
  for (const name of names) {
    const key = squash(name);
    if (key !== "" && !table.has(key)) table.set(key, code);
  }
}

export function parseFile(
  entry: {file: string; table: RawTable & {encoding?: string}; dataset: Dataset; mapping: Mapping},
  aliasTable: Map<string, string>,
  problems: string[],
  limits: RowLimits
): ParsedFile {
  const {file, table, dataset: ds, mapping} = entry;
  const summary = {...emptySummary(file, ds, table), ignored_columns: mapping.ignored};
  const sheet = table.sheet ?? null;
  const rejects: Issue[] = [];
  const warnings: Issue[] = [];
  const rows: ParsedFile["rows"] = [];
  const rawOf = (cells: readonly Cell[], field: string): string => {
    const mapped = mapping.fields.get(field);
    return cellText(mapped ? (cells[mapped.index] ?? null) : null);
  };
  const resolveDivision = (text: string): string | undefined => aliasTable.get(squash(text));
  const detailSums = new Map<string, {sum: bigint; complete: boolean}>();
  const summable = [...mapping.fields.entries()].filter(([field]) => {
    const duck = ds.columns[field]?.duck;
    return duck === "BIGINT" || duck === "INTEGER";
  });

  const besides = new Map((table.beyond ?? []).map((b) => [b.line, b]));
  for (const {line, cells} of table.rows) {
    // A row cut off at the end of the file is data (rejected below), whatever its first cell says.
    const cut = table.truncated?.line === line ? table.truncated : undefined;
    const stray = strayValue(table, cells, besides.get(line));
    // A note typed to the right of the table, on a row of its own, is a note like any other.
    const asideNote = stray !== undefined && cells.every(isMissing) && NOTE_ROW.test(squash(stray.value));
    const kind = cut ? "data" : asideNote ? "note" : classifyRow(cells);
    if (kind === "note") {
      summary.rows_skipped += 1;
      warnings.push({
        file,
        sheet,
        line,
        column: "",
        value: cellText(cells.find((c) => !isMissing(c)) ?? null) || (stray?.value ?? ""),
        reason: "说明行，未作为数据读取",
        reason_en: "note row, not read as data",
        rule: "note-row"
      });
      continue;
    }
    if (kind === "total") {
      summary.rows_skipped += 1;
      for (const [field, {index, unit, header}] of summable) {
        const cell = cells[index] ?? null;
        if (isMissing(cell)) continue;
        const isMoney = ds.columns[field]?.duck === "BIGINT";
        const stated = isMoney ? parseAmountFen(cell, unit ?? "元") : parseCount(cell);
        const detail = detailSums.get(field) ?? {sum: 0n, complete: true};
        if (!stated.ok) {
          problems.push(`${file} 第 ${line} 行（合计行）「${header}」无法读取：${stated.reason}`);
        } else if (!detail.complete) {
          warnings.push({
            file,
            sheet,
            line,
            column: header,
            value: cellText(cell),
            reason: "明细中有无法读取的值，合计无法核对",
            reason_en: "some detail values unreadable: total not checked",
            rule: "control-total-unchecked"
          });
        } else if (BigInt(stated.value) !== detail.sum) {
          const show = (v: bigint): string => (isMoney ? formatMoney(v, {unit: "元"}) : String(v));
          problems.push(
            `${file} 第 ${line} 行合计与明细不符：「${header}」合计行为 ${show(BigInt(stated.value))}，明细之和为 ${show(detail.sum)}`
          );
        }
      }
      continue;
    }
    summary.rows_read += 1;
    const ctxBase: Omit<ParseContext, "unit"> = {date1904: table.date1904, resolveDivision};
    const row: Record<string, unknown> = {};
    const rowIssues: Issue[] = [];
    const at = {file, sheet, line};
    if (cut) {
      rowIssues.push({
        ...at,
        column: columnLabel(table, cut.column),
        value: cellText(cells[cut.column] ?? null),
        reason: cut.reason,
        reason_en: cut.reason_en,
        rule: "truncated-file"
      });
    }
    if (stray) rowIssues.push({...at, ...stray, rule: "extra-fields"});
    for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
      const mapped = mapping.fields.get(field);
      const cell = mapped ? (cells[mapped.index] ?? null) : null;
      const outcome = parseCell(field, col, cell, {...ctxBase, unit: mapped?.unit ?? "元"});
      if (outcome.state === "null") row[field] = null;
      else if (outcome.state === "ok") row[field] = outcome.value;
      else
        rowIssues.push({
          file,
          sheet,
          line,
          column: mapped?.header ?? col.header,
          value: cellText(cell),
          reason: outcome.reason,
          reason_en: outcome.reason_en,
          rule: outcome.rule
        });
    }
    const {rejected: outOfRange, warned: implausible} = rangeIssues(ds, mapping, row, cells, limits);
    rowIssues.push(...outOfRange.map((issue) => ({...at, ...issue})));
    for (const [field, {index}] of summable) {
      const value = row[field];
      const entry = detailSums.get(field) ?? {sum: 0n, complete: true};
      const cell = cells[index] ?? null;
      if (typeof value === "bigint" || typeof value === "number") entry.sum += BigInt(value);
      else if (!isMissing(cell)) entry.complete = false;
      detailSums.set(field, entry);
    }
    if (rowIssues.length === 0) {
      for (const rule of ds.rules) {
        const issue = rule.check(row as never);
        if (!issue) continue;
        const record: Issue = {
          file,
          sheet,
          line,
          column: issue.column,
          value: rawOf(cells, fieldOfHeader(ds, issue.column)),
          reason: issue.reason,
          reason_en: issue.reason_en,
          rule: rule.name
        };
        if (issue.severity === "warning") warnings.push(record);
        else rowIssues.push(record);
      }
    }
    if (rowIssues.length === 0) {
      const checked = ds.schema.safeParse(row);
      if (!checked.success) {
        rowIssues.push({
          file,
          sheet,
          line,
          column: "",
          value: "",
          reason: `数据模型校验失败：${checked.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("；")}`,
          reason_en: "schema check failed",
          rule: "schema"
        });
      }
    }
    if (rowIssues.length > 0) rejects.push(...rowIssues);
    else {
      warnings.push(...implausible.map((issue) => ({...at, ...issue})));
      rows.push({line, row, cells});
    }
  }
  return {summary, dataset: ds, rows, rawOf, rejects, warnings};
}

/** The limits every row is held to (see {@link IngestOptions}). */
export interface RowLimits {
  rejectAboveFen: bigint;
  warnAboveFen: bigint;
  earliestDate: string;
}

/** A column for messages: its header, or its position (and letter in a workbook) when it has none. */
export function columnLabel(table: RawTable, index: number): string {
  const header = table.headers[index] || table.groups[index];
  if (header) return header;
  return table.format === "xlsx" ? `第 ${index + 1} 列（${columnLetter(index)} 列）` : `第 ${index + 1} 列`;
}

/** Excel's letter for a 0-based column index: 0 → A, 25 → Z, 26 → AA. */
function columnLetter(index: number): string {
  let n = index + 1;
  let letters = "";
  while (n > 0) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/**
 * The first value of a row that belongs to no column — to the right of the header's last column, or
 * under a column with no header — so that it is rejected, never dropped: such a row has a separator too
 * many or a shifted value, and its other values cannot be trusted either.
 */
function strayValue(
  table: RawTable,
  cells: readonly Cell[],
  aside: {column: number; value: Cell} | undefined
): {column: string; value: string; reason: string; reason_en: string} | undefined {
  const width = table.headers.length;
  const unnamed = (i: number): boolean => i >= width || (table.headers[i] === "" && !table.groups[i]);
  // A CSV row keeps its fields beyond the header in `cells`; a worksheet row reports them in `beyond`.
  const inCells = cells.findIndex((c, i) => unnamed(i) && cellText(c).trim() !== "");
  const index = inCells >= 0 ? inCells : (aside?.column ?? -1);
  if (index < 0) return undefined;
  const value = cellText((inCells >= 0 ? cells[index] : aside?.value) ?? null);
  const label = columnLabel(table, index);
  return index >= width
    ? {
        column: label,
        value,
        reason: `表头之外还有值：${label}（表头只有 ${width} 列）为「${value}」；可能多了分隔符或值错位，整行未载入`,
        reason_en: `value beyond the header's ${width} columns, in column ${index + 1}`
      }
    : {
        column: label,
        value,
        reason: `${label}没有表头，却有值「${value}」；可能值错位，整行未载入`,
        reason_en: `value in column ${index + 1}, which has no header`
      };
}

/**
 * Amounts beyond the ceiling and dates before the earliest date (rejected), amounts at or above the
 * implausibility threshold (warned, kept). Only values that parsed are looked at.
 */
export function rangeIssues(
  ds: Dataset,
  mapping: Mapping,
  row: Record<string, unknown>,
  cells: readonly Cell[],
  limits: RowLimits
): {rejected: Omit<Issue, "file" | "sheet" | "line">[]; warned: Omit<Issue, "file" | "sheet" | "line">[]} {
  const rejected: Omit<Issue, "file" | "sheet" | "line">[] = [];
  const warned: Omit<Issue, "file" | "sheet" | "line">[] = [];
  for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
    const value = row[field];
    if (typeof value !== "bigint" && typeof value !== "string") continue;
    const mapped = mapping.fields.get(field);
    const where = (): {column: string; value: string} => ({
      column: mapped?.header ?? col.header,
      value: cellText(mapped ? (cells[mapped.index] ?? null) : null)
    });
    if (col.duck === "BIGINT" && typeof value === "bigint") {
      const yuan = (fen: bigint): string => formatMoney(fen, {unit: "元"});
      if (value > limits.rejectAboveFen)
        rejected.push({
          ...where(),
          reason: `金额过大：${yuan(value)}，超过上限 ${yuan(limits.rejectAboveFen)}（可能多输了位数，或单位有误，如把元写成万元）`,
          reason_en: `amount above the ceiling of ${limits.rejectAboveFen} fen`,
          rule: "amount-ceiling"
        });
      else if (value >= limits.warnAboveFen)
        warned.push({
          ...where(),
          reason: `金额异常大：${yuan(value)}，达到核对线 ${yuan(limits.warnAboveFen)}，请核对位数和单位`,
          reason_en: `implausibly large amount (at or above ${limits.warnAboveFen} fen)`,
          rule: "amount-implausible"
        });
    }
    if (col.duck === "DATE" && typeof value === "string" && value < limits.earliestDate)
      rejected.push({
        ...where(),
        reason: `日期早于 ${limits.earliestDate}：${value}（1900-01-01、1899-12-30、1899-12-31 是 Excel 的“零日期”，多为空单元格或 0 被设成了日期格式）`,
        reason_en: `date before ${limits.earliestDate}`,
        rule: "date-too-early"
      });
  }
  return {rejected, warned};
}

export function fieldOfHeader(ds: Dataset, header: string): string {
  return (Object.entries(ds.columns) as [string, Column][]).find(([, c]) => c.header === header)?.[0] ?? "";
}

export function countReasons(issues: readonly Issue[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const issue of issues) counts[issue.rule] = (counts[issue.rule] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function sortIssues(issues: Issue[]): Issue[] {
  return issues.sort((a, b) =>
    a.file < b.file
      ? -1
      : a.file > b.file
        ? 1
        : a.line - b.line || (a.column < b.column ? -1 : a.column > b.column ? 1 : 0)
  );
}

/** The event dates that date the data, per dataset: a weekly cut-off, an inspection, a decision. */
export const DATED: readonly (readonly [table: string, field: string])[] = [
  ["weekly_reports", "week_ending"],
  ["inspections", "date"],
  ["dispositions", "decided_on"]
];

/**
 * The division each dated row belongs to: a weekly report's 区划; an inspection's institution's 所属区划;
 * a disposition's finding's (or its own) inspection's. Undefined where the chain is broken.
 */
function divisionOfRow(
  tables: Map<string, LoadedRow[]>
): (table: string, row: LoadedRow) => string | undefined {
  const byId = (table: string, id: string, value: string): Map<string, string> =>
    new Map((tables.get(table) ?? []).map((r) => [String(r[id]), String(r[value])]));
  const institutionDivision = byId("institutions", "code", "division_code");
  const inspectionInstitution = byId("inspections", "id", "institution_code");
  const findingInspection = byId("findings", "id", "inspection_id");
  const ofInspection = (id: unknown): string | undefined => {
    const institution = id === null || id === undefined ? undefined : inspectionInstitution.get(String(id));
    return institution === undefined ? undefined : institutionDivision.get(institution);
  };
  return (table, row) => {
    if (table === "weekly_reports") return String(row.division_code);
    if (table === "inspections") return institutionDivision.get(String(row.institution_code));
    if (row.finding_id !== null && row.finding_id !== undefined)
      return ofInspection(findingInspection.get(String(row.finding_id)));
    return ofInspection(row.inspection_id);
  };
}

/**
 * The data's as-of date: the latest date that most reporting divisions have reached, so one row dated
 * weeks ahead of the rest (a typo, or one district running ahead) does not move it.
 *
 * Rule: for each division that has at least one dated loaded row (weekly report 统计截止日期, inspection
 * 检查日期, disposition 处理日期; each row counted for its division as {@link divisionOfRow} finds it),
 * take its latest date; sort these dates from latest to earliest; the as-of date is the ⌈n/2⌉-th of them
 * (n divisions) — the latest date that at least half of the divisions have reached. Ties need no rule
 * (equal dates are the same date); one division gives its own latest date; no dated row gives null.
 * When `cutoff` (a campaign's stated cut-off, YYYY-MM-DD) is given, it is the as-of date instead.
 */
export function asOfDate(
  tables: Map<string, LoadedRow[]>,
  cutoff?: string
): {date: string | null; note: string} {
  if (cutoff !== undefined) return asOfOfLatest([], cutoff);
  const divisionOf = divisionOfRow(tables);
  const latest = new Map<string, string>();
  for (const [table, field] of DATED) {
    for (const row of tables.get(table) ?? []) {
      const value = row[field];
      const division = divisionOf(table, row);
      if (typeof value !== "string" || division === undefined) continue;
      if (value > (latest.get(division) ?? "")) latest.set(division, value);
    }
  }
  return asOfOfLatest([...latest.values()]);
}

/** {@link asOfDate} from each reporting division's latest date (or the stated `cutoff`). */
export function asOfOfLatest(
  latest: readonly string[],
  cutoff?: string
): {date: string | null; note: string} {
  if (cutoff !== undefined) return {date: cutoff, note: `按指定的数据截至日期 ${cutoff}`};
  const dates = [...latest].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const date = dates[Math.ceil(dates.length / 2) - 1];
  if (date === undefined) return {date: null, note: "没有带日期的数据"};
  const reached = dates.filter((d) => d >= date).length;
  return {
    date,
    note: `${dates.length} 个报送区划中有 ${reached} 个的数据已到 ${date}（取至少半数区划已到的最晚日期）`
  };
}
