/**
 * The ingest pipeline shared by the data loader and `npm run ingest`: reads every input file (CSV in
 * UTF-8 or GBK, XLSX), finds which dataset it holds, maps its headers, validates every row and every
 * cross-record rule, and accounts for every row: per file, rows read = rows loaded + rows rejected.
 * Rejected rows are kept with file, line, column, value and a reason in Chinese and English.
 * Structural problems (unreadable file, unknown encoding, missing required column, a 合计 row that
 * disagrees with its detail rows) stop the ingest with every such problem listed.
 */
import {readdir, stat} from "node:fs/promises";
import {basename, extname, join, relative, resolve, sep} from "node:path";
import {DATASETS} from "../src/schema/index.js";
import {RECOVERY_ACTIONS} from "../src/schema/actions.js";
import type {Column, Dataset, ParseContext} from "../src/schema/dataset.js";
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
import {readCsv} from "./sources/csv.js";
import {readXlsx, type RawTable} from "./sources/xlsx.js";
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
  asOf: string | null;
  /** Wall-clock time of the ingest's stages (for the benchmark). */
  timings: IngestTimings;
}

export interface IngestTimings {
  /** Step 1: listing, reading and decoding every file, parsing it and mapping its headers. */
  read_ms: number;
  /** Steps 2–3: parsing and validating every row, the cross-record rules, and the summaries. */
  validate_ms: number;
}

/** Problems that stop an ingest: each names its file. */
export class IngestError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`输入文件有 ${problems.length} 个结构性问题，未生成数据：\n- ${problems.join("\n- ")}`);
    this.name = "IngestError";
    this.problems = problems;
  }
}

const INPUT_EXTENSIONS = new Set([".csv", ".xlsx"]);

/** Expands files and folders to the input files under them (CSV and XLSX), sorted for a stable order. */
/** `报表.xlsx#工作表` names one worksheet of a workbook. */
const SHEET_SUFFIX = /^(.+\.xlsx)#([^#/\\]+)$/i;

/** Splits `path#sheet` (as {@link listInputFiles} returns it) into the path and the sheet name. */
function splitSheet(entry: string): [string, string | undefined] {
  const match = SHEET_SUFFIX.exec(entry);
  return match?.[1] ? [match[1], match[2]] : [entry, undefined];
}

