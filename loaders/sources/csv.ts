/**
 * Reads a CSV file as districts send it: UTF-8 (with or without BOM) or GBK/GB18030, detected from the
 * bytes. The file is decoded whole with fatal decoders, so a character split across chunks cannot be
 * lost and bad bytes are an error with their byte offset, never U+FFFD. Title rows above the header
 * are skipped: the header is the first row `isHeaderRow` accepts. Records are d3-dsv's reading, each
 * with the physical line it starts on (`csv-records.ts`, which stageCsv also reads large files with).
 * For files under 4 MB and as the reference; large ones are staged by `csv-stage.ts`.
 */
import {createHash} from "node:crypto";
import {readFile} from "node:fs/promises";
import {csvRecords, type CsvEnd} from "./csv-records.js";
import type {RawTable} from "./xlsx.js";

/** Byte offset of the first invalid UTF-8 sequence, or -1 if the bytes are valid UTF-8. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const need =
      b < 0x80
        ? 0
        : b >= 0xc2 && b <= 0xdf
          ? 1
          : b >= 0xe0 && b <= 0xef
            ? 2
            : b >= 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; ++k) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Whether the bytes begin with the UTF-8 byte order mark EF BB BF. */
function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** Whether the invalid UTF-8 at `offset` is only a character cut short by the end of the file. */
function cutUtf8Character(bytes: Uint8Array, offset: number): boolean {
  const b = bytes[offset] ?? 0;
  const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
  if (need === 0 || offset + need < bytes.length) return false;
  return bytes.subarray(offset + 1).every((c) => (c & 0xc0) === 0x80);
}

