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
async function both(bytes: Uint8Array) {
  const path = join(dir, `f${++fileNo}.csv`);
  await writeFile(path, bytes);
  const old = await readCsv(path, {isHeaderRow}).then(
    (table) => ({ok: true as const, table}),
    (error: Error) => ({ok: false as const, message: error.message})
  );
  const staged = await stageCsv(conn, path, "staged", {isHeaderRow}).then(
    (table) => ({ok: true as const, table}),
    (error: Error) => ({ok: false as const, message: error.message})
  );
  let rows: {line: number; cells: (string | null)[]}[] = [];
  if (staged.ok) {
    const width = staged.table.headers.length;
    const columns = Array.from({length: width}, (_, i) => `c${i}`);
    // Back to readCsv's row shape: the header's columns, then the values beyond it.
    const reader = await conn.runAndReadAll(
      `SELECT line, [encode(c) FOR c IN ${width > 0 ? `[${columns.join(", ")}] || ` : ""}rest] AS cells FROM staged ORDER BY line`
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
  const {rowCount, fastPath, ...stagedRest} = staged.table;
  void fastPath;
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
        if (result.staged.ok && result.staged.table.fastPath) fast += 1;
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
          if (result.staged.ok && result.staged.table.fastPath) {
            fast += 1;
            expect(result.staged.table.encoding).toBe("gb18030");
          }
        }
      ),
      {numRuns: 80}
    );
    expect(fast).toBeGreaterThan(10);
  });

  it("files with quotes, CR-only line ends, cut or mislabelled bytes go through readCsv, with the same result", async () => {
    const header = HEADER.join(",");
    const cases: [string, Uint8Array][] = [
      [
        "quotes",
        new TextEncoder().encode(`${header}\n"JC-1","a,b",2024-05-10\n"JC-2","多行\n值",2024-05-11\n`)
      ],
      ["cr", new TextEncoder().encode(`${header}\rJC-1,H1,2024-05-10\r`)],
      ["gbk header only", Uint8Array.from([...Buffer.from("\xbc\xec\xb2\xe9\xb1\xe0\xba\xc5", "latin1")])],
      // ASCII around the bad bytes, so that they would decode as GB18030: only readCsv's own rules refuse them.
      ["utf-8 cut at the end", Uint8Array.from([...new TextEncoder().encode("a,b\n1,"), 0xe9, 0x93])],
      ["overlong UTF-8", Uint8Array.from([...new TextEncoder().encode("a,b\n1,"), 0xe0, 0x80, 0x80, 0x0a])],
      ["BOM before GBK", Uint8Array.from([0xef, 0xbb, 0xbf, 0xbf, 0xd2, 0xf8])],
      ["no encoding", Uint8Array.from([...new TextEncoder().encode(`${header}\n`), 0xff, 0xfe, 0x0a])],
      ["GBK cut at the end", encodeGbk(`${header}\nJC-1,H1,银川`).subarray(0, -1)],
      ["open quote", new TextEncoder().encode(`${header}\nJC-1,"H1,2024`)],
      ["no header", new TextEncoder().encode("a,b,c\n1,2,3\n")],
      ["empty", new Uint8Array()]
    ];
    for (const [name, bytes] of cases) {
      const result = await both(bytes);
      expectSame(result);
      if (result.staged.ok) expect(result.staged.table.fastPath, name).toBe(false);
    }
  });

  it("the comparison can fail: a file read by another header rule differs", async () => {
    const path = join(dir, "other.csv");
    await writeFile(path, `标题\n${HEADER.join(",")}\nJC-1,H1,2024-05-10\n`);
    const old = await readCsv(path, {isHeaderRow});
    const staged = await stageCsv(conn, path, "staged", {isHeaderRow: (texts) => texts[0] === "标题"});
    expect(staged.headerLine).not.toBe(old.headerLine);
  });
});
