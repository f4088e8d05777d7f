/**
 * The SQL value normalizer (src/parse/values-sql.ts) against the JS one (src/parse/values.ts), which
 * stays the reference: on generated cells, every cell SQL decides gets exactly the JS value or the JS
 * refusal, word for word; the rest are left to JS, and the forms districts write are all decided in SQL.
 */
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import fc from "fast-check";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {FAST_RANGES, JS_SPACE_CLASS, UNIT_SCALE, VALUE_MACROS, fastNfkc} from "../../src/parse/values-sql.js";
import {readdir} from "node:fs/promises";
import {join} from "node:path";
import {DATASETS, findings} from "../../src/schema/index.js";
import {datasetFromFileName, ingest, mapHeaders} from "../../loaders/ingest.js";
import {readCsv} from "../../loaders/sources/csv.js";
import {installValueMacros, parseColumns} from "../../loaders/sql-cells.js";
import {quote} from "../../loaders/duckdb-file.js";
import {SQL_VALUE_TYPE, cellSql, parseCell, type Column} from "../../src/schema/dataset.js";
import {
  normalizeText,
  parseAmountFen,
  parseBool,
  parseCount,
  parseDate,
  parsePercent,
  parseText,
  type MoneyUnitName,
  type Parsed
} from "../../src/parse/values.js";

let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
  await conn.run(VALUE_MACROS);
});
afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

type Kind = "text" | "amount" | "count" | "percent" | "bool" | "date";

/** The macro call for a kind over column x, and the JS reference, side by side. */
const KINDS: Record<
  Kind,
  {sql: (opts: Opts) => string; js: (cell: string | null, opts: Opts) => Parsed<unknown>}
> = {
  text: {sql: () => "fw_text(x)", js: (cell) => parseText(cell)},
  amount: {
    sql: ({unit}) => `fw_amount(x, ${UNIT_SCALE[unit]})`,
    js: (cell, {unit}) => parseAmountFen(cell, unit)
  },
  count: {sql: () => "fw_count(x)", js: (cell) => parseCount(cell)},
  percent: {sql: () => "fw_percent(x)", js: (cell) => parsePercent(cell)},
  bool: {sql: () => "fw_bool(x)", js: (cell) => parseBool(cell)},
  date: {
    sql: ({date1904}) => `fw_date(x, ${date1904})`,
    js: (cell, {date1904}) => parseDate(cell, {date1904})
  }
};
interface Opts {
  unit: MoneyUnitName;
  date1904: boolean;
}
const DEFAULT: Opts = {unit: "元", date1904: false};

let tableNo = 0;

