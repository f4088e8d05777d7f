/**
 * Reads one worksheet of an .xlsx workbook as district offices send it: title rows above the header,
 * one- or two-row (merged) headers, merged data cells, formulas with cached results, 1900 or 1904 dates.
 *
 * exceljs does the parsing. A small read of the raw package parts fills three gaps in exceljs 4.4.0:
 * `date1904="true"` (valid OOXML, e.g. from Apache POI) is read as the 1900 system; a formula's cached
 * empty string (`<v></v>`, e.g. from `=IF(A2="","",…)`) looks like no cached value at all; and a
 * date-formatted formula whose result is text, an error or a boolean is turned into a bogus Date.
 */
import {createHash} from "node:crypto";
import {readFile} from "node:fs/promises";
import {inflateRawSync} from "node:zlib";
import ExcelJS from "exceljs";
import type {Cell, CellValue, Worksheet} from "exceljs";

/** A cell as read: text, number, boolean, Date, empty, or an Excel error / unusable formula. */
export type RawCell = string | number | boolean | Date | null | {error: string};

export interface RawTable {
  /** The path as given to the reader. */
  file: string;
  /** Sheet name (xlsx only). */
  sheet?: string;
  /** sha256 hex of the file bytes. */
  sha256: string;
  /** "xlsx" for this reader. */
  format: "csv" | "xlsx";
  /** 1-based sheet row number of the header row (the lowest header row if the header spans two rows). */
  headerLine: number;
  /** One text per column: the header row's text for that column ("" if empty). Merged cells resolve to their master's text. Trimmed, NFKC-normalized. */
  headers: string[];
  /** One text per column: the text of the group row directly above the header row when that row holds group headers
   *  (merged cells spanning some but not all columns, e.g. "金额" over "追回(元)" and "罚款(元)"), else "". Same normalization. */
  groups: string[];
  /** Data rows below the header, with their 1-based sheet row number; rows whose cells are all empty are left out. cells.length === headers.length. */
  rows: {line: number; cells: RawCell[]}[];
  /** Whether the workbook uses the 1904 date system. */
  date1904: boolean;
  /** Rows (xlsx) with a value to the right of the header's last column: the row, the first such value and its 0-based column. Such a
   *  row is in `rows` even if all its cells under the header are empty, so that the ingest can refuse it (a value is never dropped). */
  beyond?: {line: number; column: number; value: RawCell}[];
  /** A CSV whose last row looks cut off (the file may be truncated): that row's line, the 0-based index of the cut value, and why. */
  truncated?: {line: number; column: number; reason: string; reason_en: string};
}

export interface ReadXlsxOptions {
  /** Sheet to read by name; default: the first worksheet in which a header row is found (so an instructions sheet in front is passed over). A named sheet that does not exist is an error naming the file, the sheet and the sheets that exist. */
  sheet?: string;
  /** Decides whether a row is the header row, given that row's cell texts (merged cells resolved to the master's text, NFKC, trimmed). The first row (scanning from the top, at most the first 30 rows) for which it returns true is the header row. */
  isHeaderRow: (texts: string[]) => boolean;
}

/** How many rows from the top are searched for the header. */
const HEADER_SEARCH_ROWS = 30;
const NO_CACHED_VALUE = "公式没有缓存值";
const DAY_MS = 86_400_000;
/** Days between the 1900 and 1904 date systems' epochs. */
const DAYS_1904 = 1462;

/** A formula cell as written in the sheet XML: its `t` attribute and the text of `<v>` (undefined: no `<v>`). */
interface RawFormula {
  type: string;
  value: string | undefined;
}

/** What the raw package says; undefined where it could not be read (then exceljs is trusted). */
interface RawParts {
  date1904: boolean | undefined;
  /** Formula cells of the chosen sheet by address, e.g. "B7". */
  formulas: Map<string, RawFormula> | undefined;
}

