// The CSV adapter: encodings detected from the bytes, title rows skipped, and line numbers that are
// the lines a person sees in an editor, even after a quoted field that spans lines.
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readCsv} from "../../loaders/sources/csv.js";
import {csvRecords} from "../../loaders/sources/csv-records.js";
import {encodeGbk} from "../../scripts/gen-data.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-csv-"));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});
const isHeaderRow = (texts: string[]) => texts.includes("问题编号");

async function read(name: string, bytes: string | Buffer) {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return readCsv(path, {isHeaderRow});
}

describe("readCsv", () => {
  it("numbers each row by the line it starts on, after multi-line quoted fields and CRLF", async () => {
    const text =
      '兴庆区违规问题表\r\n问题编号,问题描述\r\nWT1,"第一行\r\n第二行\r\n第三行"\r\nWT2,普通\r\n\r\nWT3,"含""引号"""\r\n';
    const table = await read("a.csv", text);
    expect(table.headerLine).toBe(2);
    expect(table.rows.map((r) => [r.line, r.cells[0]])).toEqual([
      [3, "WT1"],
      [6, "WT2"],
      [8, "WT3"]
    ]);
    expect(table.rows[0]?.cells[1]).toBe("第一行\r\n第二行\r\n第三行");
    expect(table.rows[2]?.cells[1]).toBe('含"引号"');
  });
  it("finds the start line of every record, with \\n, \\r\\n or \\r line ends", () => {
    const lines = (text: string) => csvRecords(text).records.map((r) => r.line);
    expect(lines('a\n"b\nc"\nd')).toEqual([1, 2, 4]);
    expect(lines("a\r\nb\rc\n")).toEqual([1, 2, 3]);
    // A quote inside an unquoted value is a character like any other: it opens nothing.
    expect(lines('a"b\nc\n"d\ne"\nf')).toEqual([1, 2, 3, 5]);
  });
  it("reads UTF-8 with a BOM, and GBK, to the same cells", async () => {
    const text = "问题编号,违规类型\n WT1 ,串换药品\n";
    const utf8 = await read("u.csv", "\uFEFF" + text);
    const gbk = await read("g.csv", encodeGbk(text));
    expect([utf8.encoding, gbk.encoding]).toEqual(["utf-8", "gb18030"]);
    expect(gbk.rows).toEqual(utf8.rows);
    expect(utf8.headers).toEqual(["问题编号", "违规类型"]);
    expect(utf8.rows[0]?.cells).toEqual([" WT1 ", "串换药品"]);
  });
  it("refuses bytes that are neither UTF-8 nor GBK, with the byte offset", async () => {
    await expect(
      read("bad.csv", Buffer.concat([Buffer.from("问题编号\n"), Buffer.from([0x80, 0xff])]))
    ).rejects.toThrow(/既不是 UTF-8（第 13 字节无效）也不是 GBK\/GB18030/);
  });
});
