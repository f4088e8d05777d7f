/**
 * Reads a CSV file as districts send it: UTF-8 (with or without BOM) or GBK/GB18030, detected from the
 * bytes. The file is decoded whole with fatal decoders, so a character split across chunks cannot be
 * lost and bad bytes are an error with their byte offset, never U+FFFD. Title rows above the header
 * are skipped: the header is the first row `isHeaderRow` accepts.
 */
import {createHash} from "node:crypto";
import {readFile} from "node:fs/promises";
import {csvParseRows} from "d3";
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

/** Where a CSV text ends inside a quoted value (d3-dsv's reading: a field that starts with `"`), or -1. */
export function unterminatedQuote(text: string): number {
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let j = i + 1;
      for (;;) {
        const k = text.indexOf('"', j);
        if (k < 0) return i;
        if (text.charCodeAt(k + 1) === 34) j = k + 2;
        else {
          i = k + 1;
          break;
        }
      }
    }
    // To the end of the field: a comma, \n, \r or \r\n.
    for (let c = text.charCodeAt(i); i < n && c !== 44 && c !== 10 && c !== 13; c = text.charCodeAt(++i));
    if (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10) ++i;
    ++i;
  }
  return -1;
}

/**
 * The physical line (1-based) on which each CSV record starts. A quoted field may span lines, so the
 * record index alone would give wrong line numbers for every record after it. Line ends are \n, \r\n
 * or \r, as d3-dsv reads them.
 */
export function recordStartLines(text: string): number[] {
  const starts = [1];
  let line = 1;
  let quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    else if (c === 10 /* \n */ || c === 13 /* \r */) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) ++i;
      ++line;
      if (!quoted) starts.push(line);
    }
  }
  return starts;
}

export interface ReadCsvOptions {
  /** Decides whether a row is the header row, given its cell texts (NFKC, trimmed). First match in the first 30 rows wins. */
  isHeaderRow: (texts: string[]) => boolean;
}

export async function readCsv(path: string, options: ReadCsvOptions): Promise<RawTable & {encoding: string}> {
  const bytes = await readFile(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const {text, encoding} = decodeText(bytes, path);
  const body = text.replace(/^\uFEFF/, "");
  const all = csvParseRows(body);
  const lines = recordStartLines(body);
  const normalized = (row: string[]): string[] => row.map((c) => c.normalize("NFKC").trim());
  const headerIndex = all.slice(0, 30).findIndex((row) => options.isHeaderRow(normalized(row)));
  if (headerIndex < 0) throw new Error(`${path}: 找不到表头（前 30 行中没有一行与任何数据集的表头相符）`);
  const headerRow = normalized(all[headerIndex] ?? []);
  let width = headerRow.length;
  while (width > 0 && headerRow[width - 1] === "") --width;
  const headers = headerRow.slice(0, width);
  const truncated = truncation(body, all, lines, headerIndex, width, path);
  const rows = all
    .slice(headerIndex + 1)
    .map((cells, i) => ({line: lines[headerIndex + 1 + i] ?? headerIndex + i + 2, cells}))
    .filter(({cells}) => cells.some((c) => c.trim() !== ""))
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

/** The 1-based physical line on which character `index` of `text` stands. */
function physicalLine(text: string, index: number): number {
  return recordStartLines(text.slice(0, index).replaceAll('"', "")).length;
}

/**
 * Whether the CSV looks cut off, and where. Two signs, nothing else (a file that merely lacks a final
 * line break is common and fine):
 * - the text ends inside a quoted value (an opening `"` with no closing one): the last row is cut.
 *   If that value runs over more than one line, the rows after the quote cannot be told apart from
 *   the value: an error for the whole file (a cut-off file, or one stray quote).
 * - the text does not end with a line break and its last row has fewer fields than the header while
 *   every other data row has them all: the row was cut (a writer that leaves out trailing empty
 *   fields shows it on other rows too, and is then given the benefit of the doubt).
 */
function truncation(
  body: string,
  all: readonly string[][],
  lines: readonly number[],
  headerIndex: number,
  width: number,
  path: string
): RawTable["truncated"] {
  const lastIndex = all.length - 1;
  const last = all[lastIndex];
  if (last === undefined || lastIndex <= headerIndex) return undefined;
  const line = lines[lastIndex] ?? lastIndex + 1;
  const quoteAt = unterminatedQuote(body);
  if (quoteAt >= 0) {
    const startLine = physicalLine(body, quoteAt);
    const endLine = physicalLine(body, body.replace(/[\r\n]+$/, "").length);
    if (endLine > startLine)
      throw new Error(
        `${path}: 第 ${startLine} 行有一个以引号（"）开头的值没有结束引号，其后直到文件末尾第 ${endLine} 行都被读成了这一个值：文件可能被截断，或此处多了一个引号。请检查该行后重新导出`
      );
    return {
      line,
      column: last.length - 1,
      reason: `文件可能被截断：最后一个值以引号（"）开头却没有结束引号，此值可能不完整`,
      reason_en: "file may be truncated: the last value's opening quote is never closed"
    };
  }
  if (/[\r\n]$/.test(body) || last.length >= width) return undefined;
  const others = all.slice(headerIndex + 1, lastIndex).filter((row) => row.some((c) => c.trim() !== ""));
  if (others.some((row) => row.length < width)) return undefined;
  return {
    line,
    column: last.length - 1,
    reason: `文件可能被截断：文件最后一行没有换行结尾，且只有 ${last.length} 列（表头有 ${width} 列，其他各行都齐全），最后一个值可能不完整`,
    reason_en: `file may be truncated: the last line has no line break and only ${last.length} of ${width} fields`
  };
}