/** The input files under `paths` (folders walked in name order), absolute; `x.xlsx#工作表` picks a sheet. */
export async function listInputFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  async function walk(path: string): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    const named = SHEET_SUFFIX.exec(path);
    if (!info && named?.[1] && (await stat(named[1]).catch(() => undefined))?.isFile()) {
      files.push(`${resolve(named[1])}#${named[2] ?? ""}`);
      return;
    }
    if (!info) throw new IngestError([`${path}: 文件或目录不存在`]);
    if (info.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) {
        if (entry.startsWith(".") || entry.startsWith("~$")) continue;
        const child = join(path, entry);
        if ((await stat(child)).isDirectory() || INPUT_EXTENSIONS.has(extname(entry).toLowerCase()))
          await walk(child);
      }
    } else if (INPUT_EXTENSIONS.has(extname(path).toLowerCase())) files.push(path);
    else throw new IngestError([`${path}: 不支持的文件类型（只接受 .csv 和 .xlsx）`]);
  }
  for (const path of paths) await walk(path);
  return [...new Set(files.map((f) => resolve(f)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const squash = (s: string): string => normalizeText(s).replace(/\s/g, "");

/** The names a column answers to, normalized. */
function columnNames(col: Column): string[] {
  return [col.header, ...col.aliases].map((n) => normalizeHeader(n).name);
}

interface Mapping {
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
function headerScore(ds: Dataset, texts: readonly string[], strict: boolean): number {
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

async function readTable(
  path: string,
  candidates: readonly Dataset[],
  sheet?: string
): Promise<{table: RawTable & {encoding?: string}; dataset: Dataset}> {
  const attempt = async (
    strict: boolean
  ): Promise<{table: RawTable & {encoding?: string}; dataset: Dataset}> => {
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
    const ext = extname(path).toLowerCase();
    const table =
      ext === ".xlsx"
        ? await readXlsx(path, {isHeaderRow, ...(sheet ? {sheet} : {})})
        : await readCsv(path, {isHeaderRow});
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

const TOTAL_ROW = /^(合计|总计|小计|共计|全市合计|全区合计)$/;
const NOTE_ROW = /^(注|说明|填表说明|备注|制表|填表人|审核人|联系电话)[:：]?/;

/** Classifies a row that is not data: a 合计 row or a note row below the table. */
function classifyRow(cells: readonly Cell[]): "total" | "note" | "data" {
  const filled = cells.filter((c) => !isMissing(c));
  const first = filled[0];
  if (first === undefined) return "data";
  const text = squash(cellText(first));
  if (TOTAL_ROW.test(text)) return "total";
  if (filled.length === 1 && NOTE_ROW.test(text)) return "note";
  return "data";
}

interface ParsedFile {
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
}

function todayInChina(): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit"
  }).format(new Date());
}

/** Runs the whole ingest over files and folders. Throws {@link IngestError} on structural problems. */
export async function ingest(paths: readonly string[], options: IngestOptions = {}): Promise<IngestResult> {
  const readStart = performance.now();
  const files = await listInputFiles(paths);
  if (files.length === 0) throw new IngestError([`${paths.join("、")}: 没有 .csv 或 .xlsx 输入文件`]);
  const root = resolve(options.root ?? commonRoot(files));
  const today = options.today ?? todayInChina();
  const display = (path: string): string => relative(root, path).split(sep).join("/") || basename(path);
  const problems: string[] = [];
  const seenHashes = new Map<string, string>();

  // 1. Read every file and map its headers.
  const read: {file: string; table: RawTable & {encoding?: string}; dataset: Dataset; mapping: Mapping}[] =
    [];
  const summaries: FileSummary[] = [];
  for (const entry of files) {
    const [path, sheet] = splitSheet(entry);
    const file = display(path) + (sheet === undefined ? "" : `#${sheet}`);
    try {
      const named =
        datasetFromFileName(sheet === undefined ? path : `${sheet}.xlsx`) ?? datasetFromFileName(path);
      const {table, dataset: ds} = await readTable(path, named ? [named] : DATASETS, sheet);
      const mapping = mapHeaders(ds, table.headers, table.groups);
      if (mapping.missing.length > 0) {
        problems.push(
          `${file}（${ds.label}）: 缺少必需的列：${mapping.missing.map((m) => `「${m}」`).join("、")}（表头第 ${table.headerLine} 行为：${table.headers.join("，")}）`
        );
        continue;
      }
      if (mapping.ambiguous.length > 0) {
        problems.push(`${file}: ${mapping.ambiguous.join("；")}`);
        continue;
      }
      // Two sheets of one workbook are not duplicates of each other; the same bytes sent twice are.
      const contentKey = sheet === undefined ? table.sha256 : `${table.sha256}#${sheet}`;
      const duplicateOf = seenHashes.get(contentKey);
      if (duplicateOf) {
        summaries.push({
          ...emptySummary(file, ds, table),
          duplicate_of: duplicateOf
        });
        continue;
      }
      seenHashes.set(contentKey, file);
      read.push({file, table, dataset: ds, mapping});
    } catch (error) {
      problems.push(
        error instanceof IngestError
          ? error.problems.join("；")
          : `${file}: ${(error as Error).message.replace(path, "").replace(/^:\s*/, "")}`
      );
    }
  }

  const validateStart = performance.now();
  // 2. Divisions first: they make the alias table every other dataset resolves names through.
  const order = new Map(DATASETS.map((ds, i) => [ds.name, i]));
  read.sort(
    (a, b) =>
      (order.get(a.dataset.name) ?? 0) - (order.get(b.dataset.name) ?? 0) || (a.file < b.file ? -1 : 1)
  );
  const aliasTable = new Map<string, string>();
  const parsedFiles: ParsedFile[] = [];
  for (const entry of read) {
    const parsed = parseFile(entry, aliasTable, problems);
    parsedFiles.push(parsed);
    if (entry.dataset.name === "divisions") {
      for (const {row} of parsed.rows) addDivisionAliases(aliasTable, row);
    }
  }
  if (problems.length > 0) throw new IngestError(problems);

  // 3. Cross-record rules, in dependency order.
  const tables = crossCheck(parsedFiles, today);

  const rejects = parsedFiles.flatMap((p) => p.rejects);
  const warnings = parsedFiles.flatMap((p) => p.warnings);
  for (const p of parsedFiles) {
    p.summary.rows_rejected = p.summary.rows_read - p.summary.rows_loaded;
    p.summary.reasons = countReasons(p.rejects);
    summaries.push(p.summary);
  }
  summaries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const divisionAliases = [...aliasTable.entries()]
    .map(([alias, code]) => ({alias, code}))
    .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
  return {
    tables,
    rejects: sortIssues(rejects),
    warnings: sortIssues(warnings),
    files: summaries,
    divisionAliases,
    asOf: asOfDate(tables),
    timings: {read_ms: validateStart - readStart, validate_ms: performance.now() - validateStart}
  };
}

function emptySummary(file: string, ds: Dataset, table: RawTable & {encoding?: string}): FileSummary {
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

function commonRoot(files: readonly string[]): string {
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

function addDivisionAliases(table: Map<string, string>, row: Record<string, unknown>): void {
  const code = String(row.code);
  const names = [code, String(row.name), ...(row.aliases ? String(row.aliases).split(/[、|,，;；/]/) : [])];
  if (row.insurance_code) names.push(String(row.insurance_code));
  for (const name of names) {
    const key = squash(name);
    if (key !== "" && !table.has(key)) table.set(key, code);
  }
}

function parseFile(
  entry: {file: string; table: RawTable & {encoding?: string}; dataset: Dataset; mapping: Mapping},
  aliasTable: Map<string, string>,
  problems: string[]
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

  for (const {line, cells} of table.rows) {
    const kind = classifyRow(cells);
    if (kind === "note") {
      summary.rows_skipped += 1;
      warnings.push({
        file,
        sheet,
        line,
        column: "",
        value: cellText(cells.find((c) => !isMissing(c)) ?? null),
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
    for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
      const mapped = mapping.fields.get(field);
      const cell = mapped ? (cells[mapped.index] ?? null) : null;
      if (isMissing(cell) && col.optional && col.duck !== "BOOLEAN") {
        row[field] = null;
        continue;
      }
      const parsed = col.parse(cell, {...ctxBase, unit: mapped?.unit ?? "元"});
      if (parsed.ok) row[field] = parsed.value;
      else {
        const missingRequired = isMissing(cell) && !col.optional;
        rowIssues.push({
          file,
          sheet,
          line,
          column: mapped?.header ?? col.header,
          value: cellText(cell),
          reason: missingRequired ? `「${col.header}」不能为空` : parsed.reason,
          reason_en: missingRequired ? `${col.label_en} is required` : parsed.reason_en,
          rule: missingRequired ? "required" : `invalid-${field}`
        });
      }
    }
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
    else rows.push({line, row, cells});
  }
  return {summary, dataset: ds, rows, rawOf, rejects, warnings};
}

function fieldOfHeader(ds: Dataset, header: string): string {
  return (Object.entries(ds.columns) as [string, Column][]).find(([, c]) => c.header === header)?.[0] ?? "";
}

/** Cross-record rules over all parsed files; moves failing rows to the rejects. Returns the loaded tables. */
function crossCheck(files: ParsedFile[], today: string): Map<string, LoadedRow[]> {
  const tables = new Map<string, LoadedRow[]>(DATASETS.map((ds) => [ds.name, []]));
  const byName = (name: string): ParsedFile[] => files.filter((f) => f.dataset.name === name);
  const keys = new Map<string, Map<string, Record<string, unknown>>>();

  const reject = (
    f: ParsedFile,
    line: number,
    column: string,
    value: string,
    reason: string,
    reason_en: string,
    rule: string
  ): void => {
    f.rejects.push({
      file: f.summary.file,
      sheet: f.summary.sheet,
      line,
      column,
      value,
      reason,
      reason_en,
      rule
    });
  };
  const warn = (
    f: ParsedFile,
    line: number,
    column: string,
    value: string,
    reason: string,
    reason_en: string,
    rule: string
  ): void => {
    f.warnings.push({
      file: f.summary.file,
      sheet: f.summary.sheet,
      line,
      column,
      value,
      reason,
      reason_en,
      rule
    });
  };

  for (const ds of DATASETS) {
    const seen = new Map<string, string>();
    const loaded = new Map<string, Record<string, unknown>>();
    keys.set(ds.name, loaded);
    for (const f of byName(ds.name)) {
      for (const {line, row, cells} of f.rows) {
        const key = ds.key.map((k) => String(row[k])).join("|");
        const first = seen.get(key);
        if (first) {
          reject(
            f,
            line,
            ds.columns[ds.key[0] ?? ""]?.header ?? "",
            key,
            `重复的${ds.key.map((k) => ds.columns[k]?.header).join("+")}：与 ${first} 重复`,
            `duplicate key, first seen at ${first}`,
            "duplicate-key"
          );
          continue;
        }
        const problem = referenceProblem(ds.name, row, keys, today);
        if (problem) {
          reject(
            f,
            line,
            problem.column,
            f.rawOf(cells, problem.field),
            problem.reason,
            problem.reason_en,
            problem.rule
          );
          continue;
        }
        seen.set(key, `${f.summary.file} 第 ${line} 行`);
        loaded.set(key, row);
        tables.get(ds.name)?.push({...row, source_file: f.summary.file, source_line: line});
        f.summary.rows_loaded += 1;
      }
    }
  }

  // Warnings that keep the row: recovered more than involved; findings on an inspection marked "no problem".
  const recovered = new Map<string, bigint>();
  for (const d of tables.get("dispositions") ?? []) {
    if (
      d.finding_id &&
      (RECOVERY_ACTIONS as readonly string[]).includes(String(d.action)) &&
      typeof d.amount === "bigint"
    ) {
      recovered.set(String(d.finding_id), (recovered.get(String(d.finding_id)) ?? 0n) + d.amount);
    }
  }
  const findingsById = keys.get("findings") ?? new Map();
  for (const f of byName("dispositions")) {
    const flagged = new Set<string>();
    for (const {line, row} of f.rows) {
      const id = row.finding_id === null ? undefined : String(row.finding_id);
      const finding = id ? findingsById.get(id) : undefined;
      const sum = id ? recovered.get(id) : undefined;
      if (
        id &&
        finding &&
        sum !== undefined &&
        typeof finding.amount_involved === "bigint" &&
        sum > finding.amount_involved &&
        !flagged.has(id)
      ) {
        flagged.add(id);
        warn(
          f,
          line,
          "处理金额",
          String(row.amount),
          `问题 ${id} 的追回、拒付、扣回合计 ${formatMoney(sum, {unit: "元"})}大于涉及金额 ${formatMoney(finding.amount_involved, {unit: "元"})}`,
          "recovered more than involved",
          "recovered-exceeds-involved"
        );
      }
    }
  }
  const inspectionsById = keys.get("inspections") ?? new Map();
  for (const f of byName("findings")) {
    for (const {line, row} of f.rows) {
      const inspection = inspectionsById.get(String(row.inspection_id));
      if (inspection && inspection.problem_found === false) {
        warn(
          f,
          line,
          "检查编号",
          String(row.inspection_id),
          "所属检查记录标为未发现问题",
          "inspection marked as no problem found",
          "finding-on-clean-inspection"
        );
      }
    }
  }
  return tables;
}

interface ReferenceProblem {
  field: string;
  column: string;
  reason: string;
  reason_en: string;
  rule: string;
}

const issue = (
  field: string,
  column: string,
  reason: string,
  reason_en: string,
  rule: string
): ReferenceProblem => ({
  field,
  column,
  reason,
  reason_en,
  rule
});

/** The first reference or date rule a row breaks, given the rows loaded before it. */
function referenceProblem(
  dataset: string,
  row: Record<string, unknown>,
  keys: Map<string, Map<string, Record<string, unknown>>>,
  today: string
): ReferenceProblem | undefined {
  const has = (name: string, key: unknown): boolean => keys.get(name)?.has(String(key)) ?? false;
  const future = (field: string, column: string): ReferenceProblem | undefined =>
    typeof row[field] === "string" && String(row[field]) > today
      ? issue(
          field,
          column,
          `日期在未来：${String(row[field])}（今天是 ${today}）`,
          "date in the future",
          "future-date"
        )
      : undefined;
  switch (dataset) {
    case "inspections": {
      if (!has("institutions", row.institution_code)) {
        return issue(
          "institution_code",
          "机构编码",
          `机构表中没有此机构：${String(row.institution_code)}`,
          "unknown institution",
          "unknown-institution"
        );
      }
      if (row.campaign_id !== null) {
        const campaign = keys.get("campaigns")?.get(String(row.campaign_id));
        if (!campaign)
          return issue(
            "campaign_id",
            "行动编号",
            `没有此专项行动：${String(row.campaign_id)}`,
            "unknown campaign",
            "unknown-campaign"
          );
        const d = String(row.date);
        if (d < String(campaign.start_date) || d > String(campaign.end_date)) {
          return issue(
            "date",
            "检查日期",
            `检查日期 ${d} 不在专项行动期间（${String(campaign.start_date)} 至 ${String(campaign.end_date)}）`,
            "date outside the campaign",
            "date-outside-campaign"
          );
        }
      }
      return future("date", "检查日期");
    }
    case "findings":
      return has("inspections", row.inspection_id)
        ? undefined
        : issue(
            "inspection_id",
            "检查编号",
            `检查记录中没有此检查（或该检查已被拒收）：${String(row.inspection_id)}`,
            "unknown or rejected inspection",
            "unknown-inspection"
          );
    case "dispositions":
      if (row.finding_id !== null && !has("findings", row.finding_id)) {
        return issue(
          "finding_id",
          "问题编号",
          `没有此问题（或该问题已被拒收）：${String(row.finding_id)}`,
          "unknown or rejected finding",
          "unknown-finding"
        );
      }
      if (row.inspection_id !== null && !has("inspections", row.inspection_id)) {
        return issue(
          "inspection_id",
          "检查编号",
          `没有此检查（或该检查已被拒收）：${String(row.inspection_id)}`,
          "unknown or rejected inspection",
          "unknown-inspection"
        );
      }
      return future("decided_on", "处理日期") ?? future("reported_on", "上报日期");
    case "figures":
      return has("divisions", row.unit_code)
        ? undefined
        : issue(
            "unit_code",
            "unit_code",
            `区划表中没有此单位：${String(row.unit_code)}`,
            "unknown division",
            "unknown-division"
          );
    case "weekly_reports":
      if (!has("divisions", row.division_code)) {
        return issue(
          "division_code",
          "区划",
          `区划表中没有此区划：${String(row.division_code)}`,
          "unknown division",
          "unknown-division"
        );
      }
      if (row.campaign_id !== null && !has("campaigns", row.campaign_id)) {
        return issue(
          "campaign_id",
          "行动编号",
          `没有此专项行动：${String(row.campaign_id)}`,
          "unknown campaign",
          "unknown-campaign"
        );
      }
      return future("week_ending", "统计截止日期");
    case "institutions":
      return has("divisions", row.division_code)
        ? undefined
        : issue(
            "division_code",
            "所属区划",
            `区划表中没有此区划：${String(row.division_code)}`,
            "unknown division",
            "unknown-division"
          );
    case "divisions":
      return row.parent_code !== null && !has("divisions", row.parent_code)
        ? issue(
            "parent_code",
            "上级编码",
            `上级区划不存在（上级须排在下级之前）：${String(row.parent_code)}`,
            "unknown parent division",
            "unknown-parent"
          )
        : undefined;
    default:
      return undefined;
  }
}

function countReasons(issues: readonly Issue[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const issue of issues) counts[issue.rule] = (counts[issue.rule] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function sortIssues(issues: Issue[]): Issue[] {
  return issues.sort((a, b) =>
    a.file < b.file
      ? -1
      : a.file > b.file
        ? 1
        : a.line - b.line || (a.column < b.column ? -1 : a.column > b.column ? 1 : 0)
  );
}

/** The data's as-of date: the latest weekly cut-off, inspection or decision date. */
function asOfDate(tables: Map<string, LoadedRow[]>): string | null {
  let latest: string | null = null;
  for (const [table, field] of [
    ["weekly_reports", "week_ending"],
    ["inspections", "date"],
    ["dispositions", "decided_on"]
  ] as const) {
    for (const row of tables.get(table) ?? []) {
      const value = row[field];
      if (typeof value === "string" && (latest === null || value > latest)) latest = value;
    }
  }
  return latest;
}
