/**
 * Reads a whole CSV file as districts send it: UTF-8 (with or without BOM) or, failing that,
 * GB18030 (a superset of GBK). The file is decoded whole with a fatal decoder, so a character
 * split across chunks cannot be lost and bad bytes are an error, never U+FFFD.
 */
import {createHash} from "node:crypto";
import {readFile} from "node:fs/promises";
import {csvParseRows} from "d3";

export interface CsvFile {
  path: string;
  sha256: string;
  encoding: "utf-8" | "gb18030";
  header: string[];
  /** Data rows with their 1-based line number in the file (the header is line 1). */
  rows: {line: number; cells: string[]}[];
}

export function decodeText(bytes: Uint8Array, path: string): {text: string; encoding: CsvFile["encoding"]} {
  try {
    return {text: new TextDecoder("utf-8", {fatal: true, ignoreBOM: false}).decode(bytes), encoding: "utf-8"};
  } catch {
    try {
      return {text: new TextDecoder("gb18030", {fatal: true}).decode(bytes), encoding: "gb18030"};
    } catch {
      throw new Error(`${path}: 文件既不是有效的 UTF-8 也不是有效的 GB18030/GBK 编码`);
    }
  }
}

export async function readCsv(path: string): Promise<CsvFile> {
  const bytes = await readFile(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const {text, encoding} = decodeText(bytes, path);
  const all = csvParseRows(text);
  const header = (all[0] ?? []).map((h) => h.normalize("NFKC").trim());
  if (header.length === 0 || header.every((h) => h === "")) throw new Error(`${path}: 文件为空或缺少表头`);
  const rows = all
    .slice(1)
    .map((cells, i) => ({line: i + 2, cells}))
    .filter(({cells}) => cells.some((c) => c.trim() !== ""));
  return {path, sha256, encoding, header, rows};
}
