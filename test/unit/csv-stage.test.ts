/**
 * stageCsv (loaders/sources/csv-stage.ts) against readCsv (loaders/sources/csv.ts), which stays the
 * reference: on generated files, the same header, header line, rows (line numbers and cells), truncation
 * verdict, sha256 and errors; the fast path is taken for plain UTF-8 files and readCsv's own reading is
 * appended for the others.
 */
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readCsv} from "../../loaders/sources/csv.js";
import {stageCsv} from "../../loaders/sources/csv-stage.js";
import {textOfBytes} from "../../loaders/duckdb-file.js";
import {encodeGbk} from "../../scripts/gen-data.js";

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
  dir = await mkdtemp(join(tmpdir(), "fundwatch-csv-stage-"));
});
afterAll(async () => {
  conn?.closeSync();
  instance?.closeSync();
  await rm(dir, {recursive: true, force: true});
});

const HEADER = ["检查编号", "机构编码", "检查日期"];
/** A header row is one whose first three texts are HEADER's (title rows above it are not). */
const isHeaderRow = (texts: string[]) => HEADER.every((h, i) => texts[i] === h);

let fileNo = 0;

/** Both readers on the same bytes: their results, or their errors. */
async function both(bytes: Uint8Array, stageOptions: Parameters<typeof stageCsv>[4] = {}) {
  const path = join(dir, `f${++fileNo}.csv`);
  await writeFile(path, bytes);
  const old = await readCsv(path, {isHeaderRow}).then(
    (table) => ({ok: true as const, table}),
    (error: Error) => ({ok: false as const, message: error.message})
  );
  const staged = await stageCsv(conn, path, "staged", {isHeaderRow}, stageOptions).then(
    (table) => ({ok: true as const, table}),
    (error: Error) => ({ok: false as const, message: error.message})
  );
  let rows: {line: number; cells: (string | null)[]}[] = [];
  if (staged.ok) {
    const width = staged.table.headers.length;
    const columns = Array.from({length: width}, (_, i) => `c${i}`);
    // Back to readCsv's row shape: the header's columns, then the values beyond it. In the table's own
    // order (no ORDER BY): the staged rows are in line order.
    const reader = await conn.runAndReadAll(
      `SELECT line, [encode(c) FOR c IN ${width > 0 ? `[${columns.join(", ")}] || ` : ""}rest] AS cells FROM staged`
    );
    rows = (reader.getRowObjectsJS() as {line: number; cells: (Uint8Array | null)[]}[]).map(
      ({line, cells}) => ({
        line,
        cells: cells.map((c) => (c === null ? null : textOfBytes(c)))
      })
    );
  }
  return {old, staged, rows};
}

function expectSame({old, staged, rows}: Awaited<ReturnType<typeof both>>) {
  if (!old.ok) {
    expect(staged).toEqual(old);
    return;
  }
  expect(staged.ok, staged.ok ? "" : staged.message).toBe(true);
  if (!staged.ok) return;
  const {rows: oldRows, ...oldRest} = old.table;
  const {rowCount, reader, ...stagedRest} = staged.table;
  void reader;
  expect(stagedRest).toEqual(oldRest);
  expect(rowCount).toBe(oldRows.length);
  expect(rows).toEqual(oldRows);
}

const cellText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("JC-1", "H64010400001", "2024-05-10", "银川市", "1.8万元", "０１", "x")
  },
  {weight: 2, arbitrary: fc.constantFrom("", " ", "\u3000", "\t", "\u00a0")},
  {weight: 1, arbitrary: fc.string({unit: fc.constantFrom(..."ab 1，。\u3000\t\ufeff"), maxLength: 4})}
);
const record = fc.array(cellText, {minLength: 0, maxLength: 5}).map((cells) => cells.join(","));

