/**
 * The row-level SQL twins (loaders/sql-rows.ts) against the ingest's JS (loaders/ingest.ts), which stays
 * the reference: on generated values and limits, the same issues with the same texts.
 */
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {rangeIssues, type Mapping, type RowLimits} from "../../loaders/ingest.js";
import {ROW_MACROS, rangeSql} from "../../loaders/sql-rows.js";
import {amount, date, type Column, type Dataset} from "../../src/schema/dataset.js";
import {formatMoney} from "../../src/format/money.js";

let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
  await conn.run(ROW_MACROS);
});
afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

const COLUMNS: Record<string, Column> = {
  money: amount("涉及金额", "amount", {description: "", example: "1"}) as Column,
  day: date("检查日期", "date", {description: "", example: "2024-05-10"}) as Column
};
/** A dataset of one money and one date column, mapped to the file's first two columns. */
const DS = {columns: COLUMNS} as unknown as Dataset;
const MAPPING = {
  fields: new Map([
    ["money", {index: 0, unit: null, header: "涉及金额"}],
    ["day", {index: 1, unit: null, header: "检查日期"}]
  ]),
  missing: [],
  ignored: [],
  ambiguous: []
} as Mapping;

const fen = fc.oneof(
  fc.bigInt({min: 0n, max: 10n ** 19n}),
  fc.bigInt({min: 0n, max: 10n ** 6n}),
  fc.constantFrom(0n, 1n, 99n, 100n, 101n, 999_999n, 10n ** 17n, 2n ** 63n - 1n)
);
const day = fc
  .integer({min: -40_000, max: 60_000})
  .map((d) => new Date(Date.UTC(1900, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
const limits: fc.Arbitrary<RowLimits> = fc.tuple(fen, fen, day).map(([a, b, earliestDate]) => ({
  rejectAboveFen: a > b ? a : b,
  warnAboveFen: a > b ? b : a,
  earliestDate
}));

describe("range rules as SQL (rangeSql) = rangeIssues", () => {
  it("money in 元 as formatMoney writes it (fw_money_yuan, property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fen,
            fen.map((v) => -v)
          ),
          {minLength: 1, maxLength: 50}
        ),
        async (values) => {
          const reader = await conn.runAndReadAll(
            `SELECT [fw_money_yuan(CAST(v AS HUGEINT)) FOR v IN string_split($1, ',')] AS t`,
            [values.join(",")]
          );
          expect(reader.getRowObjectsJS()[0]!.t).toEqual(values.map((v) => formatMoney(v, {unit: "元"})));
        }
      ),
      {numRuns: 60}
    );
  });

  it("amount ceiling, implausible amounts and early dates: the same issues and texts (property)", async () => {
    let issues = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.option(fen), fc.option(day)), {minLength: 1, maxLength: 40}),
        limits,
        async (generated, lim) => {
          // And the values at each limit and one step either side.
          const dayBefore = new Date(Date.parse(`${lim.earliestDate}T00:00:00Z`) - 86_400_000)
            .toISOString()
            .slice(0, 10);
          const rows: [bigint | null, string | null][] = [
            ...generated,
            [lim.rejectAboveFen, lim.earliestDate],
            [lim.rejectAboveFen + 1n, dayBefore],
            [lim.warnAboveFen, null],
            [lim.warnAboveFen > 0n ? lim.warnAboveFen - 1n : 0n, null]
          ];
          const money = rangeSql(COLUMNS.money!, "CAST(nullif(m, '') AS HUGEINT)", lim);
          const early = rangeSql(COLUMNS.day!, "CAST(nullif(d, '') AS DATE)", lim);
          const reader = await conn.runAndReadAll(
            `SELECT ${money.reject} AS mr, ${money.warn} AS mw, ${early.reject} AS dr, ${early.warn} AS dw
             FROM (SELECT unnest(string_split($1, ',')) AS m, unnest(string_split($2, ',')) AS d)`,
            [rows.map(([m]) => m ?? "").join(","), rows.map(([, d]) => d ?? "").join(",")]
          );
          const got = reader.getRowObjectsJS();
          rows.forEach(([m, d], i) => {
            const want = rangeIssues(DS, MAPPING, {money: m, day: d}, [String(m), String(d)], lim);
            const strip = (issue: {reason: string; reason_en: string; rule: string}) => ({
              reason: issue.reason,
              reason_en: issue.reason_en,
              rule: issue.rule
            });
            const row = got[i]!;
            const sqlRejected = [row.mr, row.dr].filter((x) => x !== null);
            const sqlWarned = [row.mw, row.dw].filter((x) => x !== null);
            expect({m, d, rejected: sqlRejected, warned: sqlWarned}).toEqual({
              m,
              d,
              rejected: want.rejected.map(strip),
              warned: want.warned.map(strip)
            });
            issues += want.rejected.length + want.warned.length;
          });
        }
      ),
      {numRuns: 60}
    );
    expect(issues).toBeGreaterThan(50);
  });
});