/** A temporary table `(i INTEGER, x VARCHAR)` of the cells, `i` their index. */
async function cellsTable(table: string, cells: readonly (string | null)[]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} (i INTEGER, x VARCHAR)`);
  const appender = await conn.createAppender(table);
  cells.forEach((cell, i) => {
    appender.appendInteger(i);
    if (cell === null) appender.appendNull();
    else appender.appendVarchar(cell);
    appender.endRow();
  });
  appender.closeSync();
}

/** Runs the kind's macro over the cells: per cell, the SQL result (`undefined` where SQL leaves it to JS). */
async function viaSql(kind: Kind, cells: (string | null)[], opts: Opts = DEFAULT) {
  const table = `cells_${++tableNo}`;
  await cellsTable(table, cells);
  const value = kind === "date" ? "strftime(r.v, '%Y-%m-%d')" : "r.v";
  const reader = await conn.runAndReadAll(
    `SELECT i, r.ok AS ok, ${value} AS v, r.reason AS reason, r.reason_en AS reason_en
     FROM (SELECT i, ${KINDS[kind].sql(opts)} AS r FROM ${table}) ORDER BY i`
  );
  await conn.run(`DROP TABLE ${table}`);
  return reader
    .getRowObjectsJS()
    .map((row) =>
      row.ok === null
        ? undefined
        : row.ok
          ? {ok: true, value: row.v}
          : {ok: false, reason: row.reason, reason_en: row.reason_en}
    );
}

/** The cells where SQL decided and disagrees with JS, and how many SQL left to JS. */
async function compare(kind: Kind, cells: (string | null)[], opts: Opts = DEFAULT) {
  const sql = await viaSql(kind, cells, opts);
  const mismatches: unknown[] = [];
  let toJs = 0;
  cells.forEach((cell, i) => {
    const got = sql[i];
    if (got === undefined) {
      toJs += 1;
      return;
    }
    const want = KINDS[kind].js(cell, opts);
    const same = want.ok
      ? got.ok && normalizeValue(kind, got.value) === normalizeValue(kind, want.value)
      : !got.ok && got.reason === want.reason && got.reason_en === want.reason_en;
    if (!same) mismatches.push({cell, sql: got, js: want});
  });
  return {mismatches, toJs};
}

function normalizeValue(kind: Kind, value: unknown): unknown {
  if (kind === "count" || kind === "amount") return BigInt(value as bigint);
  return value;
}

// ---- Generated cells: the spellings districts use, their mistakes, and noise. ----

const digits = (min: number, max: number) =>
  fc.string({unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max});
const FULL = (text: string) =>
  [...text]
    .map((c) => (c >= "!" && c <= "~" ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
    .join("");
const pad = fc.constantFrom("", " ", "\u3000", "\t", "  ", "\n", "\u00a0");
const decorate = (arb: fc.Arbitrary<string>) =>
  fc.tuple(pad, arb, pad, fc.boolean()).map(([a, text, b, full]) => `${a}${full ? FULL(text) : text}${b}`);

const number = fc.oneof(
  fc
    .tuple(fc.constantFrom("", "-", "+"), digits(1, 9), fc.option(digits(0, 12)))
    .map(([sign, whole, frac]) => `${sign}${whole}${frac === null ? "" : `.${frac}`}`),
  fc.bigInt({min: 0n, max: 10n ** 15n}).map((n) => n.toLocaleString("en-US")),
  fc.tuple(digits(1, 4), digits(0, 3)).map(([a, b]) => `${a},${b}`),
  digits(20, 45),
  fc
    .tuple(digits(1, 3), digits(0, 3), fc.constantFrom("e", "E", "e+", "e-"), digits(1, 3))
    .map(([a, b, e, p]) => `${a}${b ? `.${b}` : ""}${e}${p}`)
);
const noise = fc.string({
  unit: fc.constantFrom(
    ..."0123456789.,-+%eE元万亿约余多左右以上来是否有无YNyn年月日/ T:\u3000\u00a0\u2003\u000b\ufeff０１．，％￥¥人民币ﬁ…①㎡\u0301\u{20000}",
    "家次",
    "人次",
    "条"
  ),
  maxLength: 10
});
const MISSING = [
  "",
  " ",
  "-",
  "--",
  "—",
  "——",
  "–",
  "/",
  "无",
  "空",
  "null",
  "NULL",
  "N/A",
  "n/a",
  "#N/A",
  "Null"
];

// The edges of the plain spellings the SQL reads without its general path (Column.plain).
const plainAmount = fc.constantFrom(
  "0",
  "00",
  "01",
  "0.5",
  "0.05",
  "0.005",
  "1.",
  ".5",
  "1781.75",
  "999999999999999.99",
  "1000000000000000",
  "1000000000000000.5"
);
const amountCell = fc.oneof(
  plainAmount,
  decorate(
    fc
      .tuple(
        fc.constantFrom("", "¥", "￥", "人民币", "约"),
        number,
        fc.constantFrom("", "元", "万元", "万", "亿", "亿元", "余", "左右", "多元", "元元")
      )
      .map(([a, n, u]) => `${a}${n}${u}`)
  ),
  fc.constantFrom(...MISSING),
  noise,
  fc.constant(null)
);
const countCell = fc.oneof(
  fc.constantFrom("0", "00", "07", "999999999", "1000000000", "2147483647", "2147483648"),
  decorate(
    fc
      .tuple(number, fc.constantFrom("", "家", "条", "家次", "人次", "个", "份", "余家"))
      .map(([n, u]) => `${n}${u}`)
  ),
  decorate(
    fc.constantFrom(
      "9007199254740991",
      "9007199254740992",
      "09007199254740992",
      "2147483647",
      "2147483648",
      "-0"
    )
  ),
  fc.constantFrom(...MISSING),
  noise,
  fc.constant(null)
);
const percentCell = fc.oneof(
  decorate(fc.tuple(number, fc.constantFrom("", "%", "%%", "％")).map(([n, u]) => `${n}${u}`)),
  decorate(
    fc.constantFrom(
      "100",
      "100.0",
      "1e2",
      "100.0000001",
      "0",
      "-0.0",
      "5.",
      ".5",
      "+.5",
      "-0",
      "0x10",
      "0b11",
      "0o7",
      "Infinity",
      "-Infinity",
      "1e400",
      "NaN",
      "%"
    )
  ),
  fc.constantFrom(...MISSING),
  noise,
  fc.constant(null)
);
const boolCell = fc.oneof(
  decorate(
    fc.constantFrom(
      ..."是 有 y yes true 1 √ ✓ 发现 已发现 否 无 n no false 0 × ✗ 未发现 没有 Y YES True TRUE 2 对 错 x".split(
        " "
      )
    )
  ),
  fc.constantFrom(...MISSING),
  noise,
  fc.constant(null)
);
const dateCell = fc.oneof(
  fc.constantFrom(
    "1900-02-29",
    "2000-02-29",
    "2024-02-29",
    "2023-02-29",
    "2099-12-31",
    "1899-12-31",
    "2100-01-01",
    "2024-04-31",
    "2024-00-10"
  ),
  decorate(
    fc
      .tuple(
        fc.integer({min: 1700, max: 2300}),
        fc.integer({min: 0, max: 14}),
        fc.integer({min: 0, max: 32}),
        fc.constantFrom("年", "-", "/", ".", "", "x"),
        fc.boolean(),
        fc.constantFrom("", "T00:00:00", "T", " 08:30")
      )
      .map(([y, m, d, sep, zero, tail]) => {
        const mm = zero ? String(m).padStart(2, "0") : String(m);
        const dd = zero ? String(d).padStart(2, "0") : String(d);
        if (sep === "年") return `${y}年${mm}月${dd}${zero ? "日" : ""}`;
        return `${String(y).padStart(4, "0")}${sep}${mm}${sep}${dd}${sep === "" ? "" : tail}`;
      })
  ),
  decorate(fc.tuple(digits(5, 5), fc.option(digits(1, 3))).map(([d, f]) => (f === null ? d : `${d}.${f}`))),
  decorate(
    fc.constantFrom("00060", "00061", "60", "0999-01-01", "2024年2月29日", "2023年2月29日", "2024-13-01")
  ),
  fc.constantFrom(...MISSING),
  noise,
  fc.constant(null)
);
const textCell = fc.oneof(
  fc.constantFrom("null1", "N/A1", "1", "-1", "..1", "JC640104-0000001", "H64010400002", "a_b.c-9"),
  decorate(fc.constantFrom("银川市", "H64010400001", "JC2024-640104-0001", "宁东 基地", "a\tb", "ABC")),
  fc.constantFrom(...MISSING),
  noise,
  fc.string({maxLength: 8}),
  fc.constant(null)
);

const CELLS: Record<Kind, fc.Arbitrary<string | null>> = {
  text: textCell,
  amount: amountCell,
  count: countCell,
  percent: percentCell,
  bool: boolCell,
  date: dateCell
};

describe("the SQL value normalizer (values-sql.ts) gives what the JS one gives", () => {
  it("knows NFKC and white space for every character it decides (every code point checked)", async () => {
    const wrong: string[] = [];
    for (const [from, to] of FAST_RANGES) {
      for (let c = from; c <= to; c++) {
        const char = String.fromCodePoint(c);
        if (char.normalize("NFKC") !== fastNfkc(c)) wrong.push(`U+${c.toString(16)} NFKC`);
        // After the table, the only white space left is what the SQL folds: tab, LF, CR and space.
        if (/\s/.test(fastNfkc(c)) !== ["\t", "\n", "\r", " "].includes(fastNfkc(c)))
          wrong.push(`U+${c.toString(16)} white space`);
      }
    }
    expect(wrong).toEqual([]);
    // And characters outside it are left to JS, however they normalize.
    const outside = [
      "\u00a0",
      "\u000b",
      "\ufeff",
      "ﬁ",
      "…",
      "①",
      "㎡",
      "e\u0301",
      "\u{20000}",
      "\uf900",
      "\u2003"
    ];
    await cellsTable("outside", outside);
    const reader = await conn.runAndReadAll("SELECT x, fw_fast(x) AS fast FROM outside");
    expect(reader.getRowObjectsJS().filter((row) => row.fast !== false)).toEqual([]);
    // Inside it, the same texts are decided.
    const inside = await conn.runAndReadAll("SELECT fw_fast('银川市 ＡＢＣ，、。《》1.8万元') AS fast");
    expect(inside.getRowObjectsJS()[0]!.fast).toBe(true);
  });

  it("JS_SPACE_CLASS is JS's white space, for every BMP character", async () => {
    const chars = Array.from({length: 0x10000}, (_, c) => c)
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCharCode(c));
    await cellsTable("bmp", chars);
    const reader = await conn.runAndReadAll(
      `SELECT unicode(x) AS code FROM bmp WHERE regexp_full_match(x, '${JS_SPACE_CLASS}') ORDER BY code`
    );
    const sql = reader.getRowObjectsJS().map((r) => Number(r.code));
    expect(sql).toEqual(chars.filter((c) => /\s/.test(c)).map((c) => c.charCodeAt(0)));
  });

  for (const kind of Object.keys(KINDS) as Kind[]) {
    it(`${kind}: SQL = JS on generated cells (property)`, async () => {
      let decided = 0;
      let asked = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(CELLS[kind], {minLength: 1, maxLength: 300}),
          fc.constantFrom<MoneyUnitName>("元", "万元", "亿元"),
          fc.boolean(),
          async (cells, unit, date1904) => {
            const {mismatches, toJs} = await compare(kind, cells, {unit, date1904});
            expect(mismatches).toEqual([]);
            asked += cells.length;
            decided += cells.length - toJs;
          }
        ),
        {numRuns: 40}
      );
      // The comparison is not empty: most generated cells are decided by SQL.
      expect(decided / asked).toBeGreaterThan(0.6);
    });
  }

  it("decides in SQL the forms districts write, and the common mistakes", async () => {
    const forms: Record<Kind, (string | null)[]> = {
      amount: [
        "12,946.92元",
        "24253.33",
        "1.8万元",
        "182.69万",
        "0.35亿",
        "１２，９４６．９２",
        "￥2,114.50",
        "人民币 300 元",
        "-5",
        "1.234元",
        "约1.8万",
        "1e5",
        "abc",
        "—",
        null,
        "123456789012345678901234567890"
      ],
      count: ["1,722", "１７２２", "1722条", "3 家次", "1.5", "-2", "约3", "9007199254740993", "", null],
      percent: ["80%", "80", "0.8", "５％", "101", "-1", "abc", null],
      bool: ["是", "否", "Y", "n", "√", "×", "有", "无", "对", null, "NULL"],
      date: [
        "2024年5月10日",
        "2024/5/10",
        "2024-05-10",
        "2024.5.10",
        "2024-05-10T00:00:00",
        "20240510",
        "45422",
        "2024年2月30日",
        "1799-01-01",
        "60",
        "00060",
        "明天",
        null
      ],
      text: ["银川市", " 宁东　基地 ", "ＡＢＣ", "—", null]
    };
    for (const [kind, cells] of Object.entries(forms) as [Kind, (string | null)[]][]) {
      const {mismatches, toJs} = await compare(kind, cells);
      expect(mismatches, kind).toEqual([]);
      // Only the serial with leading zeros ("00060") is left to JS.
      expect(toJs, kind).toBe(kind === "date" ? 1 : 0);
    }
  });

  it("fails when the SQL is wrong (the comparison can tell)", async () => {
    // The same cells, read by the amount macro as if the column were in 万元: the values differ.
    const cells = ["12.5", "3"];
    const sql = await viaSql("amount", cells, {unit: "万元", date1904: false});
    expect(sql.map((r) => r?.ok && r.value)).toEqual([12_500_000n, 3_000_000n]);
    const wrong = cells.filter((cell, i) => {
      const js = parseAmountFen(cell, "元");
      return !(js.ok && sql[i]?.ok && sql[i]!.value === js.value);
    });
    expect(wrong).toEqual(cells);
  });
});

describe("every column of every dataset: cellSql = parseCell (the ingest's per-cell step)", () => {
  const ALIASES: [string, string][] = [
    ["640000", "640000"],
    ["宁夏回族自治区", "640000"],
    ["640100", "640100"],
    ["银川市", "640100"],
    ["6401ND", "6401ND"],
    ["宁东", "6401ND"],
    ["宁东基地", "6401ND"]
  ];
  const aliasMap = new Map(ALIASES);
  const squash = (text: string) => normalizeText(text).replace(/\s/g, "");

  beforeAll(async () => {
    await conn.run("CREATE TEMP TABLE test_aliases (alias VARCHAR, code VARCHAR)");
    const appender = await conn.createAppender("test_aliases");
    for (const [alias, code] of ALIASES) {
      appender.appendVarchar(alias);
      appender.appendVarchar(code);
      appender.endRow();
    }
    appender.closeSync();
  });

  /** Cells for a column: what its kind reads, its example and allowed values, division names, noise. */
  function cellsFor(col: Column): fc.Arbitrary<string | null> {
    const byType: Partial<Record<string, fc.Arbitrary<string | null>>> = {
      BIGINT: amountCell,
      INTEGER: countCell,
      DOUBLE: percentCell,
      BOOLEAN: boolCell,
      DATE: dateCell
    };
    const typed = byType[col.duck];
    if (typed) return typed;
    const known = [col.example, ...(col.values ?? []), ...ALIASES.map(([alias]) => alias)];
    return fc.oneof(
      decorate(fc.constantFrom(...known)),
      decorate(fc.constantFrom(...known).map((text) => text.slice(1))),
      decorate(fc.constantFrom(...known).map((text) => `${text}x`)),
      textCell
    );
  }

  for (const ds of DATASETS) {
    for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
      it(`${ds.name}.${field} (${col.header})`, async () => {
        for (const withAliases of [true, false]) {
          await fc.assert(
            fc.asyncProperty(
              fc.array(cellsFor(col), {minLength: 1, maxLength: 200}),
              fc.constantFrom<MoneyUnitName>("元", "万元"),
              async (cells, unit) => {
                const table = `col_${++tableNo}`;
                await cellsTable(table, cells);
                const ctx = {unit, date1904: false, divisionAliases: withAliases ? "fw_aliases" : undefined};
                const v = col.duck === "DATE" ? "strftime(c.v, '%Y-%m-%d')" : "c.v";
                const reader = await conn.runAndReadAll(
                  `SELECT c.state AS state, ${v} AS v, c.reason AS reason, c.reason_en AS reason_en, c.rule AS rule
                   FROM (SELECT i, ${cellSql(field, col, "x", ctx)} AS c FROM ${table},
                     (SELECT map(list(alias), list(code)) AS fw_aliases FROM test_aliases)) ORDER BY i`
                );
                await conn.run(`DROP TABLE ${table}`);
                const rows = reader.getRowObjectsJS();
                const resolveDivision = withAliases
                  ? (text: string) => aliasMap.get(squash(text))
                  : undefined;
                cells.forEach((cell, i) => {
                  const got = rows[i]!;
                  if (got.state === "js") return;
                  const want = parseCell(field, col, cell, {unit, date1904: false, resolveDivision});
                  const have =
                    got.state === "null"
                      ? {state: "null"}
                      : got.state === "ok"
                        ? {
                            state: "ok",
                            value:
                              typeof want === "object" && "value" in want && typeof want.value === "number"
                                ? Number(got.v)
                                : got.v
                          }
                        : {state: "fail", reason: got.reason, reason_en: got.reason_en, rule: got.rule};
                  expect({cell, ...have}).toEqual({cell, ...want});
                });
              }
            ),
            {numRuns: 15}
          );
        }
      });
    }
  }
});

describe("parseColumns (loaders/sql-cells.ts): whole columns in DuckDB, the rest in JS once per text", () => {
  it("reads every cell of the default data's CSV files as the ingest reads it", async () => {
    const dir = "data/ningxia";
    const result = await ingest([dir], {today: "2024-12-31"});
    const aliases = new Map(result.divisionAliases.map(({alias, code}) => [alias, code]));
    const resolveDivision = (text: string) => aliases.get(normalizeText(text).replace(/\s/g, ""));
    await installValueMacros(conn);
    let compared = 0;
    let files = 0;
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".csv")).sort()) {
      const ds = datasetFromFileName(name)!;
      const table = await readCsv(join(dir, name), {
        isHeaderRow: (texts) => mapHeaders(ds, texts).missing.length === 0
      });
      const mapping = mapHeaders(ds, table.headers, table.groups);
      const width = table.headers.length;
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE stage (line INTEGER, ${table.headers.map((_, i) => `c${i} VARCHAR`).join(", ")})`
      );
      const appender = await conn.createAppender("stage");
      for (const {line, cells} of table.rows) {
        appender.appendInteger(line);
        for (let i = 0; i < width; i++) {
          const cell = cells[i];
          if (cell === null || cell === undefined) appender.appendNull();
          else appender.appendVarchar(String(cell));
        }
        appender.endRow();
      }
      appender.closeSync();
      const columns = [...mapping.fields].map(([field, {index, unit}]) => ({
        field,
        col: (ds.columns as Record<string, Column>)[field]!,
        raw: `c${index}`,
        ctx: {unit: unit ?? ("元" as const), date1904: false}
      }));
      await parseColumns(conn, {
        source: "stage",
        target: "parsed",
        columns,
        keep: ["line"],
        divisionAliases: aliases
      });
      const reader = await conn.runAndReadAll(
        `SELECT line, ${columns.map(({field, col}) => `${quote(field)}.state AS ${quote(`${field}.state`)}, ${col.duck === "DATE" ? `strftime(${quote(field)}.v, '%Y-%m-%d')` : `${quote(field)}.v`} AS ${quote(`${field}.v`)}, ${quote(field)}.reason AS ${quote(`${field}.reason`)}, ${quote(field)}.rule AS ${quote(`${field}.rule`)}`).join(", ")} FROM parsed ORDER BY line`
      );
      const rows = reader.getRowObjectsJS();
      expect(rows.length).toBe(table.rows.length);
      table.rows.forEach(({cells}, r) => {
        for (const {field, col, raw, ctx} of columns) {
          const cell = cells[Number(raw.slice(1))] ?? null;
          const want = parseCell(field, col, cell, {...ctx, resolveDivision});
          const row = rows[r]!;
          const got = {
            state: row[`${field}.state`],
            value: row[`${field}.v`],
            reason: row[`${field}.reason`],
            rule: row[`${field}.rule`]
          };
          expect(got.state, `${name} ${field} ${String(cell)}`).toBe(want.state);
          if (want.state === "ok")
            expect(String(got.value), `${name} ${field} ${String(cell)}`).toBe(String(want.value));
          if (want.state === "fail") expect([got.reason, got.rule]).toEqual([want.reason, want.rule]);
          compared += 1;
        }
      });
      files += 1;
    }
    expect(files).toBeGreaterThanOrEqual(10);
    expect(compared).toBeGreaterThan(1000);
  });

  it("sends texts outside the SQL's table to JS once per distinct text, and writes JS's answers back", async () => {
    await installValueMacros(conn);
    const cells = [
      "1.8万元",
      "1\u00a0800元",
      "1\u00a0800元",
      "ﬁ",
      "\u00a0",
      "１２",
      null,
      "约5元",
      "1\u00a0800元",
      "\ufeff约5元"
    ];
    await cellsTable("stage2", cells);
    const col = (findings.columns as Record<string, Column>).amount_involved!;
    const stats = await parseColumns(conn, {
      source: "stage2",
      target: "parsed2",
      columns: [{field: "amount_involved", col, raw: "x", ctx: {unit: "元", date1904: false}}],
      keep: ["i"]
    });
    // NBSP (three cells, one text), the ligature, the lone NBSP and the leading U+FEFF are outside the table.
    expect(stats).toEqual({cellsToJs: 6, textsToJs: 4});
    const rows = (
      await conn.runAndReadAll(
        "SELECT amount_involved.state AS state, amount_involved.v AS v, amount_involved.reason AS reason FROM parsed2 ORDER BY i"
      )
    ).getRowObjectsJS();
    const want = cells.map((cell) => parseCell("amount_involved", col, cell, {unit: "元", date1904: false}));
    expect(rows.map((r) => r.state)).toEqual(want.map((w) => w.state));
    expect(rows.map((r) => (r.v === null ? null : BigInt(r.v as bigint)))).toEqual(
      want.map((w) => (w.state === "ok" ? w.value : null))
    );
    expect(rows.map((r) => r.reason)).toEqual(want.map((w) => (w.state === "fail" ? w.reason : null)));
    expect(rows[1]).toMatchObject({state: "ok", v: 180_000n});
    // JS read the text as it is, U+FEFF and all (its reason quotes it).
    expect(want[9]).toMatchObject({state: "fail", reason: '金额不精确（含"约/余/多/近"等）：\ufeff约5元'});
  });
});

