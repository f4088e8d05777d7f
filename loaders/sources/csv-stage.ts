/**
 * A CSV file staged into a DuckDB table instead of JS arrays: the same header, rows, line numbers and
 * truncation verdict as {@link readCsv}, with the rows in DuckDB and only the first 30 records in JS.
 * The table: `line INTEGER`, one VARCHAR per header column `c0, c1, …` (an empty cell NULL), and `rest
 * VARCHAR[]`, the values of a row beyond the header's width (empty for most rows).
 *
 * The fast path is for the files exports mostly are: UTF-8 or GBK/GB18030 text with no quote character
 * and no line ended by a lone CR. There every physical line is one record, so DuckDB reads the text
 * itself (`read_text`, split on line ends and commas, as d3-dsv splits a text without quotes) and each
 * record's line number is its position. JS streams the bytes for the sha256, the UTF-8 check (WHATWG's,
 * which accepts nothing `readCsv` would read otherwise) and the two conditions (a quote or CR byte is
 * never part of a GB18030 character); a GB18030 file is decoded as a stream to a UTF-8 temporary file.
 * A file with quotes or CR-only line ends is decoded as a stream and read a piece at a time by
 * {@link CsvRecordReader} (readCsv's reading), its records handed to DuckDB in parts: no file is held
 * whole in JS. Bytes `readCsv` refuses or reads otherwise go to {@link readCsv}, so their error messages
 * are its own.
 */
import {createHash} from "node:crypto";
import {createReadStream, createWriteStream, type WriteStream} from "node:fs";
import {once} from "node:events";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {finished, pipeline} from "node:stream/promises";
import {LIST, VARCHAR, listValue, type DuckDBAppender, type DuckDBConnection} from "@duckdb/node-api";
import {
  findHeader,
  HEADER_SEARCH_RECORDS,
  headerOf,
  isBlankRecord,
  noHeader,
  readCsv,
  shortLastRow,
  truncation,
  type ReadCsvOptions
} from "./csv.js";
import {CsvRecordReader, CsvRecordTooLong, type CsvEnd, type CsvRecord} from "./csv-records.js";
import type {RawTable} from "./xlsx.js";
import {textOfBytes, literal} from "../duckdb-file.js";
import {JS_SPACE_CLASS} from "../../src/parse/values-sql.js";

/** What {@link stageCsv} tells of a file: a {@link RawTable} without its rows, which are in DuckDB. */
export type StagedCsv = Omit<RawTable, "rows"> & {
  encoding: string;
  /** Data rows staged (blank rows left out, as `readCsv` leaves them out). */
  rowCount: number;
  /**
   * Who read the text: `duckdb` (a file without quotes, split by DuckDB itself), `stream` (read in JS
   * as it is decoded, a piece at a time, its records appended), or `readCsv` (read whole, for bytes it
   * alone judges: its errors are the file's errors).
   */
  reader: "duckdb" | "stream" | "readCsv";
};

/** What one streaming pass over the bytes finds. */
interface Scan {
  sha256: string;
  utf8: boolean;
  quote: boolean;
  loneCr: boolean;
  /** Whether the last byte is a line break (\n or \r). */
  endsWithBreak: boolean;
}

async function scan(path: string): Promise<Scan> {
  const hash = createHash("sha256");
  const decoder = new TextDecoder("utf-8", {fatal: true});
  let utf8 = true;
  let quote = false;
  let loneCr = false;
  let afterCr = false;
  let lastByte = -1;
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (utf8) {
      try {
        decoder.decode(chunk, {stream: true});
      } catch {
        utf8 = false;
      }
    }
    if (!quote && chunk.includes(0x22)) quote = true;
    if (afterCr && chunk[0] !== 0x0a) loneCr = true;
    for (let i = chunk.indexOf(0x0d); i >= 0 && !loneCr; i = chunk.indexOf(0x0d, i + 1)) {
      if (i + 1 < chunk.length && chunk[i + 1] !== 0x0a) loneCr = true;
    }
    afterCr = chunk[chunk.length - 1] === 0x0d;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1] ?? -1;
  }
  if (utf8) {
    try {
      decoder.decode();
    } catch {
      utf8 = false;
    }
  }
  return {
    sha256: hash.digest("hex"),
    utf8,
    quote,
    loneCr,
    endsWithBreak: lastByte === 0x0a || lastByte === 0x0d
  };
}

