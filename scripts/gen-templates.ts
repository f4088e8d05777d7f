/**
 * `npm run gen:templates [-- --check]`
 *
 * Writes the fill-in templates districts use into `templates/`, generated from the column DSL in
 * `src/schema/` so that they never drift from what the loaders accept: per input dataset a UTF-8 CSV
 * (with BOM, so Excel opens it as UTF-8) and an XLSX (title, header, example rows, a 填写说明 sheet,
 * drop-down lists for enumerations), plus `templates/README.md`. Money headers carry their unit
 * (`涉及金额（元）`), which the loaders read back as the column's unit.
 *
 * The output is byte-deterministic: the workbook's dates are fixed, and the timestamps the zip writer
 * (JSZip, inside exceljs) stamps on every entry are overwritten with the same fixed date.
 *
 * `--check` writes nothing: it exits 1 listing the files in `templates/` that differ from what the
 * schemas give (missing, changed or stale), 0 if all are up to date.
 */
import {mkdir, readFile, readdir, rename, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";
import {csvFormatRow} from "d3";
import ExcelJS from "exceljs";
import {fixZipTimestamps} from "./zip-time.js";
import {safeCell} from "../src/format/spreadsheet.js";
import {DATASETS} from "../src/schema/index.js";
import type {Column, Dataset} from "../src/schema/dataset.js";
import {NINGXIA} from "./gen-data.js";

/** Where the templates live. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../templates/", import.meta.url));

/** The date stamped on every generated workbook and zip entry, so that output depends on the schemas only. */
export const FIXED_DATE = new Date("2024-01-01T00:00:00Z");

/**
 * Datasets that are not district forms: 通报数字 (`figures`) holds the figures a published circular
 * gives, transcribed by the office that checks them, with English headers; no district fills it in.
 */
const REFERENCE_ONLY = new Set(["figures"]);

/** The datasets districts fill in, in dependency order. */
export function inputDatasets(): Dataset[] {
  return DATASETS.filter((ds) => !REFERENCE_ONLY.has(ds.name));
}

/** The header a template gives a column: money columns carry their unit, `涉及金额（元）`. */
export function templateHeader(col: Column): string {
  return col.duck === "BIGINT" ? `${col.header}（元）` : col.header;
}

/** The values a column allows, if it is an enumeration or a yes/no column. */
function allowedValues(col: Column): readonly string[] | undefined {
  return col.values ?? (col.duck === "BOOLEAN" ? ["是", "否"] : undefined);
}

type ExampleRow = Record<string, string>;

/**
 * The example rows of a dataset's template, each a field → text record. One row, from each column's
 * `example`; except divisions, where a county can only be loaded after its parents, so the example
 * county is preceded by its city and province (from the Ningxia table `npm run gen:data` uses).
 */
export function exampleRows(ds: Dataset): ExampleRow[] {
  const columns = Object.entries(ds.columns) as [string, Column][];
  const example: ExampleRow = Object.fromEntries(columns.map(([field, col]) => [field, col.example]));
  if (ds.name !== "divisions") return [example];
  const ancestors: ExampleRow[] = [];
  let parent = example.parent_code ?? "";
  while (parent !== "") {
    const place = NINGXIA.find((p) => p.code === parent);
    if (place === undefined)
      throw new Error(`行政区划示例的上级编码 ${parent} 不在宁夏区划表（scripts/gen-data.ts）中`);
    const row: ExampleRow = Object.fromEntries(columns.map(([field]) => [field, ""]));
    Object.assign(row, {
      code: place.code,
      name: place.name,
      parent_code: place.parent ?? "",
      level: place.level,
      kind: place.kind
    });
    ancestors.unshift(row);
    parent = place.parent ?? "";
  }
  return [...ancestors, example];
}

/** The template file names of a dataset: its Chinese label, which `datasetFromFileName` maps back to it. */
export function templateNames(ds: Dataset): {csv: string; xlsx: string} {
  return {csv: `${ds.label}.csv`, xlsx: `${ds.label}.xlsx`};
}

// ---------------------------------------------------------------------------------------------------
// CSV

/** A UTF-8 CSV with BOM and CRLF line ends: the header row, then the example rows (each cell `safeCell`ed). */
export function csvTemplate(ds: Dataset): Buffer {
  const columns = Object.entries(ds.columns) as [string, Column][];
  const lines = [
    columns.map(([, col]) => templateHeader(col)),
    ...exampleRows(ds).map((row) => columns.map(([field]) => row[field] ?? ""))
  ];
  return Buffer.from(
    `\uFEFF${lines.map((line) => csvFormatRow(line.map(safeCell))).join("\r\n")}\r\n`,
    "utf8"
  );
}

// ---------------------------------------------------------------------------------------------------
// XLSX

/** Rows the data sheet's column formats and drop-down lists cover. */
const FORM_ROWS = 1000;
const TITLE_ROW = 1;
const HEADER_ROW = 2;
const FIRST_DATA_ROW = 3;

const THIN = {style: "thin", color: {argb: "FFBFBFBF"}} as const;
const BORDER: Partial<ExcelJS.Borders> = {top: THIN, left: THIN, bottom: THIN, right: THIN};
const fill = (argb: string): ExcelJS.Fill => ({type: "pattern", pattern: "solid", fgColor: {argb}});
const REQUIRED_FILL = fill("FFFCE4D6");
const OPTIONAL_FILL = fill("FFEDEDED");

/** Display width of a text in Excel column units: CJK and full-width characters count double. */
function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += (char.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return width;
}

/** An example text as the typed cell Excel would hold: numbers for counts and money, dates for dates, else safe text. */
function cellValue(col: Column, text: string): ExcelJS.CellValue {
  if (text === "") return null;
  if (col.duck === "DATE" && /^\d{4}-\d{2}-\d{2}$/.test(text)) return new Date(`${text}T00:00:00Z`);
  if (
    (col.duck === "INTEGER" || col.duck === "DOUBLE" || col.duck === "BIGINT") &&
    /^\d+(\.\d+)?$/.test(text)
  ) {
    return Number(text);
  }
  return safeCell(text);
}

/** The number format a column's cells get: text for codes and names (keeps leading zeros), dates as dates. */
function columnFormat(col: Column): string | undefined {
  if (col.duck === "VARCHAR") return "@";
  if (col.duck === "DATE") return "yyyy-mm-dd";
  if (col.duck === "BIGINT") return "0.00";
  return undefined;
}

/** exceljs has `worksheet.dataValidations.add(range, …)` (one rule for a range) but does not declare it. */
interface WithRangeValidations {
  dataValidations: {add(address: string, validation: ExcelJS.DataValidation): void};
}

/** A list rule's formula: the values quoted and comma-separated (Excel caps it at 255 characters). */
function listFormula(values: readonly string[]): string {
  const formula = `"${values.join(",")}"`;
  if (formula.length > 255 || values.some((v) => /[,"]/.test(v)))
    throw new Error(`下拉列表过长或含逗号：${formula}`);
  return formula;
}

function addDataSheet(workbook: ExcelJS.Workbook, ds: Dataset): void {
  const columns = Object.entries(ds.columns) as [string, Column][];
  const examples = exampleRows(ds);
  const ws = workbook.addWorksheet(ds.label, {
    views: [{state: "frozen", xSplit: 0, ySplit: HEADER_ROW, topLeftCell: "A3"}]
  });

  columns.forEach(([field, col], i) => {
    const column = ws.getColumn(i + 1);
    const texts = [templateHeader(col), ...examples.map((row) => row[field] ?? "")];
    column.width = Math.min(40, Math.max(10, ...texts.map(textWidth)) + 4);
    const numFmt = columnFormat(col);
    if (numFmt !== undefined) column.numFmt = numFmt;
  });

  const title = ws.getRow(TITLE_ROW);
  title.getCell(1).value = `${ds.label}填报模板`;
  title.getCell(1).font = {bold: true, size: 14};
  title.getCell(1).alignment = {horizontal: "center", vertical: "middle"};
  title.height = 28;
  ws.mergeCells(TITLE_ROW, 1, TITLE_ROW, columns.length);

  const header = ws.getRow(HEADER_ROW);
  columns.forEach(([, col], i) => {
    const cell = header.getCell(i + 1);
    cell.value = safeCell(templateHeader(col));
    cell.font = {bold: true};
    cell.fill = col.optional ? OPTIONAL_FILL : REQUIRED_FILL;
    cell.border = BORDER;
    cell.alignment = {horizontal: "center", vertical: "middle", wrapText: true};
  });
  header.height = 22;

  examples.forEach((example, r) => {
    const row = ws.getRow(FIRST_DATA_ROW + r);
    columns.forEach(([field, col], i) => {
      row.getCell(i + 1).value = cellValue(col, example[field] ?? "");
    });
  });

  columns.forEach(([, col], i) => {
    const values = allowedValues(col);
    if (values === undefined) return;
    const letter = ws.getColumn(i + 1).letter;
    (ws as unknown as WithRangeValidations).dataValidations.add(
      `${letter}${FIRST_DATA_ROW}:${letter}${FORM_ROWS}`,
      {
        type: "list",
        allowBlank: true,
        formulae: [listFormula(values)],
        showInputMessage: true,
        promptTitle: col.header.slice(0, 32),
        prompt: `${col.optional ? "选填" : "必填"}：${values.join("、")}`.slice(0, 255),
        showErrorMessage: true,
        // A warning, not a stop: the loaders also accept the usual other spellings (三甲 for 三级).
        errorStyle: "warning",
        errorTitle: "不在可选值中",
        error: `可选值：${values.join("、")}`.slice(0, 255)
      }
    );
  });
}

/** One line per column for the 填写说明 sheet and the README: 列名, 必填/选填, 说明, 可选值, 示例. */
function columnNotes(ds: Dataset): string[][] {
  return (Object.values(ds.columns) as Column[]).map((col) => {
    const aliases = col.aliases.length > 0 ? `（表头也可写作：${col.aliases.join("、")}）` : "";
    return [
      templateHeader(col),
      col.optional ? "选填" : "必填",
      `${col.description}${aliases}`,
      allowedValues(col)?.join("、") ?? "",
      col.example
    ];
  });
}

/** The general notes on filling in a form, shared by the 填写说明 sheet and the README. */
const FILLING_NOTES = [
  "表头请勿改动；列的顺序可以调整，选填列可以删除。",
  "示例行仅供参考，报送前请删除或用实际数据覆盖。",
  "金额表头中的单位（元）可改为万元或亿元，未写单位的数值按表头单位换算；数值本身也可带单位，如 182.69万。",
  "日期写作 2024-06-12、2024/6/12 或 2024年6月12日；是否类的列写“是”或“否”。",
  "可选值列请从下拉列表中选择；常见的其他写法（如“三甲”）也能识别，但不做模糊匹配。",
  "区划可写编码、名称或别名，须在行政区划表中；编码类的列（机构编码、检查编号等）须与被引用的表一致。",
  "空白、“-”、“/”、“无”表示没有填写（“是否”类的列中“无”表示“否”）；必填列不能为空。",
  "文件名中宜含数据集名称（如“兴庆区检查记录2024年6月.xlsx”），系统据此识别文件属于哪个数据集，否则按表头判断；Excel 文件只读取第一个工作表。"
];

function addNotesSheet(workbook: ExcelJS.Workbook, ds: Dataset): void {
  const ws = workbook.addWorksheet("填写说明");
  const widths = [24, 10, 60, 40, 24];
  widths.forEach((width, i) => (ws.getColumn(i + 1).width = width));

  ws.getCell(1, 1).value = `${ds.label}填写说明`;
  ws.getCell(1, 1).font = {bold: true, size: 14};
  ws.mergeCells(1, 1, 1, widths.length);
  ws.getCell(2, 1).value = safeCell(ds.description);
  ws.mergeCells(2, 1, 2, widths.length);

  const header = ws.getRow(4);
  ["列名", "必填/选填", "说明", "可选值", "示例"].forEach((text, i) => {
    const cell = header.getCell(i + 1);
    cell.value = text;
    cell.font = {bold: true};
    cell.fill = OPTIONAL_FILL;
    cell.border = BORDER;
  });
  const notes = columnNotes(ds);
  notes.forEach((line, r) => {
    const row = ws.getRow(5 + r);
    line.forEach((text, i) => {
      const cell = row.getCell(i + 1);
      cell.value = safeCell(text);
      cell.border = BORDER;
      cell.alignment = {vertical: "top", wrapText: true};
      if (i === 1 && text === "必填") cell.fill = REQUIRED_FILL;
    });
  });

  let r = 5 + notes.length + 1;
  ws.getCell(r, 1).value = "注意事项";
  ws.getCell(r, 1).font = {bold: true};
  for (const [i, note] of [`橙色表头为必填列，灰色表头为选填列。`, ...FILLING_NOTES].entries()) {
    r += 1;
    ws.getCell(r, 1).value = `${i + 1}. ${note}`;
    ws.mergeCells(r, 1, r, widths.length);
  }
  r += 2;
  ws.getCell(r, 1).value = "本模板由 npm run gen:templates 根据 src/schema/ 自动生成，请勿手工修改模板结构。";
  ws.getCell(r, 1).font = {italic: true, color: {argb: "FF808080"}};
  ws.mergeCells(r, 1, r, widths.length);
}

/** The XLSX template of a dataset. */
export async function xlsxTemplate(ds: Dataset): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "Fundwatch";
  workbook.lastModifiedBy = "Fundwatch";
  workbook.created = FIXED_DATE;
  workbook.modified = FIXED_DATE;
  workbook.title = `${ds.label}填报模板`;
  addDataSheet(workbook, ds);
  addNotesSheet(workbook, ds);
  workbook.views = [
    {x: 0, y: 0, width: 20000, height: 12000, firstSheet: 0, activeTab: 0, visibility: "visible"}
  ];
  const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
  return fixZipTimestamps(bytes, FIXED_DATE);
}

// ---------------------------------------------------------------------------------------------------
// README

const cellMd = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** `templates/README.md`: how districts fill the forms, one section per dataset. */
export function readme(): string {
  const datasets = inputDatasets();
  const lines: string[] = [
    "# 填报模板",
    "",
    "> 本目录中的文件由 `npm run gen:templates` 根据 `src/schema/` 中的数据模型自动生成，**请勿手工修改**。",
    "> 要修改列、说明或示例，请修改 `src/schema/*.ts`，再运行 `npm run gen:templates`；",
    "> `npm run gen:templates -- --check` 和单元测试会检查本目录是否与数据模型一致。",
    "",
    "## 如何填报",
    "",
    "每个数据集一个模板，有 CSV 和 Excel（.xlsx）两种格式，内容相同，任选其一填报。",
    "Excel 模板第 1 行为标题，第 2 行为表头，第 3 行起为示例；第二个工作表“填写说明”列出每一列的要求。",
    "CSV 模板为 UTF-8 编码（带 BOM，Excel 可直接打开），第 1 行为表头，第 2 行起为示例；另存时 UTF-8 或 GBK 编码均可。",
    "",
    ...FILLING_NOTES.map((note, i) => `${i + 1}. ${note}`),
    "",
    `各表按以下顺序校验，后面的表只能引用前面的表中已有的记录（如检查记录的机构编码须在定点医药机构表中，违规问题的检查编号须在检查记录中）：${datasets.map((ds) => ds.label).join(" → ")}。`,
    "",
    "| 数据集 | 说明 | CSV | Excel |",
    "| --- | --- | --- | --- |",
    ...datasets.map((ds) => {
      const names = templateNames(ds);
      return `| ${ds.label}（${ds.name}） | ${cellMd(ds.description)} | [${names.csv}](${names.csv}) | [${names.xlsx}](${names.xlsx}) |`;
    })
  ];
  for (const ds of datasets) {
    const names = templateNames(ds);
    lines.push("", `## ${ds.label}（${ds.name}）`, "", `${ds.description}。`, "");
    lines.push(`模板：[${names.csv}](${names.csv})、[${names.xlsx}](${names.xlsx})。`);
    lines.push(
      `文件名宜含以下任一词语：${[ds.label, ds.name, ...ds.fileWords].map((w) => `“${w}”`).join("、")}。`
    );
    const key = ds.key.map((k) => (ds.columns[k] as Column | undefined)?.header ?? k).join(" + ");
    lines.push(`每行由“${key}”唯一确定，重复的行不予接收。`);
    if (ds.name === "divisions") {
      lines.push("", "上级区划须排在下级之前，因此示例在兴庆区之前列出了宁夏回族自治区和银川市两行。");
    }
    lines.push("", "| 列名 | 必填 | 说明 | 可选值 | 示例 |", "| --- | --- | --- | --- | --- |");
    for (const note of columnNotes(ds)) lines.push(`| ${note.map(cellMd).join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------
// All files, check and write

/** Every file of `templates/`, by name, as the schemas give it now. */
export async function templateFiles(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const ds of inputDatasets()) {
    const names = templateNames(ds);
    files.set(names.csv, csvTemplate(ds));
    files.set(names.xlsx, await xlsxTemplate(ds));
  }
  files.set("README.md", Buffer.from(readme(), "utf8"));
  return files;
}

export interface TemplateDrift {
  missing: string[];
  changed: string[];
  /** Files in the folder the generator does not produce. */
  stale: string[];
}

/** Compares `dir` with what the schemas give. */
export async function checkTemplates(
  dir: string = TEMPLATE_DIR,
  files?: Map<string, Buffer>
): Promise<TemplateDrift> {
  const expected = files ?? (await templateFiles());
  const present = new Set(
    (await readdir(dir).catch(() => [] as string[])).filter((name) => !name.startsWith("."))
  );
  const drift: TemplateDrift = {missing: [], changed: [], stale: []};
  for (const [name, bytes] of expected) {
    if (!present.has(name)) drift.missing.push(name);
    else if (!bytes.equals(await readFile(join(dir, name)))) drift.changed.push(name);
  }
  drift.stale = [...present].filter((name) => !expected.has(name)).sort();
  return drift;
}

/** Writes what changed, each file atomically (temp file, then rename), and removes stale files. */
export async function writeTemplates(dir: string = TEMPLATE_DIR): Promise<TemplateDrift> {
  const files = await templateFiles();
  await mkdir(dir, {recursive: true});
  const drift = await checkTemplates(dir, files);
  for (const name of [...drift.missing, ...drift.changed]) {
    const bytes = files.get(name);
    if (bytes === undefined) continue;
    const temp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(temp, bytes);
    await rename(temp, join(dir, name));
  }
  for (const name of drift.stale) await rm(join(dir, name), {recursive: true, force: true});
  return drift;
}

function describeDrift(drift: TemplateDrift): string[] {
  return [
    ...drift.missing.map((name) => `缺少：templates/${name}`),
    ...drift.changed.map((name) => `与数据模型不一致：templates/${name}`),
    ...drift.stale.map((name) => `多余（数据模型不生成此文件）：templates/${name}`)
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg !== "--check")) {
    console.error("用法：npm run gen:templates [-- --check]");
    process.exit(2);
  }
  if (args.includes("--check")) {
    const problems = describeDrift(await checkTemplates());
    if (problems.length > 0) {
      console.error(
        `[fundwatch] 填报模板与 src/schema/ 不一致，请运行 npm run gen:templates：\n- ${problems.join("\n- ")}`
      );
      process.exit(1);
    }
    console.error("[fundwatch] 填报模板与数据模型一致");
  } else {
    const changes = describeDrift(await writeTemplates());
    console.error(
      changes.length === 0
        ? "[fundwatch] 填报模板已是最新，未改动"
        : `[fundwatch] 已更新 templates/ 中 ${changes.length} 个文件：\n- ${changes.join("\n- ")}`
    );
  }
}