describe("every row rule's SQL twin (RowRule.sql) flags the rows its JS check flags, with the same text", () => {
  /** Parsed values of a column's type, edges and NULL included (the rules compare within a row). */
  function valuesFor(col: Column): fc.Arbitrary<unknown> {
    const day = fc
      .integer({min: 0, max: 20})
      .map((d) => new Date(Date.UTC(2024, 4, 1 + d)).toISOString().slice(0, 10));
    const byType: Record<string, fc.Arbitrary<unknown>> = {
      BIGINT: fc.bigInt({min: 0n, max: 5n}),
      INTEGER: fc.integer({min: 0, max: 5}),
      DOUBLE: fc.double({min: 0, max: 100, noNaN: true}),
      BOOLEAN: fc.boolean(),
      DATE: day,
      VARCHAR: col.values
        ? fc.constantFrom(...col.values, "其他")
        : fc.constantFrom(col.example, "P64010400001", "H64010400001", "省", "640100")
    };
    return fc.option(byType[col.duck]!, {freq: 3});
  }

  for (const ds of DATASETS.filter((d) => d.rules.length > 0)) {
    it(`${ds.name}: ${ds.rules.map((r) => r.name).join(", ")}`, async () => {
      const fields = Object.entries(ds.columns) as [string, Column][];
      const types = fields.map(([, col]) => SQL_VALUE_TYPE[col.duck]);
      let flagged = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(...fields.map(([, col]) => valuesFor(col))), {minLength: 1, maxLength: 60}),
          async (rows) => {
            const table = `rules_${++tableNo}`;
            await conn.run(
              `CREATE TEMP TABLE ${table} (i INTEGER, ${fields.map(([f], k) => `${quote(f)} ${types[k]}`).join(", ")})`
            );
            const appender = await conn.createAppender(table);
            rows.forEach((values, i) => {
              appender.appendInteger(i);
              values.forEach((value, k) => {
                if (value === null) appender.appendNull();
                else if (typeof value === "bigint") appender.appendHugeInt(value);
                else if (typeof value === "boolean") appender.appendBoolean(value);
                else if (typeof value === "number" && types[k] === "DOUBLE") appender.appendDouble(value);
                else if (typeof value === "number") appender.appendBigInt(BigInt(value));
                // Text, and dates as ISO text (DuckDB casts them on append).
                else appender.appendVarchar(String(value));
              });
              appender.endRow();
            });
            appender.closeSync();
            const reader = await conn.runAndReadAll(
              `SELECT ${ds.rules.map((r, k) => `${r.sql((f) => quote(f))} AS r${k}`).join(", ")} FROM ${table} ORDER BY i`
            );
            await conn.run(`DROP TABLE ${table}`);
            const got = reader.getRowObjectsJS();
            rows.forEach((values, i) => {
              const row = Object.fromEntries(fields.map(([f], k) => [f, values[k]]));
              ds.rules.forEach((rule, k) => {
                const want = rule.check(row as never);
                const have = got[i]![`r${k}`] as {column: string; reason: string; reason_en: string} | null;
                if (want) flagged += 1;
                expect({rule: rule.name, row, issue: have}).toEqual({
                  rule: rule.name,
                  row,
                  issue: want ? {column: want.column, reason: want.reason, reason_en: want.reason_en} : null
                });
              });
            });
          }
        ),
        {numRuns: 25}
      );
      expect(flagged).toBeGreaterThan(0);
    });
  }
});
