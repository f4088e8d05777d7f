import {DateDay, Float64, Int64, Table, Utf8, Decimal, vectorFromArray} from "apache-arrow";
import {describe, expect, it} from "vitest";
import {bigintToNumber, tableToRows, type ArrowLikeTable} from "../../src/duckdb/convert.js";

describe("tableToRows(table) converts at the boundary", () => {
  it("turns BIGINT into numbers, DATE into Dates and keeps nulls", () => {
    const table = new Table({
      code: vectorFromArray(["640104", null], new Utf8()),
      amount_fen: vectorFromArray([3_851_322n, null], new Int64()),
      ratio: vectorFromArray([0.5, 1], new Float64()),
      day: vectorFromArray([new Date(Date.UTC(2024, 4, 10)), null], new DateDay())
    });
    const rows = tableToRows(table as unknown as ArrowLikeTable);
    expect(rows).toEqual([
      {code: "640104", amount_fen: 3_851_322, ratio: 0.5, day: new Date(Date.UTC(2024, 4, 10))},
      {code: null, amount_fen: null, ratio: 1, day: null}
    ]);
    expect(typeof rows[0]!.amount_fen).toBe("number");
  });
  it("refuses a BIGINT that a JS number cannot hold exactly", () => {
    expect(() => bigintToNumber(2n ** 53n + 1n, "amount_fen")).toThrow(/安全整数/);
    const table = new Table({big: vectorFromArray([2n ** 60n], new Int64())});
    expect(() => tableToRows(table as unknown as ArrowLikeTable)).toThrow(/big/);
  });
  it("refuses an unconverted DECIMAL rather than show it 100× too large", () => {
    const fake: ArrowLikeTable = {
      numRows: 1,
      schema: {fields: [{name: "amount", type: new Decimal(2, 18, 128)}]},
      getChildAt: () => ({get: () => new Uint32Array([1234, 0, 0, 0])})
    };
    expect(() => tableToRows(fake)).toThrow(/DECIMAL/);
  });
  it("returns no rows for an empty table", () => {
    const table = new Table({x: vectorFromArray([] as number[], new Float64())});
    expect(tableToRows(table as unknown as ArrowLikeTable)).toEqual([]);
  });
});
