// Outputs safe to open: every CSV and XLSX the project writes is read back with exceljs the way a
// spreadsheet reads it (text beginning with = + - @, a tab or a carriage return becomes a formula) and no
// cell is a formula; the district's text is kept (after the quote, and exactly in 原值（原样）).
import {spawnSync} from "node:child_process";
import {mkdtemp, mkdir, readdir, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Readable} from "node:stream";
import {csvFormatRows} from "d3";
import {DuckDBInstance} from "@duckdb/node-api";
import ExcelJS from "exceljs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {Issue} from "../../loaders/ingest.js";
import {ISSUES_CSV_HEADER, issuesCsv} from "../../loaders/outputs.js";
import {templateFiles} from "../../scripts/gen-templates.js";
import {exactText, isFormulaLike, safeCell} from "../../src/format/spreadsheet.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** Values a district could send that a spreadsheet would run, and ordinary ones. */
const HOSTILE = [
  '=HYPERLINK("http://x","y")',
  "+1+1",
  "-2+3",
  "@SUM(A1)",
  "\t=1",
  "\r=1",
  "-5",
  "＝1+1",
  "=cmd|' /C calc'!A0"
] as const;
const ORDINARY = ["-", "兴庆区", "不存在区", "银川\u200B市", "'已加引号", ""] as const;

/**
 * What a spreadsheet makes of a CSV field when it opens the file: text beginning with a formula character
 * becomes a formula (Excel, WPS, LibreOffice); otherwise text (exceljs' own reader never makes a formula,
 * so a plain `csv.read` could not catch a dangerous cell).
 */
function asSpreadsheet(datum: string): ExcelJS.CellValue {
  if (datum === "") return null;
  return isFormulaLike(datum)
    ? ({formula: datum.replace(/^[\t\r]+/, "").slice(1)} as ExcelJS.CellFormulaValue)
    : datum;
}

/** The cells of a CSV text (BOM dropped) as a spreadsheet holds them after opening it. */
async function openCsv(text: string): Promise<ExcelJS.Worksheet> {
  const workbook = new ExcelJS.Workbook();
  return workbook.csv.read(Readable.from([text.replace(/^\uFEFF/, "")]), {map: asSpreadsheet} as never);
}

/** Every cell of every sheet: its address, type and value. */
function cellsOf(sheets: ExcelJS.Worksheet[]): {where: string; cell: ExcelJS.Cell}[] {
  const cells: {where: string; cell: ExcelJS.Cell}[] = [];
  for (const sheet of sheets)
    sheet.eachRow({includeEmpty: false}, (row) =>
      row.eachCell({includeEmpty: false}, (cell) =>
        cells.push({where: `${sheet.name}!${cell.address}`, cell})
      )
    );
  return cells;
}

/** Cells a spreadsheet runs: formula cells, and text that would become one when edited or saved as CSV. */
function formulaCells(sheets: ExcelJS.Worksheet[]): string[] {
  return cellsOf(sheets)
    .filter(
      ({cell}) =>
        cell.type === ExcelJS.ValueType.Formula ||
        cell.formula !== undefined ||
        (typeof cell.value === "string" && isFormulaLike(cell.value))
    )
    .map(({where, cell}) => `${where}: ${JSON.stringify(cell.value)}`);
}

