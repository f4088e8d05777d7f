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

/** Decodes a whole file: UTF-8 if valid, else GB18030 (a superset of GBK); else an error with the byte offset. */
export function decodeText(bytes: Uint8Array, path: string): {text: string; encoding: "utf-8" | "gb18030"} {
  const badUtf8 = invalidUtf8Offset(bytes);
  if (badUtf8 < 0) {
    const text = new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    return {text, encoding: "utf-8"};
  }
  try {
    return {text: new TextDecoder("gb18030", {fatal: true}).decode(bytes), encoding: "gb18030"};
  } catch {
    throw new Error(
      `${path}: 无法识别的文件编码：既不是 UTF-8（第 ${badUtf8} 字节无效）也不是 GBK/GB18030。请另存为 UTF-8 或 GBK 编码的 CSV`
    );
  }
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
    date1904: false
  };
}