/**
 * How `readCsv` (decodeText) would judge bytes that are not WHATWG UTF-8: `utf-8` if its own, laxer
 * check passes (it then fails on decoding: left to it), `cut` if only a character at the very end is
 * incomplete (an error), else `other` (read as GB18030 if they are). One streaming pass.
 */
async function laxUtf8(path: string): Promise<"utf-8" | "cut" | "other"> {
  let need = 0;
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    for (const b of chunk) {
      if (need > 0) {
        if ((b & 0xc0) !== 0x80) return "other";
        need -= 1;
      } else if (b >= 0x80) {
        need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
        if (need < 0) return "other";
      }
    }
  }
  return need > 0 ? "cut" : "utf-8";
}

/** Whether the file starts with the UTF-8 BOM. */
async function startsWithUtf8Bom(path: string): Promise<boolean> {
  for await (const chunk of createReadStream(path, {start: 0, end: 2}) as AsyncIterable<Buffer>)
    return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
  return false;
}

/** GB18030 bytes to a UTF-8 file; false if they are not GB18030 (`readCsv` then says why). */
async function gb18030ToUtf8(path: string, out: string): Promise<boolean> {
  const decoder = new TextDecoder("gb18030", {fatal: true});
  async function* decode(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) yield decoder.decode(chunk, {stream: true});
    yield decoder.decode();
  }
  try {
    await pipeline(createReadStream(path, {highWaterMark: 1 << 20}), decode, createWriteStream(out));
    return true;
  } catch {
    return false;
  }
}

/**
 * Stages `path` into `table` (created, or replaced) on `conn`. The header is the first of the first 30
 * records `isHeaderRow` accepts, as {@link readCsv} finds it; errors are its errors.
 */
