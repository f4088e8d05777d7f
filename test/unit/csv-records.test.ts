/**
 * CsvRecordReader (loaders/sources/csv-records.ts): the records of a text pushed in pieces cut anywhere
 * are d3-dsv's csvParseRows of the whole text, and their lines are the physical lines they start on.
 */
import {csvParseRows} from "d3";
import fc from "fast-check";
import {describe, expect, it} from "vitest";
import {
  CsvRecordReader,
  CsvRecordTooLong,
  csvRecords,
  type CsvRecord
} from "../../loaders/sources/csv-records.js";

/** The text pushed in pieces cut at `cuts` (fractions of its length). */
function inPieces(text: string, cuts: number[], reader = new CsvRecordReader()) {
  const at = [...new Set(cuts.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b);
  const records: CsvRecord[] = [];
  let from = 0;
  for (const to of [...at, text.length]) {
    records.push(...reader.push(text.slice(from, to)));
    from = to;
  }
  const last = reader.end();
  return {records: [...records, ...last.records], end: last.end};
}

/** Any text of the characters that matter to the reading (and some that do not). */
const anyText = fc.string({
  unit: fc.constantFrom("a", "中", '"', '"', ",", "\n", "\r", "\r\n", " ", "\ufeff"),
  maxLength: 40
});
const cuts = fc.array(fc.double({min: 0, max: 1, noNaN: true}), {maxLength: 6});

/** A field as a writer that quotes writes it, and its value. */
const field = fc.oneof(
  fc.string({unit: fc.constantFrom("a", "中", " ", "1"), maxLength: 4}).map((v) => ({text: v, value: v})),
  fc
    .string({unit: fc.constantFrom("a", '"', ",", "\n", "\r\n", "中"), maxLength: 6})
    .map((v) => ({text: `"${v.replaceAll('"', '""')}"`, value: v}))
);

describe("CsvRecordReader", () => {
  it("reads any text cut anywhere as csvParseRows reads it whole, lines and end alike (property)", () => {
    fc.assert(
      fc.property(anyText, cuts, (text, at) => {
        const whole = csvRecords(text);
        const body = text.replace(/^\ufeff/, "");
        expect(whole.records.map((r) => r.cells)).toEqual(csvParseRows(body));
        expect(inPieces(text, at)).toEqual(whole);
      }),
      {numRuns: 3000}
    );
  });

  it("gives each record the physical line it starts on, and says where an open quote starts (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(field, {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 6}),
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.boolean(),
        fc.option(fc.string({unit: fc.constantFrom("a", "\n", ","), maxLength: 5}), {nil: undefined}),
        cuts,
        (rows, eol, breakAtEnd, open, at) => {
          // A last record that is empty and unended is no record (d3-dsv).
          const finalBreak =
            breakAtEnd ||
            rows
              .at(-1)
              ?.map((f) => f.text)
              .join(",") === "";
          let text = "";
          let line = 1;
          const lines: number[] = [];
          const breaks = (s: string) => s.split(/\r\n|\r|\n/).length - 1;
          rows.forEach((row, i) => {
            lines.push(line);
            const record = row.map((f) => f.text).join(",");
            text += record;
            line += breaks(record);
            if (i < rows.length - 1 || finalBreak || open !== undefined) {
              text += eol;
              line += 1;
            }
          });
          let openLine: number | undefined;
          if (open !== undefined) {
            openLine = line;
            text += `"${open}`;
          }
          const {records, end} = inPieces(text, at);
          const expected = rows.map((row, i) => ({cells: row.map((f) => f.value), line: lines[i]}));
          if (open !== undefined) {
            // d3-dsv keeps the open value to the end, but for one final line break's first character.
            expect(records.slice(0, -1)).toEqual(expected);
            expect(records.at(-1)?.line).toBe(openLine);
          } else expect(records).toEqual(expected);
          expect(end.openQuoteLine).toBe(openLine);
          expect(end.endsWithBreak).toBe(/[\r\n]$/.test(text));
          expect(end.lastLine).toBe(breaks(text.replace(/[\r\n]+$/, "")) + 1);
        }
      ),
      {numRuns: 2000}
    );
  });

  it("knows the examples: lines after multi-line values, CR line ends, the record after a last empty line", () => {
    expect(csvRecords('a\n"b\nc"\nd').records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(csvRecords("a\r\nb\rc\n").records.map((r) => [r.cells, r.line])).toEqual([
      [["a"], 1],
      [["b"], 2],
      [["c"], 3]
    ]);
    const reader = new CsvRecordReader();
    expect(reader.push("a\n")).toEqual([{cells: ["a"], line: 1}]);
    expect(reader.push("\n")).toEqual([{cells: [""], line: 2}]);
    expect(reader.end().records).toEqual([]);
    expect(csvRecords("a\n\r\n").records.map((r) => r.cells)).toEqual([["a"], [""]]);
    expect(csvRecords('x,"open\nto the end').end.openQuoteLine).toBe(1);
  });

  it("stops a record that grows past the limit, naming its line", () => {
    const reader = new CsvRecordReader(100);
    reader.push("a,b\nc,d\n");
    expect(() => reader.push(`e,"${"x\n".repeat(60)}`)).toThrow(CsvRecordTooLong);
    const again = new CsvRecordReader(100);
    again.push("a,b\nc,d\n");
    expect(() => again.push(`e,"${"x\n".repeat(60)}`)).toThrow(/第 3 行起的一条记录超过 100 个字符仍未结束/);
  });
});
