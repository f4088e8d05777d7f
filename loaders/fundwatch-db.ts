/**
 * Builds the site's database file from an input folder: reads each CSV, validates every row,
 * keeps every rejected row with file, line, column and reason, and writes units, recoveries,
 * rejects and a meta table (inputs with sha256 and row counts, generation time).
 */
import {createReadStream} from "node:fs";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {basename, join, relative} from "node:path";
import {pipeline} from "node:stream/promises";
import type {Writable} from "node:stream";
import {parseAmount} from "../src/parse/amount.js";
import {recoverySchema, type Recovery} from "../src/schema/recoveries.js";
import {unitSchema, type Unit} from "../src/schema/units.js";
import {readCsv, type CsvFile} from "./csv.js";
import {writeDuckDBFile, type TableSpec} from "./duckdb-file.js";

export interface Reject {
  file: string;
  line: number;
  column: string;
  value: string;
  reason: string;
}

export interface InputSummary {
  file: string;
  sha256: string;
  encoding: string;
  rows_read: number;
  rows_loaded: number;
  rows_rejected: number;
}

export interface BuildResult {
  units: Unit[];
  recoveries: Recovery[];
  rejects: Reject[];
  inputs: InputSummary[];
}

/** Maps required Chinese headers to column indexes; a missing header fails the whole file. */
function columnIndex(csv: CsvFile, required: readonly string[], file: string): Map<string, number> {
  const index = new Map<string, number>();
  for (const name of required) {
    const i = csv.header.indexOf(name);
    if (i < 0) throw new Error(`${file}: 缺少必需的列「${name}」（表头为：${csv.header.join("，")}）`);
    index.set(name, i);
  }
  return index;
}

function cell(cells: string[], index: Map<string, number>, name: string): string {
  const i = index.get(name);
  return i === undefined ? "" : (cells[i] ?? "").trim();
}

const UNIT_COLUMNS = {
  单位编码: "code",
  单位名称: "name",
  上级编码: "parent_code",
  层级: "level",
  类型: "kind"
} as const;
const RECOVERY_COLUMNS = {
  单位编码: "unit_code",
  处理方式: "action",
  金额: "amount_fen",
  期间: "period",
  备注: "note"
} as const;

function headerFor<T extends Record<string, string>>(columns: T, field: string): string {
  return Object.entries(columns).find(([, f]) => f === field)?.[0] ?? field;
}

export async function readInputs(inputDir: string): Promise<BuildResult> {
  const rejects: Reject[] = [];
  const inputs: InputSummary[] = [];

  const unitsPath = join(inputDir, "units.csv");
  const unitsFile = basename(unitsPath);
  const unitsCsv = await readCsv(unitsPath);
  const ui = columnIndex(unitsCsv, Object.keys(UNIT_COLUMNS), unitsFile);
  const units: Unit[] = [];
  for (const {line, cells} of unitsCsv.rows) {
    const parent = cell(cells, ui, "上级编码");
    const parsed = unitSchema.safeParse({
      code: cell(cells, ui, "单位编码"),
      name: cell(cells, ui, "单位名称"),
      parent_code: parent === "" ? null : parent,
      level: cell(cells, ui, "层级"),
      kind: cell(cells, ui, "类型")
    });
    if (parsed.success) units.push(parsed.data);
    else {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? "");
        const column = headerFor(UNIT_COLUMNS, field);
        rejects.push({file: unitsFile, line, column, value: cell(cells, ui, column), reason: issue.message});
      }
    }
  }
  const knownUnits = new Set(units.map((u) => u.code));
  inputs.push({
    file: unitsFile,
    sha256: unitsCsv.sha256,
    encoding: unitsCsv.encoding,
    rows_read: unitsCsv.rows.length,
    rows_loaded: units.length,
    rows_rejected: unitsCsv.rows.length - units.length
  });

  const recPath = join(inputDir, "recoveries.csv");
  const recFile = basename(recPath);
  const recCsv = await readCsv(recPath);
  const ri = columnIndex(recCsv, Object.keys(RECOVERY_COLUMNS), recFile);
  const recoveries: Recovery[] = [];
  for (const {line, cells} of recCsv.rows) {
    const rowRejects: Reject[] = [];
    const amountText = cell(cells, ri, "金额");
    const amount = parseAmount(amountText);
    if (!amount.ok)
      rowRejects.push({file: recFile, line, column: "金额", value: amountText, reason: amount.reason});
    const unitCode = cell(cells, ri, "单位编码");
    if (!knownUnits.has(unitCode)) {
      rowRejects.push({
        file: recFile,
        line,
        column: "单位编码",
        value: unitCode,
        reason: "未知单位编码（不做模糊匹配）"
      });
    }
    const parsed = recoverySchema.safeParse({
      unit_code: unitCode,
      action: cell(cells, ri, "处理方式"),
      amount_fen: amount.ok ? amount.fen : 0n,
      stated_as: amountText,
      period: cell(cells, ri, "期间"),
      note: cell(cells, ri, "备注")
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? "");
        if (field === "amount_fen" && !amount.ok) continue;
        const column = headerFor(RECOVERY_COLUMNS, field);
        rowRejects.push({file: recFile, line, column, value: cell(cells, ri, column), reason: issue.message});
      }
    }
    if (rowRejects.length === 0 && parsed.success) recoveries.push(parsed.data);
    else rejects.push(...rowRejects);
  }
  inputs.push({
    file: recFile,
    sha256: recCsv.sha256,
    encoding: recCsv.encoding,
    rows_read: recCsv.rows.length,
    rows_loaded: recoveries.length,
    rows_rejected: recCsv.rows.length - recoveries.length
  });

  return {units, recoveries, rejects, inputs};
}