const issue = (value: string, extra: Partial<Issue> = {}): Issue => ({
  file: "机构.csv",
  sheet: null,
  line: 3,
  column: "所属区划",
  value,
  reason: `未知区划「${value}」`,
  reason_en: "unknown division",
  rule: "invalid-division_code",
  ...extra
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-safe-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe("safeCell, isFormulaLike and exactText", () => {
  it("quote exactly the text a spreadsheet would run, and keep the rest", () => {
    for (const v of HOSTILE) {
      expect(isFormulaLike(v), v).toBe(true);
      expect(safeCell(v)).toBe(`'${v}`);
    }
    expect(ORDINARY.filter((v) => v !== "-").map(safeCell)).toEqual(ORDINARY.filter((v) => v !== "-"));
    // A lone "-" (a missing marker) is quoted too: the rule is the first character, nothing else.
    expect(safeCell("-")).toBe("'-");
    // Numbers from a district are text; "-5" is quoted like "-2+3".
    expect(safeCell("-5")).toBe("'-5");
  });
  it("exactText is a JSON string that never starts a formula, shows invisible characters and parses back", () => {
    for (const v of [...HOSTILE, ...ORDINARY, "\u202Eabc", "a\u0085b", "😀", "\uD800"]) {
      const text = exactText(v);
      expect(text.startsWith('"'), v).toBe(true);
      expect(JSON.parse(text)).toBe(v);
      expect(text, v).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    }
    expect(exactText("银川\u200B市")).toBe('"银川\\u200b市"');
    expect(exactText("\r=1")).toBe('"\\r=1"');
    expect(exactText("😀")).toBe('"😀"');
  });
});

describe("rejects.csv and warnings.csv", () => {
  const values = [...HOSTILE, ...ORDINARY];
  const issues = values.map((v, i) =>
    issue(v, {line: i + 2, ...(i === 0 ? {file: "=危险.csv", column: "@列", sheet: "-表"} : {})})
  );

  it("the check itself finds a formula in an unprotected CSV (so it can fail)", async () => {
    const unsafe = csvFormatRows([["原值"], ...values.map((v) => [v])]);
    expect(formulaCells([await openCsv(unsafe)]).length).toBe(HOSTILE.length);
  });

  it("have no cell a spreadsheet runs; each text is kept after the quote and exactly in 原值（原样）", async () => {
    const sheet = await openCsv(issuesCsv(issues));
    expect(formulaCells([sheet])).toEqual([]);
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual([...ISSUES_CSV_HEADER]);
    const col = (name: string): number => ISSUES_CSV_HEADER.indexOf(name as never) + 1;
    const unquote = (cell: ExcelJS.CellValue): string => {
      const text = cell === null ? "" : String(cell as string);
      return text.startsWith("'") && isFormulaLike(text.slice(1)) ? text.slice(1) : text;
    };
    values.forEach((v, i) => {
      const row = sheet.getRow(i + 2);
      expect(unquote(row.getCell(col("原值")).value), JSON.stringify(v)).toBe(v);
      expect(JSON.parse(String(row.getCell(col("原值（原样）")).value)), JSON.stringify(v)).toBe(v);
      expect(row.getCell(col("规则")).value).toBe("「所属区划」或「区划」填写有误");
      expect(row.getCell(col("规则编号")).value).toBe("invalid-division_code");
    });
    const first = sheet.getRow(2);
    expect([col("文件"), col("工作表"), col("列")].map((c) => first.getCell(c).value)).toEqual([
      "'=危险.csv",
      "'-表",
      "'@列"
    ]);
    // Hand-checked: a hostile value is quoted in 原值 and its reason starts with Chinese text.
    expect(first.getCell(col("原值")).value).toBe(`'=HYPERLINK("http://x","y")`);
  });

  it("name the rule of a warning in Chinese, its id beside it", async () => {
    const warnings = [issue("-2+3", {rule: "note-row", column: "", reason: "说明行，未作为数据读取"})];
    const sheet = await openCsv(issuesCsv(warnings));
    expect(formulaCells([sheet])).toEqual([]);
    const row = (sheet.getRow(2).values as unknown[]).slice(1);
    expect(row.slice(-2)).toEqual(["说明行（未作为数据读取）", "note-row"]);
  });

  it("npm run ingest writes them safe to open, and the DuckDB file keeps the raw values", async () => {
    const input = join(dir, "input");
    await mkdir(input, {recursive: true});
    const hostile = [...HOSTILE];
    await writeFile(
      join(input, "区划.csv"),
      csvFormatRows([
        ["区划编码", "区划名称", "上级编码", "层级", "单位类型", "定点医疗机构数", "定点零售药店数"],
        ["640000", "宁夏回族自治区", "", "省", "行政区划", "", ""],
        ["640100", "银川市", "640000", "市", "行政区划", "", ""],
        ["640104", "兴庆区", "640100", "县", "行政区划", "9", "0"]
      ]) + "\n"
    );
    await writeFile(
      join(input, "机构.csv"),
      csvFormatRows([
        ["机构编码", "机构名称", "所属区划", "机构类型", "机构等级", "经营性质"],
        ...hostile.map((v, i) => [`H6401040000${i}`, `医院${i}`, v, "医院", "三级", "公立"])
      ]) + "\n"
    );
    const out = join(dir, "out");
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(ROOT, "scripts", "ingest.ts"),
        input,
        "--out",
        out,
        "--today",
        "2024-09-30",
        "--previous",
        "none"
      ],
      {cwd: ROOT, encoding: "utf-8"}
    );
    // Two files, nearly every row rejected: the completeness gates fail (exit 3), and the outputs are
    // written all the same, for the office to look at — which is what is checked here.
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/拒收比例过高：机构\.csv/);
    const text = await readFile(join(out, "rejects.csv"), "utf-8");
    const sheet = await openCsv(text);
    expect(formulaCells([sheet])).toEqual([]);
    const raw = ISSUES_CSV_HEADER.indexOf("原值（原样）") + 1;
    const shown = [];
    for (let i = 2; i <= sheet.rowCount; ++i)
      shown.push(JSON.parse(String(sheet.getRow(i).getCell(raw).value)));
    expect(shown.sort()).toEqual([...hostile].sort());
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(`ATTACH '${join(out, "fundwatch.duckdb")}' AS f (READ_ONLY)`);
      const rows = (
        await conn.runAndReadAll("SELECT value, rule, rule_name FROM f.rejects")
      ).getRowObjectsJS();
      expect(rows.map((x) => x.value).sort()).toEqual([...hostile].sort());
      expect(new Set(rows.map((x) => `${String(x.rule)} ${String(x.rule_name)}`))).toEqual(
        new Set(["invalid-division_code 「所属区划」填写有误"])
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    for (const name of ["warnings.csv"]) {
      expect(formulaCells([await openCsv(await readFile(join(out, name), "utf-8"))])).toEqual([]);
    }
  }, 60_000);
});