export async function stageCsv(
  conn: DuckDBConnection,
  path: string,
  table: string,
  options: ReadCsvOptions,
  {maxRecordChars, partChars = PART_CHARS}: {maxRecordChars?: number; partChars?: number} = {}
): Promise<StagedCsv> {
  const found = await scan(path);
  // Not UTF-8: GB18030 only where readCsv would read it so (not a cut UTF-8 character, no UTF-8 BOM).
  const encoding = found.utf8
    ? "utf-8"
    : (await laxUtf8(path)) !== "other" || (await startsWithUtf8Bom(path))
      ? undefined
      : "gb18030";
  if (encoding === undefined) return viaReadCsv(conn, path, table, options);
  if (found.quote || found.loneCr)
    return streamStage(conn, path, encoding, table, options, found, {maxRecordChars, partChars});
  if (encoding === "utf-8") return fastStage(conn, path, path, "utf-8", table, options, found);
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-csv-"));
  try {
    const utf8 = join(dir, "utf-8.csv");
    if (!(await gb18030ToUtf8(path, utf8))) return await viaReadCsv(conn, path, table, options);
    return await fastStage(conn, path, utf8, "gb18030", table, options, found);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

async function fastStage(
  conn: DuckDBConnection,
  path: string,
  text: string,
  encoding: "utf-8" | "gb18030",
  table: string,
  options: ReadCsvOptions,
  found: Scan
): Promise<StagedCsv> {
  // Records: the text split on \n, a \r before it dropped; the empty piece after a final line end is
  // no record (d3-dsv). A leading BOM is not part of the first value.
  // (In steps: the same as one query with CTEs, which DuckDB ran 100x slower on a 47 MB file.)
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_pieces AS
    SELECT string_split(CASE WHEN starts_with(content, chr(65279)) THEN content[2:] ELSE content END, chr(10)) AS l,
           suffix(content, chr(10)) OR content IN ('', chr(65279)) AS drop_last
    FROM read_text(${literal(text)})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_lines AS
    SELECT unnest(l) AS t, generate_subscripts(l, 1) AS line FROM fw_pieces`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE fw_records AS
    SELECT CAST(line AS INTEGER) AS line,
           string_split(CASE WHEN suffix(t, chr(13)) THEN t[:-2] ELSE t END, ',') AS cells
    FROM fw_lines WHERE line <= (SELECT len(l) - CASE WHEN drop_last THEN 1 ELSE 0 END FROM fw_pieces)`);
  await conn.run("DROP TABLE fw_pieces");
  await conn.run("DROP TABLE fw_lines");
  const {endsWithBreak} = found;
  // As bytes: a VARCHAR read through @duckdb/node-api loses a leading U+FEFF (see textOfBytes in loaders/duckdb-file.ts).
  const head = await conn.runAndReadAll(
    `SELECT line, [encode(c) FOR c IN cells] AS cells FROM fw_records WHERE line <= ${HEADER_SEARCH_RECORDS} ORDER BY line`
  );
  const firstRecords = (head.getRowObjectsJS() as {line: number; cells: Uint8Array[]}[]).map(
    ({line, cells}) => ({
      line,
      cells: cells.map(textOfBytes)
    })
  );
  const header = findHeader(
    firstRecords.map((r) => r.cells),
    options.isHeaderRow
  );
  if (header === undefined) throw noHeader(path);
  const headerLine = header.index + 1;
  const {headers} = header;
  const width = headers.length;

  // Truncation, as readCsv judges a text without quotes: no final line break, and a last record shorter
  // than the header while every other non-blank data row is complete.
  const blank = (cells: string) => `regexp_full_match(array_to_string(${cells}, ''), '${JS_SPACE_CLASS}*')`;
  const last = (
    await conn.runAndReadAll(
      `SELECT line, len(cells) AS n FROM fw_records WHERE line = (SELECT max(line) FROM fw_records)`
    )
  ).getRowObjectsJS()[0] as {line: number; n: bigint} | undefined;
  // The other rows are only looked at when the last one may be cut (most files end with a line break).
  const shortRows = async (before: number): Promise<number> =>
    Number(
      (
        (
          await conn.runAndReadAll(
            `SELECT count(*) AS short FROM fw_records WHERE line > ${headerLine} AND line < ${before} AND len(cells) < ${width} AND NOT ${blank("cells")}`
          )
        ).getRowObjectsJS()[0] as {short: bigint}
      ).short
    );
  let truncated: RawTable["truncated"];
  if (
    last &&
    last.line > headerLine &&
    !endsWithBreak &&
    Number(last.n) < width &&
    (await shortRows(last.line)) === 0
  ) {
    truncated = shortLastRow(last.line, Number(last.n), width);
  }

  const columns = Array.from({length: width}, (_, i) => `nullif(cells[${i + 1}], '') AS c${i}`);
  await conn.run(`CREATE OR REPLACE TABLE ${table} AS
    SELECT line, ${[...columns, `[nullif(c, '') FOR c IN cells[${width + 1}:]] AS rest`].join(", ")}
    FROM fw_records WHERE line > ${headerLine} AND NOT ${blank("cells")} ORDER BY line`);
  await conn.run("DROP TABLE fw_records");
  const count = (await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJS()[0] as {
    n: bigint;
  };
  return {
    file: path,
    sha256: found.sha256,
    format: "csv",
    encoding,
    headerLine,
    headers,
    groups: headers.map(() => ""),
    date1904: false,
    ...(truncated ? {truncated} : {}),
    rowCount: Number(count.n),
    reader: "duckdb"
  };
}

/** How many characters of `line,value,…` lines {@link streamStage} gives DuckDB at a time. */
const PART_CHARS = 32 * 1024 * 1024;

/** Creates (or replaces) the staging table for a header of `width` columns. */
async function createStaging(conn: DuckDBConnection, table: string, width: number): Promise<void> {
  const columns = Array.from({length: width}, (_, i) => `c${i} VARCHAR`);
  await conn.run(
    `CREATE OR REPLACE TABLE ${table} (${["line INTEGER", ...columns, "rest VARCHAR[]"].join(", ")})`
  );
}

/** Appends one record: its line, its first `width` values, the rest as a list (an empty value NULL). */
function appendRecord(
  appender: DuckDBAppender,
  line: number,
  cells: readonly (string | null | undefined)[],
  width: number
): void {
  appender.appendInteger(line);
  for (let i = 0; i < width; i++) {
    const cell = cells[i];
    if (cell === null || cell === undefined || cell === "") appender.appendNull();
    else appender.appendVarchar(cell);
  }
  const rest = cells.slice(width).map((c) => (c === undefined || c === "" ? null : c));
  appender.appendList(listValue(rest), LIST(VARCHAR));
  appender.endRow();
}

/**
 * A file with quotes or CR-only line ends: decoded as a stream and read by {@link CsvRecordReader}
 * (d3-dsv's reading, as readCsv's) a piece at a time. Only the record being read and the records before
 * the header are held. Each data record whose values hold no comma or line break (nearly all, even in a
 * file that quotes every value) is written as a line `line,value,value,…` to a temporary file that DuckDB
 * then splits as the fast path does (appending values one by one from JS took twice as long); the
 * others are appended. Bytes that do not decode as GB18030 after all go to {@link viaReadCsv}, whose
 * error is the file's.
 */
async function streamStage(
  conn: DuckDBConnection,
  path: string,
  encoding: "utf-8" | "gb18030",
  table: string,
  options: ReadCsvOptions,
  found: Scan,
  {maxRecordChars, partChars: partLimit}: {maxRecordChars?: number; partChars: number}
): Promise<StagedCsv> {
  const decoder = new TextDecoder(encoding, {fatal: true});
  const reader = new CsvRecordReader(maxRecordChars);
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-csv-"));
  // The lines go to DuckDB a part at a time, so that neither the disk nor DuckDB holds the whole text.
  let bulk: WriteStream | undefined;
  let part = 0;
  let partChars = 0;
  let lines: string[] = [];
  let bulkRows = 0;
  const partPath = () => join(dir, `records-${part}.txt`);
  const loadPart = async (): Promise<void> => {
    if (bulk === undefined) return;
    bulk.end();
    await finished(bulk);
    bulk = undefined;
    // As fastStage reads a text: in steps (one query with CTEs ran 100x slower).
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE fw_pieces AS SELECT string_split(content, chr(10)) AS l FROM read_text(${literal(partPath())})`
    );
    await conn.run(
      "CREATE OR REPLACE TEMP TABLE fw_records AS SELECT string_split(unnest(l), ',') AS cells FROM fw_pieces"
    );
    await conn.run("DROP TABLE fw_pieces");
    const columns = Array.from({length: width}, (_, i) => `nullif(cells[${i + 2}], '')`);
    await conn.run(
      `INSERT INTO ${table} SELECT ${["CAST(cells[1] AS INTEGER)", ...columns, `[nullif(c, '') FOR c IN cells[${width + 2}:]]`].join(", ")} FROM fw_records WHERE cells[1] <> ''`
    );
    await conn.run("DROP TABLE fw_records");
    await rm(partPath(), {force: true});
    part++;
    partChars = 0;
  };
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const text = `${lines.join("\n")}\n`;
    lines = [];
    bulk ??= createWriteStream(partPath());
    partChars += text.length;
    if (!bulk.write(text)) await once(bulk, "drain");
    if (partChars >= partLimit) await loadPart();
  };
  let records = 0;
  let header: {line: number; headers: string[]} | undefined;
  let width = 0;
  let appender: DuckDBAppender | undefined;
  let appended = 0;
  // The last record after the header, and whether a non-blank one before it is short (readCsv's truncation).
  let last: {line: number; fields: number; blank: boolean} | undefined;
  let shortBefore = false;
  const take = async (batch: readonly CsvRecord[]): Promise<void> => {
    for (const {cells, line} of batch) {
      const index = records++;
      if (header === undefined) {
        if (index >= HEADER_SEARCH_RECORDS) throw noHeader(path);
        const headers = headerOf(cells, options.isHeaderRow);
        if (headers === undefined) continue;
        width = headers.length;
        header = {line, headers};
        await createStaging(conn, table, width);
        appender = await conn.createAppender(table);
        continue;
      }
      if (last && !last.blank && last.fields < width) shortBefore = true;
      const blank = isBlankRecord(cells);
      last = {line, fields: cells.length, blank};
      if (blank || appender === undefined) continue;
      if (cells.some((c) => /[,\n\r]/.test(c))) {
        appendRecord(appender, line, cells, width);
        appended++;
      } else {
        lines.push(`${line},${cells.join(",")}`);
        bulkRows++;
        if (lines.length >= 8192) await flush();
      }
    }
  };
  /** The next piece of text (the rest, without `chunk`), or undefined where the bytes do not decode. */
  const decode = (chunk?: Buffer): string | undefined => {
    try {
      return chunk ? decoder.decode(chunk, {stream: true}) : decoder.decode();
    } catch {
      return undefined;
    }
  };
  const push = (text: string): CsvRecord[] => {
    try {
      return reader.push(text);
    } catch (error) {
      throw error instanceof CsvRecordTooLong ? new Error(`${path}: ${error.message}`) : error;
    }
  };
  const closeAll = async (): Promise<void> => {
    appender?.closeSync();
    appender = undefined;
    if (bulk) {
      bulk.end();
      await finished(bulk);
      bulk = undefined;
    }
  };
  let end: CsvEnd;
  try {
    let refused = false;
    for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
      const text = decode(chunk);
      refused = text === undefined;
      if (text === undefined) break;
      await take(push(text));
    }
    const text = refused ? undefined : decode();
    // Not GB18030 after all (the UTF-8 was checked whole): readCsv says how.
    if (text === undefined) {
      await closeAll();
      return await viaReadCsv(conn, path, table, options);
    }
    await take(push(text));
    const rest = reader.end();
    await take(rest.records);
    end = rest.end;
    if (header === undefined) throw noHeader(path);
    // The appended rows first (the appender holds them until closed), then the last part.
    appender?.closeSync();
    appender = undefined;
    await flush();
    await loadPart();
    if (appended > 0 && bulkRows > 0)
      await conn.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${table} ORDER BY line`);
  } finally {
    await closeAll().catch(() => undefined);
    await rm(dir, {recursive: true, force: true});
  }
  const truncated = truncation(end, last && {line: last.line, fields: last.fields, shortBefore}, width, path);
  return {
    file: path,
    sha256: found.sha256,
    format: "csv",
    encoding,
    headerLine: header.line,
    headers: header.headers,
    groups: header.headers.map(() => ""),
    date1904: false,
    ...(truncated ? {truncated} : {}),
    rowCount: bulkRows + appended,
    reader: "stream"
  };
}

/** readCsv's reading, its rows appended to `table`. */
async function viaReadCsv(
  conn: DuckDBConnection,
  path: string,
  table: string,
  options: ReadCsvOptions
): Promise<StagedCsv> {
  const {rows, ...rest} = await readCsv(path, options);
  const width = rest.headers.length;
  await createStaging(conn, table, width);
  const appender = await conn.createAppender(table);
  try {
    for (const {line, cells} of rows)
      appendRecord(
        appender,
        line,
        cells.map((c) => (c === null ? null : String(c))),
        width
      );
  } finally {
    appender.closeSync();
  }
  return {...rest, rowCount: rows.length, reader: "readCsv"};
}