export function toTables(result: BuildResult, generatedAt: Date, source: string): TableSpec[] {
  return [
    {
      name: "units",
      columns: [
        {name: "code", type: "VARCHAR"},
        {name: "name", type: "VARCHAR"},
        {name: "parent_code", type: "VARCHAR"},
        {name: "level", type: "VARCHAR"},
        {name: "kind", type: "VARCHAR"}
      ],
      rows: result.units.map((u) => [u.code, u.name, u.parent_code, u.level, u.kind])
    },
    {
      name: "recoveries",
      columns: [
        {name: "unit_code", type: "VARCHAR"},
        {name: "action", type: "VARCHAR"},
        {name: "amount_fen", type: "BIGINT"},
        {name: "stated_as", type: "VARCHAR"},
        {name: "period", type: "VARCHAR"},
        {name: "note", type: "VARCHAR"}
      ],
      rows: result.recoveries.map((r) => [r.unit_code, r.action, r.amount_fen, r.stated_as, r.period, r.note])
    },
    {
      name: "rejects",
      columns: [
        {name: "file", type: "VARCHAR"},
        {name: "line", type: "INTEGER"},
        {name: "column_name", type: "VARCHAR"},
        {name: "value", type: "VARCHAR"},
        {name: "reason", type: "VARCHAR"}
      ],
      rows: result.rejects.map((r) => [r.file, r.line, r.column, r.value, r.reason])
    },
    {
      name: "inputs",
      columns: [
        {name: "file", type: "VARCHAR"},
        {name: "sha256", type: "VARCHAR"},
        {name: "encoding", type: "VARCHAR"},
        {name: "rows_read", type: "INTEGER"},
        {name: "rows_loaded", type: "INTEGER"},
        {name: "rows_rejected", type: "INTEGER"}
      ],
      rows: result.inputs.map((i) => [
        i.file,
        i.sha256,
        i.encoding,
        i.rows_read,
        i.rows_loaded,
        i.rows_rejected
      ])
    },
    {
      name: "meta",
      columns: [
        {name: "key", type: "VARCHAR"},
        {name: "value", type: "VARCHAR"}
      ],
      rows: [
        ["generated_at", generatedAt.toISOString()],
        ["source", source]
      ]
    }
  ];
}

/** The default input folder, and the one `FUNDWATCH_DATA_DIR` points to when set. */
export function inputDirectory(projectRoot: string): string {
  return process.env.FUNDWATCH_DATA_DIR ?? join(projectRoot, "data", "yinchuan-2018");
}

/**
 * Runs the whole loader: reads and validates the inputs, writes the database file to a temporary
 * folder, then copies its bytes to `out` (a data loader's stdout). Logs go to stderr.
 */
export async function buildDatabaseTo(out: Writable, projectRoot: string): Promise<BuildResult> {
  const inputDir = inputDirectory(projectRoot);
  const result = await readInputs(inputDir);
  for (const input of result.inputs) {
    console.error(
      `[fundwatch] ${input.file}: 读取 ${input.rows_read} 行，载入 ${input.rows_loaded} 行，拒收 ${input.rows_rejected} 行（${input.encoding}）`
    );
  }
  for (const r of result.rejects)
    console.error(`[fundwatch] 拒收 ${r.file} 第 ${r.line} 行「${r.column}」：${r.reason}`);
  if (result.units.length === 0) throw new Error(`${inputDir}: 没有可载入的单位`);
  const source = process.env.FUNDWATCH_DATA_SOURCE ?? "银川市医疗保障局2018年打击欺诈骗保专项行动通报";
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-"));
  try {
    const file = join(dir, "fundwatch.duckdb");
    await writeDuckDBFile(file, toTables(result, new Date(), source));
    await pipeline(createReadStream(file), out, {end: false});
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
  console.error(`[fundwatch] 输入目录 ${relative(projectRoot, inputDir) || "."}`);
  return result;
}