/** Reads one worksheet of the workbook at `path` into a {@link RawTable}. */
export async function readXlsx(path: string, options: ReadXlsxOptions): Promise<RawTable> {
  const workbook = new ExcelJS.Workbook();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${path}: 无法读取 Excel 文件（${message}）：文件不存在或没有读取权限`, {cause: error});
  }
  let loadError: unknown;
  try {
    // exceljs's typings declare their own `Buffer extends ArrayBuffer`; at run time it takes a Node Buffer.
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (error) {
    loadError = error;
  }
  // A workbook exceljs read with its sheets is one (a zip64 package included, which the check below cannot read).
  const loaded = loadError === undefined && workbook.worksheets.length > 0;
  const problem = loaded
    ? undefined
    : (notAWorkbook(bytes) ?? (loadError === undefined ? undefined : "工作簿已损坏，无法解析"));
  if (problem !== undefined) {
    // The library's own words stay in brackets for whoever debugs it; the reason is said in Chinese.
    const message =
      loadError === undefined
        ? ""
        : `（${isOle2(bytes) ? "这是旧版 .xls 文件或加密的工作簿，请在 Excel 中另存为 .xlsx；" : ""}${libraryMessage(loadError)}）`;
    throw new Error(`${path}: 无法读取 Excel 文件${message}。不是有效的 Excel 工作簿（.xlsx）：${problem}`, {
      cause: loadError
    });
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");

  const sheets = workbook.worksheets;
  if (options.sheet !== undefined && !sheets.some((ws) => ws.name === options.sheet)) {
    const names = sheets.map((ws) => `“${ws.name}”`).join("、");
    throw new Error(`${path}: 找不到工作表“${options.sheet}”，文件中的工作表有：${names || "（无）"}`);
  }
  if (sheets.length === 0) throw new Error(`${path}: 文件中没有工作表`);
  // A named sheet; otherwise the first sheet with a header row (an instructions sheet in front is passed over).
  const candidates = options.sheet === undefined ? sheets : sheets.filter((ws) => ws.name === options.sheet);
  for (const worksheet of candidates) {
    const raw = readRawParts(bytes, worksheet.name);
    const date1904 = raw.date1904 ?? workbook.properties.date1904 === true;
    // exceljs converted date-formatted numbers with its own idea of the date system; shift if it was wrong.
    const shiftMs = date1904 && workbook.properties.date1904 !== true ? DAYS_1904 * DAY_MS : 0;
    const read = (cell: Cell | undefined): RawCell => readCell(cell, raw.formulas, shiftMs);
    const texts = (row: number, columns?: number): string[] => rowTexts(worksheet, row, read, columns);
    for (let r = 1; r <= Math.min(HEADER_SEARCH_ROWS, worksheet.rowCount); r++) {
      const rowText = texts(r);
      if (rowText.length > 0 && options.isHeaderRow(rowText)) {
        return tableFrom(worksheet, r, rowText, {path, sha256, date1904, read, texts});
      }
    }
  }
  const where =
    candidates.length === 1
      ? `（工作表“${candidates[0]?.name ?? ""}”）`
      : `（${candidates.length} 个工作表：${candidates.map((ws) => `“${ws.name}”`).join("、")}）`;
  throw new Error(`${path}${where}: 前 ${HEADER_SEARCH_ROWS} 行中找不到表头`);
}

function tableFrom(
  worksheet: Worksheet,
  headerLine: number,
  headers: string[],
  ctx: {
    path: string;
    sha256: string;
    date1904: boolean;
    read: (cell: Cell | undefined) => RawCell;
    texts: (row: number, columns?: number) => string[];
  }
): RawTable {
  const {path, sha256, date1904, read, texts} = ctx;
  const columns = headers.length;

  let groups = headers.map(() => "");
  if (headerLine > 1 && isGroupRow(worksheet, headerLine - 1, columns)) {
    const above = texts(headerLine - 1, columns);
    groups = headers.map((header, i) => (above[i] === header ? "" : (above[i] ?? "")));
  }

  const rows: RawTable["rows"] = [];
  const beyond: NonNullable<RawTable["beyond"]> = [];
  for (let r = headerLine + 1; r <= worksheet.rowCount; r++) {
    const cells: RawCell[] = [];
    for (let c = 1; c <= columns; c++) cells.push(read(worksheet.findCell(r, c)));
    const stray = firstBeyond(worksheet, r, columns, read);
    if (stray) beyond.push({line: r, ...stray});
    if (stray || cells.some((cell) => !isBlank(cell))) rows.push({line: r, cells});
  }

  return {
    file: path,
    sheet: worksheet.name,
    sha256,
    format: "xlsx",
    headerLine,
    headers,
    groups,
    rows,
    date1904,
    ...(beyond.length > 0 ? {beyond} : {})
  };
}

/** An error's message without the library's help links. */
function libraryMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*If it is, see \S+/, "").trim();
}

/**
 * Why `bytes` cannot be an .xlsx workbook, in Chinese, or undefined if they look like one: an empty
 * file, an old .xls (or encrypted workbook), a PDF, a web page, a text file, a cut-off zip, or a zip
 * that holds no workbook (a Word or PowerPoint file renamed).
 */
export function notAWorkbook(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return "文件为空（0 字节）";
  if (isOle2(bytes))
    return "文件是旧版 Office 格式（OLE2：Excel 97-2003 的 .xls、Word 的 .doc，或设置了打开密码的工作簿），请在 Excel 中另存为 .xlsx";
  const head = bytes.subarray(0, 1024).toString("latin1");
  if (head.startsWith("%PDF")) return "文件是 PDF 文档，不是 Excel 工作簿";
  if (!head.startsWith("PK")) {
    const start = head.replace(/^(\xef\xbb\xbf|\s)+/, "").toLowerCase();
    if (start.startsWith("<"))
      return "文件内容是网页（HTML）或 XML 文本，不是 .xlsx（有的系统导出的“Excel”其实是网页，请用 Excel 打开后另存为 .xlsx）";
    return looksLikeText(bytes)
      ? "文件不是 zip 压缩包，内容是文本（可能是 CSV 或 TXT 文件改成了 .xlsx 扩展名；CSV 请保留 .csv 扩展名）"
      : "文件不是 zip 压缩包（.xlsx 文件以 PK 开头），可能是其他类型的文件改了扩展名";
  }
  let directory: Map<string, ZipEntry>;
  try {
    directory = zipDirectory(bytes);
  } catch {
    directory = new Map();
  }
  if (directory.size === 0)
    return "zip 压缩包不完整（找不到结尾的文件目录），文件可能被截断，或在传输、解压中损坏";
  if (directory.has("xl/workbook.xml")) return undefined;
  if (directory.has("word/document.xml")) return "这是 Word 文档（.docx）改成了 .xlsx 扩展名";
  if (directory.has("ppt/presentation.xml")) return "这是 PowerPoint 演示文稿（.pptx）改成了 .xlsx 扩展名";
  return "这是 zip 压缩包，但其中没有 Excel 工作簿（缺少 xl/workbook.xml）";
}

/** Whether the first bytes read as text: no NUL and few control bytes. */
function looksLikeText(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return false;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) control += 1;
  }
  return control <= sample.length / 100;
}

/**
 * The first value of `row` to the right of the header's `columns` (its 0-based column), so that a value
 * outside the table is seen, never dropped. A merged cell that starts inside the table and spreads
 * beyond it is not a value of its own there.
 */
function firstBeyond(
  worksheet: Worksheet,
  row: number,
  columns: number,
  read: (cell: Cell | undefined) => RawCell
): {column: number; value: RawCell} | undefined {
  const count = worksheet.findRow(row)?.cellCount ?? 0;
  for (let c = columns + 1; c <= count; c++) {
    const cell = worksheet.findCell(row, c);
    if (cell === undefined || cell.master !== cell) continue;
    const value = read(cell);
    if (!isBlank(value)) return {column: c - 1, value};
  }
  return undefined;
}

/** Whether the bytes are an OLE2 compound file: an old .xls, or an encrypted .xlsx. */
function isOle2(bytes: Buffer): boolean {
  return bytes.length >= 8 && bytes.readUInt32BE(0) === 0xd0cf11e0 && bytes.readUInt32BE(4) === 0xa1b11ae1;
}

/** Texts of a row's cells (masters' texts for merged cells), NFKC, trimmed; trailing empty texts dropped unless `columns` is given. */
function rowTexts(
  worksheet: Worksheet,
  row: number,
  read: (cell: Cell | undefined) => RawCell,
  columns?: number
): string[] {
  const count = columns ?? worksheet.findRow(row)?.cellCount ?? 0;
  const texts: string[] = [];
  for (let c = 1; c <= count; c++) texts.push(cellText(read(worksheet.findCell(row, c))));
  if (columns === undefined) while (texts.length > 0 && texts[texts.length - 1] === "") texts.pop();
  return texts;
}

/**
 * Whether `row` holds group headers over the header row below it: a merge that spans at least two but
 * not all of the first `columns` columns of `row` and does not reach down into the header row.
 */
function isGroupRow(worksheet: Worksheet, row: number, columns: number): boolean {
  const spans = new Map<Cell, number>();
  for (let c = 1; c <= columns; c++) {
    const cell = worksheet.findCell(row, c);
    if (cell === undefined || !cell.isMerged) continue;
    const master = cell.master;
    if (worksheet.findCell(row + 1, c)?.master === master) continue;
    spans.set(master, (spans.get(master) ?? 0) + 1);
  }
  return [...spans.values()].some((n) => n >= 2 && n < columns);
}

function isBlank(cell: RawCell): boolean {
  return cell === null || (typeof cell === "string" && cell.trim() === "");
}

/** The text a header cell shows, NFKC-normalized and trimmed. */
function cellText(cell: RawCell): string {
  let text: string;
  if (cell === null) text = "";
  else if (cell instanceof Date) text = dateText(cell);
  else if (typeof cell === "object") text = cell.error;
  else text = String(cell);
  return text.normalize("NFKC").trim();
}

function dateText(date: Date): string {
  if (Number.isNaN(date.getTime())) return "";
  const iso = date.toISOString();
  return date.getTime() % DAY_MS === 0 ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
}

/** A cell's value; merged cells give their master's value. */
function readCell(
  cell: Cell | undefined,
  formulas: Map<string, RawFormula> | undefined,
  shiftMs: number
): RawCell {
  if (cell === undefined) return null;
  const master = cell.master;
  const value: CellValue = master.value;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    if ("formula" in value || "sharedFormula" in value) {
      return formulaResult(value.result, formulas?.get(master.address), shiftMs);
    }
  }
  return plainValue(value, shiftMs);
}

/** A formula's cached result, from the raw XML where exceljs loses or garbles it. */
function formulaResult(result: unknown, raw: RawFormula | undefined, shiftMs: number): RawCell {
  if (raw !== undefined) {
    if (raw.value === undefined) return {error: NO_CACHED_VALUE};
    if (raw.type === "str" || raw.type === "inlineStr") return decodeXml(raw.value);
    if (raw.type === "e") return {error: decodeXml(raw.value).trim()};
    if (raw.type === "b") return raw.value.trim() === "1" || raw.value.trim() === "true";
    if (raw.value.trim() === "") return null;
  }
  if (result === undefined) return {error: NO_CACHED_VALUE};
  return plainValue(result, shiftMs);
}

/** A non-formula value (or a formula's result) as a {@link RawCell}. */
function plainValue(value: unknown, shiftMs: number): RawCell {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) {
    const time = value.getTime() + shiftMs;
    return Number.isNaN(time) ? {error: "无法识别的日期"} : new Date(time);
  }
  if (typeof value === "object") {
    if ("error" in value) return {error: String(value.error)};
    if ("richText" in value) return richText(value.richText);
    if ("text" in value) {
      const text = value.text;
      if (typeof text === "string") return text;
      if (text !== null && typeof text === "object" && "richText" in text) return richText(text.richText);
    }
  }
  return {error: "无法识别的单元格内容"};
}

function richText(runs: unknown): string {
  if (!Array.isArray(runs)) return "";
  return runs
    .map((run: unknown) =>
      run !== null && typeof run === "object" && "text" in run && typeof run.text === "string" ? run.text : ""
    )
    .join("");
}

// ---------------------------------------------------------------------------------------------------
// Raw package parts. Best effort: anything unreadable yields undefined and exceljs's reading stands.

function readRawParts(zip: Buffer, sheetName: string): RawParts {
  const parts: RawParts = {date1904: undefined, formulas: undefined};
  try {
    const directory = zipDirectory(zip);
    const workbookXml = zipText(zip, directory, "xl/workbook.xml");
    if (workbookXml === undefined) return parts;
    const workbookPr = /<(?:[\w.-]+:)?workbookPr\b([^>]*)>/.exec(workbookXml);
    const flag = attributes(workbookPr?.[1] ?? "")
      .get("date1904")
      ?.trim();
    parts.date1904 = flag === "1" || flag === "true";

    const relsXml = zipText(zip, directory, "xl/_rels/workbook.xml.rels") ?? "";
    const targets = new Map<string, string>();
    for (const match of relsXml.matchAll(/<(?:[\w.-]+:)?Relationship\b([^>]*)>/g)) {
      const attrs = attributes(match[1] ?? "");
      const id = attrs.get("Id");
      const target = attrs.get("Target");
      if (id !== undefined && target !== undefined) targets.set(id, target);
    }
    for (const match of workbookXml.matchAll(/<(?:[\w.-]+:)?sheet\b([^>]*)>/g)) {
      const attrs = attributes(match[1] ?? "");
      if (attrs.get("name") !== sheetName) continue;
      const target = targets.get(attrs.get("r:id") ?? "");
      // The same path resolution as exceljs's.
      const sheetXml = target && zipText(zip, directory, `xl/${target.replace(/^(\s|\/xl\/)+/, "")}`);
      if (sheetXml) parts.formulas = formulaCells(sheetXml);
      break;
    }
  } catch {
    // Unreadable parts: exceljs's reading stands.
  }
  return parts;
}

/** The formula cells of a sheet's XML, by address. */
function formulaCells(sheetXml: string): Map<string, RawFormula> {
  const formulas = new Map<string, RawFormula>();
  for (const match of sheetXml.matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
    const inner = match[2];
    if (inner === undefined || !/<f\b/.test(inner)) continue;
    const attrs = attributes(match[1] ?? "");
    const address = attrs.get("r");
    if (address === undefined) continue;
    const v = /<v\b[^>]*?(?:\/>|>([\s\S]*?)<\/v>)/.exec(inner);
    formulas.set(address, {type: attrs.get("t") ?? "n", value: v === null ? undefined : (v[1] ?? "")});
  }
  return formulas;
}

/** An element's attributes by (qualified) name, values XML-decoded. */
function attributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const match of text.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs.set(match[1] ?? "", decodeXml(match[2] ?? match[3] ?? ""));
  }
  return attrs;
}

const XML_ENTITIES: Record<string, string> = {lt: "<", gt: ">", amp: "&", quot: '"', apos: "'"};

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (entity, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return XML_ENTITIES[name] ?? entity;
  });
}

interface ZipEntry {
  method: number;
  size: number;
  offset: number;
}

/** The central directory of a zip file (not zip64), by entry name without a leading "/". */
function zipDirectory(zip: Buffer): Map<string, ZipEntry> {
  const directory = new Map<string, ZipEntry>();
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) return directory;
  const count = zip.readUInt16LE(end + 10);
  let p = zip.readUInt32LE(end + 16);
  for (let k = 0; k < count && zip.readUInt32LE(p) === 0x02014b50; k++) {
    const nameLength = zip.readUInt16LE(p + 28);
    const name = zip.toString("utf8", p + 46, p + 46 + nameLength).replace(/^\//, "");
    directory.set(name, {
      method: zip.readUInt16LE(p + 10),
      size: zip.readUInt32LE(p + 20),
      offset: zip.readUInt32LE(p + 42)
    });
    p += 46 + nameLength + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return directory;
}

/** A stored or deflated zip entry as UTF-8 text; undefined if absent or compressed otherwise. */
function zipText(zip: Buffer, directory: Map<string, ZipEntry>, name: string): string | undefined {
  const entry = directory.get(name);
  if (entry === undefined || zip.readUInt32LE(entry.offset) !== 0x04034b50) return undefined;
  const start = entry.offset + 30 + zip.readUInt16LE(entry.offset + 26) + zip.readUInt16LE(entry.offset + 28);
  const data = zip.subarray(start, start + entry.size);
  if (entry.method === 0) return data.toString("utf8");
  if (entry.method === 8) return inflateRawSync(data).toString("utf8");
  return undefined;
}