/** Decodes a CSV the way the loaders do: UTF-8 (BOM or not), else GBK. */
function decode(bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", {fatal: true}).decode(bytes);
  } catch {
    return new TextDecoder("gb18030").decode(bytes);
  }
}

async function openXlsx(bytes: Buffer): Promise<ExcelJS.Worksheet[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as never);
  return workbook.worksheets;
}

describe("the other CSV and XLSX files the project writes", () => {
  it("the fill-in templates (generated now, and as committed in templates/) have no formula cell", async () => {
    const files = await templateFiles();
    const committed = await readdir(join(ROOT, "templates"));
    expect(committed.filter((f) => /\.(csv|xlsx)$/.test(f)).sort()).toEqual(
      [...files.keys()].filter((f) => /\.(csv|xlsx)$/.test(f)).sort()
    );
    let cells = 0;
    for (const [name, bytes] of files) {
      for (const source of [bytes, await readFile(join(ROOT, "templates", name))]) {
        let sheets: ExcelJS.Worksheet[];
        if (name.endsWith(".xlsx")) sheets = await openXlsx(source);
        else if (name.endsWith(".csv")) sheets = [await openCsv(decode(source))];
        else continue;
        expect(formulaCells(sheets), name).toEqual([]);
        cells += cellsOf(sheets).length;
      }
    }
    expect(cells).toBeGreaterThan(100);
  });
  it("the generated default data (npm run gen:data, data/ningxia) has no formula cell and no formula-like text", async () => {
    // gen:data imitates what districts send (inputs, not outputs for analysts); it writes no formula,
    // and its text never begins with a formula character.
    const folder = join(ROOT, "data", "ningxia");
    const names = (await readdir(folder)).filter((f) => /\.(csv|xlsx)$/.test(f));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const bytes = await readFile(join(folder, name));
      const sheets = name.endsWith(".xlsx") ? await openXlsx(bytes) : [await openCsv(decode(bytes))];
      expect(formulaCells(sheets), name).toEqual([]);
    }
  }, 60_000);
});