/** Whether the bytes are GB18030 but for a two- or four-byte character cut short at the end. */
function cutGb18030Character(bytes: Uint8Array): boolean {
  const lead = (b: number | undefined): boolean => b !== undefined && b >= 0x81 && b <= 0xfe;
  const digit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
  const n = bytes.length;
  // What is left of a character: its lead byte; or the first two or three bytes of a four-byte one.
  const tails = [
    lead(bytes[n - 1]),
    lead(bytes[n - 2]) && digit(bytes[n - 1]),
    lead(bytes[n - 3]) && digit(bytes[n - 2]) && lead(bytes[n - 1])
  ];
  return tails.some((isTail, i) => {
    if (!isTail) return false;
    try {
      new TextDecoder("gb18030", {fatal: true}).decode(bytes.subarray(0, n - i - 1));
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Decodes a whole file: UTF-8 if valid, else GB18030 (a superset of GBK); else an error with the byte
 * offset (counted from 0). A file that starts with a UTF-8 BOM must be UTF-8 throughout: GBK bytes after
 * a BOM are an encoding error, never read as GBK with the BOM as two stray characters. A file that is
 * valid but for a character cut short at its very end is reported as possibly truncated.
 */
export function decodeText(bytes: Uint8Array, path: string): {text: string; encoding: "utf-8" | "gb18030"} {
  const badUtf8 = invalidUtf8Offset(bytes);
  if (badUtf8 < 0) {
    const text = new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    return {text, encoding: "utf-8"};
  }
  if (cutUtf8Character(bytes, badUtf8))
    throw new Error(
      `${path}: 文件末尾的字符不完整（字节偏移 ${badUtf8} 处起只有半个 UTF-8 字符，偏移从 0 起算）：文件可能被截断，请重新导出或重新发送`
    );
  if (hasUtf8Bom(bytes))
    throw new Error(
      `${path}: 文件编码错误：文件以 UTF-8 的 BOM（EF BB BF）开头，但字节偏移 ${badUtf8} 处（从 0 起算，值为 0x${(bytes[badUtf8] ?? 0).toString(16).toUpperCase().padStart(2, "0")}）起不是有效的 UTF-8，可能是 GBK 内容前被加了 BOM。请另存为 UTF-8 编码（或不带 BOM 的 GBK 编码）的 CSV`
    );
  try {
    return {text: new TextDecoder("gb18030", {fatal: true}).decode(bytes), encoding: "gb18030"};
  } catch {
    if (cutGb18030Character(bytes))
      throw new Error(
        `${path}: 文件末尾的字符不完整（GBK 编码的最后一个字符只有一部分，在字节偏移 ${bytes.length - 1} 附近）：文件可能被截断，请重新导出或重新发送`
      );
    throw new Error(
      `${path}: 无法识别的文件编码：既不是 UTF-8（第 ${badUtf8} 字节无效）也不是 GBK/GB18030。请另存为 UTF-8 或 GBK 编码的 CSV`
    );
  }
}

export interface ReadCsvOptions {
  /** Decides whether a row is the header row, given its cell texts (NFKC, trimmed). First match in the first 30 rows wins. */
  isHeaderRow: (texts: string[]) => boolean;
}

/** How many records from the top are searched for the header. */
export const HEADER_SEARCH_RECORDS = 30;

/**
 * The header a record is, or undefined: its texts (NFKC, trimmed) as `isHeaderRow` is given them, less
 * the empty ones at the end.
 */
export function headerOf(
  cells: readonly string[],
  isHeaderRow: ReadCsvOptions["isHeaderRow"]
): string[] | undefined {
  const texts = cells.map((c) => c.normalize("NFKC").trim());
  if (!isHeaderRow(texts)) return undefined;
  let width = texts.length;
  while (width > 0 && texts[width - 1] === "") --width;
  return texts.slice(0, width);
}

/** The first of the first {@link HEADER_SEARCH_RECORDS} records that is a header: its index and texts. */
export function findHeader(
  records: readonly (readonly string[])[],
  isHeaderRow: ReadCsvOptions["isHeaderRow"]
): {index: number; headers: string[]} | undefined {
  for (let index = 0; index < Math.min(HEADER_SEARCH_RECORDS, records.length); index++) {
    const headers = headerOf(records[index] ?? [], isHeaderRow);
    if (headers) return {index, headers};
  }
  return undefined;
}

/** The error for a file with no header in its first {@link HEADER_SEARCH_RECORDS} records. */
export function noHeader(path: string): Error {
  return new Error(`${path}: 找不到表头（前 ${HEADER_SEARCH_RECORDS} 行中没有一行与任何数据集的表头相符）`);
}

/** Whether a record holds nothing but white space (left out of the rows). */
export function isBlankRecord(cells: readonly string[]): boolean {
  return !cells.some((c) => c.trim() !== "");
}

export async function readCsv(path: string, options: ReadCsvOptions): Promise<RawTable & {encoding: string}> {
  const bytes = await readFile(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const {text, encoding} = decodeText(bytes, path);
  // Records as d3-dsv reads them, each with the line it starts on (a quoted value may span lines).
  const {records, end} = csvRecords(text);
  const all = records.map((r) => r.cells);
  const lines = records.map((r) => r.line);
  const header = findHeader(all, options.isHeaderRow);
  if (header === undefined) throw noHeader(path);
  const {index: headerIndex, headers} = header;
  const width = headers.length;
  const lastIndex = all.length - 1;
  const truncated = truncation(
    end,
    lastIndex > headerIndex
      ? {
          line: lines[lastIndex] ?? lastIndex + 1,
          fields: all[lastIndex]?.length ?? 0,
          shortBefore: all
            .slice(headerIndex + 1, lastIndex)
            .some((row) => row.length < width && !isBlankRecord(row))
        }
      : undefined,
    width,
    path
  );
  const rows = all
    .slice(headerIndex + 1)
    .map((cells, i) => ({line: lines[headerIndex + 1 + i] ?? headerIndex + i + 2, cells}))
    .filter(({cells}) => !isBlankRecord(cells))
    .map(({line, cells}) => ({
      line,
      cells: Array.from(
        {length: Math.max(width, cells.length)},
        (_, c) => (cells[c] === undefined || cells[c] === "" ? null : cells[c]) ?? null
      )
    }));
  return {
    file: path,
    sha256,
    format: "csv",
    encoding,
    headerLine: lines[headerIndex] ?? headerIndex + 1,
    headers,
    groups: headers.map(() => ""),
    rows,
    date1904: false,
    ...(truncated ? {truncated} : {})
  };
}

/**
 * Whether the CSV looks cut off, and where, from the end of its text and its last record after the
 * header (`last`: its line, its number of fields, and whether a non-blank data record before it is
 * shorter than the header; undefined when there is none). Two signs, nothing else (a file that merely lacks a final
 * line break is common and fine):
 * - the text ends inside a quoted value (an opening `"` with no closing one): the last row is cut.
 *   If that value runs over more than one line, the rows after the quote cannot be told apart from
 *   the value: an error for the whole file (a cut-off file, or one stray quote).
 * - the text does not end with a line break and its last row has fewer fields than the header while
 *   every other data row has them all: the row was cut (a writer that leaves out trailing empty
 *   fields shows it on other rows too, and is then given the benefit of the doubt).
 */
export function truncation(
  end: CsvEnd,
  last: {line: number; fields: number; shortBefore: boolean} | undefined,
  width: number,
  path: string
): RawTable["truncated"] {
  if (last === undefined) return undefined;
  const {line, fields} = last;
  if (end.openQuoteLine !== undefined) {
    if (end.lastLine > end.openQuoteLine)
      throw new Error(
        `${path}: 第 ${end.openQuoteLine} 行有一个以引号（"）开头的值没有结束引号，其后直到文件末尾第 ${end.lastLine} 行都被读成了这一个值：文件可能被截断，或此处多了一个引号。请检查该行后重新导出`
      );
    return {
      line,
      column: fields - 1,
      reason: `文件可能被截断：最后一个值以引号（"）开头却没有结束引号，此值可能不完整`,
      reason_en: "file may be truncated: the last value's opening quote is never closed"
    };
  }
  if (end.endsWithBreak || fields >= width || last.shortBefore) return undefined;
  return shortLastRow(line, fields, width);
}

/** The verdict on a last row with no line break after it and fewer fields than the header. */
export function shortLastRow(
  line: number,
  fields: number,
  width: number
): NonNullable<RawTable["truncated"]> {
  return {
    line,
    column: fields - 1,
    reason: `文件可能被截断：文件最后一行没有换行结尾，且只有 ${fields} 列（表头有 ${width} 列，其他各行都齐全），最后一个值可能不完整`,
    reason_en: `file may be truncated: the last line has no line break and only ${fields} of ${width} fields`
  };
}