/** A CSV text: title rows, the header (or not), data records with blank and short/long rows. */
const csvText = fc
  .record({
    titles: fc.array(fc.constantFrom("2024年检查记录", "", "单位：元,,"), {maxLength: 3}),
    header: fc.constantFrom(
      HEADER.join(","),
      `${HEADER.join(",")},,`,
      `${HEADER.join(",")},备注`,
      "编号,日期"
    ),
    records: fc.array(record, {maxLength: 12}),
    eol: fc.constantFrom("\n", "\r\n"),
    finalBreak: fc.boolean(),
    bom: fc.boolean()
  })
  .map(({titles, header, records, eol, finalBreak, bom}) => {
    const text = [...titles, header, ...records].join(eol) + (finalBreak ? eol : "");
    return (bom ? "\ufeff" : "") + text;
  });

describe("stageCsv: a CSV staged in DuckDB reads as readCsv reads it", () => {
  it("on generated UTF-8 files without quotes (the fast path), everything is the same (property)", async () => {
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(csvText, async (text) => {
        const result = await both(new TextEncoder().encode(text));
        expectSame(result);
        if (result.staged.ok && result.staged.table.reader === "duckdb") fast += 1;
      }),
      {numRuns: 150}
    );
    expect(fast).toBeGreaterThan(30);
  });

  it("on generated GBK files without quotes (decoded as a stream), everything is the same (property)", async () => {
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(
        // GBK has no U+FEFF, U+00A0 or full-width-space-free forms of some texts: keep to what it encodes.
        csvText.map((text) => text.replace(/[\ufeff\u00a0]/g, "")),
        async (text) => {
          const result = await both(encodeGbk(text));
          expectSame(result);
          if (result.staged.ok && result.staged.table.reader === "duckdb") {
            fast += 1;
            expect(result.staged.table.encoding).toBe("gb18030");
          }
        }
      ),
      {numRuns: 80}
    );
    expect(fast).toBeGreaterThan(10);
  });

  it("on generated files with quoted values and CR line ends (read as a stream), everything is the same (property)", async () => {
    const quoted = fc
      .record({
        text: csvText,
        quote: fc.array(fc.nat(), {maxLength: 4}),
        values: fc.array(
          fc.constantFrom('"a,b"', '"多行\n值"', '"含""引号"""', '""', '"\r\n"', 'x"y', '"open'),
          {
            maxLength: 4
          }
        ),
        cr: fc.boolean()
      })
      .map(({text, quote, values, cr}) => {
        // Quoted values put in at the starts of fields; CR-only line ends for some files.
        const lines = text.split("\n");
        quote.forEach((at, i) => {
          const k = 1 + (at % Math.max(1, lines.length - 1));
          if (lines[k] !== undefined) lines[k] = `${values[i] ?? '"q"'},${lines[k]}`;
        });
        return lines.join(cr ? "\r" : "\n");
      });
    let streamed = 0;
    const seen = new Set<string>();
    await fc.assert(
      // Small parts for some files: DuckDB splits many parts, between records appended one by one.
      fc.asyncProperty(
        quoted,
        fc.boolean(),
        fc.constantFrom(undefined, 1, 40),
        async (text, gbk, partChars) => {
          const bytes = gbk ? encodeGbk(text.replace(/[\ufeff\u00a0]/g, "")) : new TextEncoder().encode(text);
          const result = await both(bytes, partChars ? {partChars} : {});
          expectSame(result);
          if (result.staged.ok) {
            seen.add(result.staged.table.reader);
            if (result.staged.table.reader === "stream") streamed += 1;
            if (result.staged.table.truncated) seen.add("truncated");
          } else seen.add("error");
        }
      ),
      {numRuns: 150}
    );
    expect(streamed).toBeGreaterThan(30);
    expect(seen).toContain("error");
    expect(seen).toContain("truncated");
  });

  it("files with quotes or CR-only line ends are read as a stream; cut or mislabelled bytes go through readCsv; the same result", async () => {
    const header = HEADER.join(",");
    const cases: [string, Uint8Array, "stream" | "readCsv" | "error"][] = [
      [
        "quotes",
        new TextEncoder().encode(`${header}\n"JC-1","a,b",2024-05-10\n"JC-2","多行\n值",2024-05-11\n`),
        "stream"
      ],
      ["cr", new TextEncoder().encode(`${header}\rJC-1,H1,2024-05-10\r`), "stream"],
      ["gbk quotes", encodeGbk(`${header}\r\n"JC-1","银川,兴庆区",2024-05-10\r\n`), "stream"],
      [
        "gbk header only",
        Uint8Array.from([...Buffer.from("\xbc\xec\xb2\xe9\xb1\xe0\xba\xc5", "latin1")]),
        "error"
      ],
      // ASCII around the bad bytes, so that they would decode as GB18030: only readCsv's own rules refuse them.
      [
        "utf-8 cut at the end",
        Uint8Array.from([...new TextEncoder().encode("a,b\n1,"), 0xe9, 0x93]),
        "error"
      ],
      [
        "overlong UTF-8",
        Uint8Array.from([...new TextEncoder().encode("a,b\n1,"), 0xe0, 0x80, 0x80, 0x0a]),
        "error"
      ],
      ["BOM before GBK", Uint8Array.from([0xef, 0xbb, 0xbf, 0xbf, 0xd2, 0xf8]), "error"],
      [
        "no encoding",
        Uint8Array.from([...new TextEncoder().encode(`${header}\n`), 0xff, 0xfe, 0x0a]),
        "error"
      ],
      [
        "no encoding, quoted",
        Uint8Array.from([...new TextEncoder().encode(`${header}\n"a"`), 0x81, 0x20, 0x0a]),
        "error"
      ],
      ["GBK cut at the end", encodeGbk(`${header}\nJC-1,H1,银川`).subarray(0, -1), "error"],
      ["open quote", new TextEncoder().encode(`${header}\nJC-1,"H1,2024`), "stream"],
      // A blank row is not a short row: the last row, cut, is still judged cut.
      [
        "blank rows, then a cut last row",
        new TextEncoder().encode(`${header}\n"JC-0",H0,2024-05-09\n ,\n\nJC-1,H1`),
        "stream"
      ],
      [
        "open quote over lines",
        new TextEncoder().encode(`${header}\nJC-1,"H1\nJC-2,H2,2024-05-10\n`),
        "error"
      ],
      ["no header", new TextEncoder().encode("a,b,c\n1,2,3\n"), "error"],
      ["no header, quoted", new TextEncoder().encode('"a",b,c\n1,2,3\n'), "error"],
      ["empty", new Uint8Array(), "error"]
    ];
    for (const [name, bytes, expected] of cases) {
      const result = await both(bytes);
      expectSame(result);
      expect(result.staged.ok ? result.staged.table.reader : "error", name).toBe(expected);
      if (name.startsWith("blank rows"))
        expect(result.staged.ok && result.staged.table.truncated?.line).toBe(5);
    }
  });

  it("a record that never ends is an error naming its line, not the whole file held", async () => {
    const path = join(dir, "long.csv");
    await writeFile(path, `${HEADER.join(",")}\nJC-1,"${"长".repeat(300)}\n`);
    await expect(stageCsv(conn, path, "staged", {isHeaderRow}, {maxRecordChars: 100})).rejects.toThrow(
      /long\.csv: 第 2 行起的一条记录超过 100 个字符仍未结束/
    );
  });

  it("the comparison can fail: a file read by another header rule differs", async () => {
    const path = join(dir, "other.csv");
    await writeFile(path, `标题\n${HEADER.join(",")}\nJC-1,H1,2024-05-10\n`);
    const old = await readCsv(path, {isHeaderRow});
    const staged = await stageCsv(conn, path, "staged", {isHeaderRow: (texts) => texts[0] === "标题"});
    expect(staged.headerLine).not.toBe(old.headerLine);
  });
});
