/**
 * The row-level SQL twins (loaders/sql-rows.ts) against the ingest's JS (loaders/ingest.ts), which stays
 * the reference: on generated values and limits, the same issues with the same texts.
 */
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {mapHeaders, parseFile, rangeIssues, type Mapping, type RowLimits} from "../../loaders/ingest.js";
import {ROW_MACROS, parseStagedFile, rangeSql} from "../../loaders/sql-rows.js";
import {installValueMacros} from "../../loaders/sql-cells.js";
import {readCsv} from "../../loaders/sources/csv.js";
import {stageCsv} from "../../loaders/sources/csv-stage.js";
import {textOfBytes} from "../../loaders/duckdb-file.js";
import {dispositions, findings, inspections, weeklyReports} from "../../src/schema/index.js";
import {amount, date, type Column, type Dataset} from "../../src/schema/dataset.js";
import {formatMoney} from "../../src/format/money.js";

let instance: DuckDBInstance;
let fileNo = 0;
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

describe("parseStagedFile = parseFile: a staged CSV's rows judged in DuckDB as the ingest judges them", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fundwatch-sql-rows-"));
    await installValueMacros(conn);
  });
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true});
  });

  const LIMITS: RowLimits = {
    rejectAboveFen: 10n ** 12n,
    warnAboveFen: 10n ** 10n,
    earliestDate: "2000-01-01"
  };
  const ALIASES = new Map([["640100", "640100"]]);

  /** Cells a column's kind reads, and its mistakes. */
  function cellFor(col: Column): fc.Arbitrary<string> {
    const common = fc.constantFrom("", " ", "-", "无", "abc", "１２", "\u00a0");
    const byType: Record<string, fc.Arbitrary<string>> = {
      BIGINT: fc.constantFrom(
        "12.5",
        "1.8万元",
        "1,000.00",
        "约5万",
        "-3",
        "1.234",
        "200000000",
        "20000000000",
        "0"
      ),
      INTEGER: fc.constantFrom("3", "12", "3.5", "-1", "1,000", "5家"),
      DATE: fc.constantFrom("2024-05-10", "2024年5月10日", "2024-02-30", "1999-12-31", "45422", "明天"),
      BOOLEAN: fc.constantFrom("是", "否", "Y", "x"),
      DOUBLE: fc.constantFrom("80", "80%", "101")
    };
    const own = byType[col.duck] ?? fc.constantFrom(col.example, ...(col.values ?? []), `${col.example}x`);
    return fc.oneof({weight: 4, arbitrary: own}, {weight: 1, arbitrary: common});
  }

  for (const ds of [findings, inspections, weeklyReports, dispositions] as unknown as Dataset[]) {
    it(`${ds.name}: the same rejects, warnings, loaded rows, counts and problems (property)`, async () => {
      const columns = Object.values(ds.columns) as Column[];
      let judged = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            rows: fc.array(
              fc.oneof(
                {weight: 8, arbitrary: fc.tuple(...columns.map(cellFor)).map((cells) => cells.join(","))},
                {
                  weight: 1,
                  arbitrary: fc.constantFrom("注：以上为抽样数据", "合计,,,3,2", "合计", "", "  ,  ")
                },
                {
                  weight: 1,
                  arbitrary: fc
                    .tuple(...columns.map(cellFor), fc.constantFrom("多余", " "))
                    .map((cells) => cells.join(","))
                },
                {
                  weight: 1,
                  arbitrary: fc.tuple(...columns.map(cellFor)).map((cells) => cells.slice(0, 2).join(","))
                }
              ),
              {maxLength: 25}
            ),
            blankHeader: fc.boolean(),
            finalBreak: fc.boolean()
          }),
          async ({rows, blankHeader, finalBreak}) => {
            const header = [...columns.map((c) => c.header), ...(blankHeader ? [""] : [])].join(",");
            const text = ["标题", header, ...rows].join("\n") + (finalBreak ? "\n" : "");
            const path = join(dir, `${ds.name}-${++fileNo}.csv`);
            await writeFile(path, text);
            const isHeaderRow = (texts: string[]) => texts[0] === columns[0]!.header;

            const table = await readCsv(path, {isHeaderRow});
            const mapping = mapHeaders(ds, table.headers, table.groups);
            const problems: string[] = [];
            const old = parseFile(
              {file: "f.csv", table, dataset: ds, mapping},
              new Map(ALIASES),
              problems,
              LIMITS
            );

            const staged = await stageCsv(conn, path, "staged", {isHeaderRow});
            expect(staged.reader).toBe("duckdb");
            const result = await parseStagedFile(conn, {
              file: "f.csv",
              staged,
              table: "staged",
              dataset: ds,
              mapping: mapHeaders(ds, staged.headers, staged.groups),
              aliases: ALIASES,
              limits: LIMITS
            });
            const issues = async (name: string) =>
              (
                await conn.runAndReadAll(
                  `SELECT line, "column", encode(value) AS value, reason, reason_en, rule FROM ${name} ORDER BY line, ord`
                )
              )
                .getRowObjectsJS()
                .map((r) => ({
                  file: "f.csv",
                  sheet: null,
                  line: r.line,
                  column: r.column,
                  value: textOfBytes(r.value as Uint8Array),
                  reason: r.reason,
                  reason_en: r.reason_en,
                  rule: r.rule
                }));
            expect(await issues("fw_rejects")).toEqual(old.rejects);
            expect(await issues("fw_warnings")).toEqual(old.warnings);
            const fields = Object.keys(ds.columns);
            const loaded = (
              await conn.runAndReadAll(
                `SELECT line, ${fields.map((f) => (ds.columns[f]!.duck === "DATE" ? `strftime("${f}", '%Y-%m-%d') AS "${f}"` : `"${f}"`)).join(", ")} FROM fw_loaded ORDER BY line`
              )
            ).getRowObjectsJS();
            const show = (v: unknown) => (v === null || v === undefined ? null : String(v));
            expect(loaded.map((r) => [r.line, ...fields.map((f) => show(r[f]))])).toEqual(
              old.rows.map(({line, row}) => [line, ...fields.map((f) => show(row[f]))])
            );
            expect([result.rowsRead, result.rowsSkipped, result.rowsLoaded, result.problems]).toEqual([
              old.summary.rows_read,
              old.summary.rows_skipped,
              old.rows.length,
              problems
            ]);
            judged += old.rejects.length + old.warnings.length + old.rows.length;
          }
        ),
        {numRuns: 40}
      );
      expect(judged).toBeGreaterThan(200);
    });
  }
});
