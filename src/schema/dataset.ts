/**
 * The column DSL the datasets are written in. Each column states once its Chinese header, the other
 * headers people type for it, an English label, a description, how a raw cell is normalized, its zod
 * type and its DuckDB type; the zod schema, the fill-in templates and the loaders all derive from it.
 */
import {z} from "zod";
import {
  fail,
  MISSING,
  isMissing,
  ok,
  parseAmountFen,
  parseBool,
  parseCount,
  parseDate,
  parsePercent,
  parseText,
  normalizeText,
  type Cell,
  type MoneyUnitName,
  type Parsed
} from "../parse/values.js";
import {PLAIN_ID, UNIT_SCALE, letSql, sqlText} from "../parse/values-sql.js";

/** DuckDB column types used by the loaders. Money is BIGINT fen; dates are DATE. */
export type DuckType = "VARCHAR" | "BIGINT" | "INTEGER" | "DOUBLE" | "BOOLEAN" | "DATE";

/** What a column's parser may need beyond the cell. */
export interface ParseContext {
  /** The money unit the file's header gives the column (`金额（万元）`), default 元. */
  unit: MoneyUnitName;
  /** Whether the workbook counts dates from 1904. */
  date1904: boolean;
  /** Resolves a division code, name or alias to its code; undefined if unknown. */
  resolveDivision?: (text: string) => string | undefined;
}

/**
 * What a column's SQL twin ({@link Column.sql}) needs beyond the cell: the same as {@link ParseContext},
 * with the division aliases as a table (`alias` squashed as the ingest squashes it, `code`).
 */
export interface SqlParseContext {
  unit: MoneyUnitName;
  date1904: boolean;
  /**
   * A column in the query's scope (trusted identifier) holding the alias table as a
   * `MAP(VARCHAR, VARCHAR)`, squashed alias → code (`SELECT map(list(alias), list(code)) AS … FROM …`
   * joined to the rows); without it a division must be a code.
   */
  divisionAliases?: string;
}

export interface Column<T = unknown> {
  header: string;
  aliases: readonly string[];
  label_en: string;
  description: string;
  /** Blank cells allowed (stored as NULL); such a column may also be absent from a file. */
  optional: boolean;
  duck: DuckType;
  /** For enumerations: the allowed (canonical) values. */
  values?: readonly string[];
  /** An example value for the templates. */
  example: string;
  parse(cell: Cell, ctx: ParseContext): Parsed<T>;
  /**
   * {@link parse} as SQL over the raw text column `x` (an identifier or expression; VARCHAR, NULL for
   * an empty cell): a STRUCT `{ok, v, reason, reason_en}` as the macros of src/parse/values-sql.ts give
   * it (`ok IS NULL`: left to `parse`). Needs `VALUE_MACROS` on the connection.
   */
  sql(x: string, ctx: SqlParseContext): string;
  /**
   * The common plain spelling of a value as SQL, read without {@link sql}'s general path (which costs
   * several times more per cell): `test` over the raw text `x` (never true for a text {@link sql}
   * reads otherwise), `value` its value. The SQL twins' property tests check it like the rest.
   */
  plain?: (x: string, ctx: SqlParseContext) => {test: string; value: string} | undefined;
  zod: z.ZodType<T>;
}

/**
 * The parse `parsed` refused when `test` is false, with `reason`; else as it is. `test` and the reasons
 * are SQL over `fw_r` (the parse's STRUCT, computed once).
 */
function refineSql(parsed: string, suffix: string, test: string, reason: string, reasonEn: string): string {
  return letSql(
    parsed,
    "fw_r",
    `CASE WHEN fw_r.ok AND NOT (${test}) THEN fw_fail_${suffix}(${reason}, ${reasonEn}) ELSE fw_r END`
  );
}

interface Common {
  aliases?: readonly string[];
  description: string;
  optional?: boolean;
  example: string;
}

function column<T>(
  header: string,
  label_en: string,
  common: Common,
  rest: Pick<Column<T>, "duck" | "parse" | "sql" | "zod" | "plain"> & {values?: readonly string[]}
): Column<T> {
  return {
    header,
    aliases: common.aliases ?? [],
    label_en,
    description: common.description,
    optional: common.optional ?? false,
    example: common.example,
    ...rest,
    zod: rest.zod.describe(`${header} · ${label_en}：${common.description}`) as z.ZodType<T>
  };
}

/** Free text. */
export function text(
  header: string,
  label_en: string,
  common: Common & {pattern?: RegExp; patternMessage?: string}
): Column<string> {
  const {pattern, patternMessage} = common;
  return column(header, label_en, common, {
    duck: "VARCHAR",
    zod: pattern ? z.string().regex(pattern) : z.string().min(1),
    plain: (x) => ({
      test: `regexp_full_match(${x}, '${PLAIN_ID}')${pattern ? ` AND regexp_matches(${x}, ${sqlText(pattern.source)})` : ""}`,
      value: x
    }),
    sql(x) {
      if (!pattern) return `fw_text(${x})`;
      return refineSql(
        `fw_text(${x})`,
        "t",
        `regexp_matches(fw_r.v, ${sqlText(pattern.source)})`,
        `${sqlText(`${patternMessage ?? "格式不正确"}：`)} || fw_r.v`,
        `'malformed value: ' || fw_r.v`
      );
    },
    parse(cell) {
      const parsed = parseText(cell);
      if (!parsed.ok || !pattern) return parsed;
      return pattern.test(parsed.value)
        ? parsed
        : fail(`${patternMessage ?? "格式不正确"}：${parsed.value}`, `malformed value: ${parsed.value}`);
    }
  });
}

/** The largest value a DuckDB INTEGER column holds. */
export const INTEGER_MAX = 2_147_483_647;

/** A whole non-negative count; one beyond {@link INTEGER_MAX} is refused (it could not be stored). */
export function count(header: string, label_en: string, common: Common): Column<number> {
  return column(header, label_en, common, {
    duck: "INTEGER",
    zod: z.number().int().nonnegative().max(INTEGER_MAX),
    // Up to nine digits, no leading zero: below INTEGER_MAX.
    plain: (x) => ({test: `regexp_full_match(${x}, '0|[1-9][0-9]{0,8}')`, value: `CAST(${x} AS BIGINT)`}),
    sql(x) {
      return refineSql(
        `fw_count(${x})`,
        "i",
        `fw_r.v <= ${INTEGER_MAX}`,
        `'数量过大：' || ${x} || '（超过可存储的上限 2,147,483,647）'`,
        `'count too large to store: ' || ${x}`
      );
    },
    parse(cell) {
      const parsed = parseCount(cell);
      if (parsed.ok && parsed.value > INTEGER_MAX)
        return fail(
          `数量过大：${String(cell)}（超过可存储的上限 2,147,483,647）`,
          `count too large to store: ${String(cell)}`
        );
      return parsed;
    }
  });
}

/** Money in integer fen; the header's unit (元/万元/亿元) scales values written without one. */
export function amount(header: string, label_en: string, common: Common): Column<bigint> {
  return column(header, label_en, common, {
    duck: "BIGINT",
    zod: z.bigint().nonnegative(),
    // Up to 15 whole digits without a leading zero, up to 2 decimals, in the header's unit.
    plain: (x, ctx) => ({
      test: `regexp_full_match(${x}, '(0|[1-9][0-9]{0,14})(\\.[0-9]{1,2})?')`,
      // The digits with the decimals padded to two (17 digits fit a BIGINT); a DECIMAL cast is 30x slower.
      value: `CAST(CAST(split_part(${x}, '.', 1) || rpad(split_part(${x}, '.', 2), 2, '0') AS BIGINT) AS HUGEINT) * CAST(${10n ** BigInt(UNIT_SCALE[ctx.unit] - 2)} AS HUGEINT)`
    }),
    sql(x, ctx) {
      return refineSql(
        `fw_amount(${x}, ${UNIT_SCALE[ctx.unit]})`,
        "h",
        `fw_r.v >= 0`,
        `'金额不能为负：' || ${x}`,
        `'amount must not be negative: ' || ${x}`
      );
    },
    parse(cell, ctx) {
      const parsed = parseAmountFen(cell, ctx.unit);
      if (parsed.ok && parsed.value < 0n)
        return fail(`金额不能为负：${String(cell)}`, `amount must not be negative: ${String(cell)}`);
      return parsed;
    }
  });
}

/** A percentage in points (80 for 80%). */
export function percent(header: string, label_en: string, common: Common): Column<number> {
  return column(header, label_en, common, {
    duck: "DOUBLE",
    zod: z.number().min(0).max(100),
    sql: (x) => `fw_percent(${x})`,
    parse: (cell) => parsePercent(cell)
  });
}

/** A calendar date as `YYYY-MM-DD`. */
export function date(header: string, label_en: string, common: Common): Column<string> {
  return column(header, label_en, common, {
    duck: "DATE",
    zod: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    // ISO, years 1900–2099, a day the month has.
    plain: (x) => ({
      test: `regexp_full_match(${x}, '(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])') AND try_cast(${x} AS DATE) IS NOT NULL`,
      value: `CAST(${x} AS DATE)`
    }),
    sql: (x, ctx) => `fw_date(${x}, ${ctx.date1904})`,
    parse: (cell, ctx) => parseDate(cell, {date1904: ctx.date1904})
  });
}

/** Yes or no. */
export function bool(header: string, label_en: string, common: Common): Column<boolean> {
  return column(header, label_en, common, {
    duck: "BOOLEAN",
    zod: z.boolean(),
    plain: (x) => ({test: `${x} IN ('是', '否')`, value: `${x} = '是'`}),
    sql: (x) => `fw_bool(${x})`,
    parse: (cell) => parseBool(cell)
  });
}

/**
 * One of a fixed list. `values` maps each canonical (Chinese) value to the other spellings accepted
 * for it; matching ignores white space and full-width forms, never guesses.
 */
export function oneOf<const V extends string>(
  header: string,
  label_en: string,
  values: Record<V, readonly string[]>,
  common: Common
): Column<V> {
  const canonical = Object.keys(values) as V[];
  const lookup = new Map<string, V>();
  for (const value of canonical) {
    for (const spelling of [value, ...values[value]])
      lookup.set(normalizeText(spelling).replace(/\s/g, ""), value);
  }
  return column(header, label_en, common, {
    duck: "VARCHAR",
    values: canonical,
    zod: z.enum(canonical as [V, ...V[]]),
    // A canonical value as it is (one NFKC changes, or with white space, or a missing marker, is not plain).
    plain(x) {
      const plain = canonical.filter((v) => normalizeText(v) === v && !/\s/.test(v) && !MISSING.has(v));
      return plain.length === 0 ? undefined : {test: `${x} IN (${plain.map(sqlText).join(", ")})`, value: x};
    },
    sql(x) {
      const cases = [...lookup].map(
        ([spelling, value]) => `WHEN ${sqlText(spelling)} THEN ${sqlText(value)}`
      );
      // Most cells are written as a canonical value: a quick IN list before the lookup of every spelling.
      const found = `CASE WHEN fw_r.v IN (${canonical.map(sqlText).join(", ")}) THEN fw_r.v ELSE CASE fw_squash(fw_r.v) ${cases.join(" ")} END END`;
      return letSql(
        `fw_text(${x})`,
        "fw_r",
        letSql(
          found,
          "fw_found",
          `CASE WHEN fw_r.ok AND fw_found IS NULL THEN fw_fail_t(${sqlText("「")} || fw_r.v || ${sqlText(
            `」不在允许的取值中（${canonical.join("、")}）`
          )}, '"' || fw_r.v || '" is not one of the allowed values') WHEN fw_r.ok THEN fw_ok_t(fw_found) ELSE fw_r END`
        )
      );
    },
    parse(cell) {
      const parsed = parseText(cell);
      if (!parsed.ok) return parsed;
      const value = lookup.get(parsed.value.replace(/\s/g, ""));
      return value === undefined
        ? fail(
            `「${parsed.value}」不在允许的取值中（${canonical.join("、")}）`,
            `"${parsed.value}" is not one of the allowed values`
          )
        : ok(value);
    }
  });
}

/** A division, written as its code, its name or an alias (宁东 / 宁东基地 → 6401ND); stored as the code. */
export function division(header: string, label_en: string, common: Common): Column<string> {
  return column(header, label_en, common, {
    duck: "VARCHAR",
    zod: z.string().regex(DIVISION_CODE),
    sql(x, ctx) {
      if (!ctx.divisionAliases)
        return refineSql(
          `fw_text(${x})`,
          "t",
          `regexp_matches(fw_r.v, ${sqlText(DIVISION_CODE.source)})`,
          `'不是区划编码：' || fw_r.v`,
          `'not a division code: ' || fw_r.v`
        );
      return letSql(
        `fw_text(${x})`,
        "fw_r",
        letSql(
          `${ctx.divisionAliases}[fw_squash(fw_r.v)]`,
          "fw_code",
          `CASE WHEN fw_r.ok AND fw_code IS NULL THEN fw_fail_t('未知区划「' || fw_r.v || '」（不做模糊匹配，请使用区划表中的编码、名称或别名）', 'unknown division "' || fw_r.v || '" (no fuzzy matching)') WHEN fw_r.ok THEN fw_ok_t(fw_code) ELSE fw_r END`
        )
      );
    },
    parse(cell, ctx) {
      const parsed = parseText(cell);
      if (!parsed.ok) return parsed;
      if (!ctx.resolveDivision)
        return DIVISION_CODE.test(parsed.value)
          ? parsed
          : fail(`不是区划编码：${parsed.value}`, `not a division code: ${parsed.value}`);
      const code = ctx.resolveDivision(parsed.value);
      return code === undefined
        ? fail(
            `未知区划「${parsed.value}」（不做模糊匹配，请使用区划表中的编码、名称或别名）`,
            `unknown division "${parsed.value}" (no fuzzy matching)`
          )
        : ok(code);
    }
  });
}

/** Six characters: a GB/T 2260 code, or a parent's first four digits plus a two-character local code (6401ND, 640199). */
export const DIVISION_CODE = /^\d{4}[0-9A-Z]{2}$/;

/**
 * What becomes of one cell of a data row: a value, NULL (a blank optional cell), or a refusal with its
 * rule (`required` for a blank required cell, `invalid-<field>` otherwise). The ingest's per-cell step.
 */
export type CellOutcome =
  | {state: "null"}
  | {state: "ok"; value: unknown}
  | {state: "fail"; reason: string; reason_en: string; rule: string};

/** The ingest's reading of one cell of `field` (JS; {@link cellSql} is its SQL twin). */
export function parseCell(field: string, col: Column, cell: Cell, ctx: ParseContext): CellOutcome {
  if (isMissing(cell) && col.optional && col.duck !== "BOOLEAN") return {state: "null"};
  const parsed = col.parse(cell, ctx);
  if (parsed.ok) return {state: "ok", value: parsed.value};
  if (isMissing(cell) && !col.optional)
    return {
      state: "fail",
      reason: `「${col.header}」不能为空`,
      reason_en: `${col.label_en} is required`,
      rule: "required"
    };
  return {state: "fail", reason: parsed.reason, reason_en: parsed.reason_en, rule: `invalid-${field}`};
}

/** The SQL type of a column's parsed value in its twin's STRUCT (money is HUGEINT fen until stored). */
export const SQL_VALUE_TYPE: Record<DuckType, string> = {
  VARCHAR: "VARCHAR",
  BIGINT: "HUGEINT",
  INTEGER: "BIGINT",
  DOUBLE: "DOUBLE",
  BOOLEAN: "BOOLEAN",
  DATE: "DATE"
};

/**
 * {@link parseCell} as SQL over the raw text column `x`: a STRUCT `{state, v, reason, reason_en, rule}`,
 * `state` one of `null`, `ok`, `fail`, or `js` where the SQL leaves the cell to {@link parseCell}.
 */
export function cellSql(field: string, col: Column, x: string, ctx: SqlParseContext): string {
  const type = SQL_VALUE_TYPE[col.duck];
  const r = "fw_cell";
  const missing = `fw_cell_missing(${x})`;
  const outcome = (state: string, v: string, reason: string, reasonEn: string, rule: string) =>
    `{'state': '${state}', 'v': CAST(${v} AS ${type}), 'reason': CAST(${reason} AS VARCHAR), 'reason_en': CAST(${reasonEn} AS VARCHAR), 'rule': CAST(${rule} AS VARCHAR)}`;
  const read = letSql(
    col.sql(x, ctx),
    r,
    `CASE
    WHEN ${r}.ok IS NULL THEN ${outcome("js", "NULL", "NULL", "NULL", "NULL")}
    WHEN ${r}.ok THEN ${outcome("ok", `${r}.v`, "NULL", "NULL", "NULL")}
    ${
      col.optional
        ? ""
        : `WHEN ${missing} THEN ${outcome("fail", "NULL", sqlText(`「${col.header}」不能为空`), sqlText(`${col.label_en} is required`), "'required'")}`
    }
    ELSE ${outcome("fail", "NULL", `${r}.reason`, `${r}.reason_en`, sqlText(`invalid-${field}`))} END`
  );
  // A blank optional cell is NULL without being parsed (a yes/no column reads 无 as "no" instead).
  const general =
    !col.optional || col.duck === "BOOLEAN"
      ? read
      : `CASE WHEN ${missing} THEN ${outcome("null", "NULL", "NULL", "NULL", "NULL")} ELSE ${read} END`;
  const plain = col.plain?.(x, ctx);
  if (!plain) return general;
  return `CASE WHEN ${x} IS NOT NULL AND ${plain.test} THEN ${outcome("ok", plain.value, "NULL", "NULL", "NULL")} ELSE ${general} END`;
}

/** A check over one whole row, after every cell parsed. */
export interface RowRule<R> {
  name: string;
  /** Returns an issue, or undefined if the row passes. `severity: "warning"` keeps the row. */
  check(
    row: R
  ): {column: string; reason: string; reason_en: string; severity?: "error" | "warning"} | undefined;
  /**
   * {@link check} as SQL: NULL when the row passes, else a STRUCT `{column, reason, reason_en}`, given
   * each field's parsed value as SQL (`v("amount")`; money HUGEINT fen, dates DATE). Built with {@link ruleSql}.
   */
  sql(v: (field: string) => string): string;
}

/** A rule's SQL twin: the issue when `condition` holds (SQL), else NULL; `reason` is SQL (a literal: {@link sqlText}). */
export function ruleSql(condition: string, column: string, reason: string, reasonEn: string): string {
  return `CASE WHEN ${condition} THEN {'column': ${sqlText(column)}, 'reason': ${reason}, 'reason_en': ${reasonEn}} END`;
}

/** A SQL string literal of a constant text (for {@link ruleSql}'s reasons). */
export {sqlText};

export interface Dataset<R extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  label: string;
  label_en: string;
  description: string;
  /** Words that identify the dataset in a file name (besides `name` and `label`). */
  fileWords: readonly string[];
  /** Columns whose values together identify a row (duplicates are rejected). */
  key: readonly (keyof R & string)[];
  columns: {[K in keyof R]: Column<R[K]>};
  rules: readonly RowRule<R>[];
  schema: z.ZodType<R>;
}

type Nullable<C> = C extends Column<infer T> ? T : never;

/** Builds a dataset: its zod schema is made from the columns (optional columns nullable). */
export function dataset<const C extends Record<string, Column<unknown>>>(spec: {
  name: string;
  label: string;
  label_en: string;
  description: string;
  fileWords?: readonly string[];
  key: readonly (keyof C & string)[];
  columns: C;
  rules?: readonly RowRule<{[K in keyof C]: Nullable<C[K]> | null}>[];
}): Dataset<{[K in keyof C]: Nullable<C[K]> | null}> {
  const shape = Object.fromEntries(
    Object.entries(spec.columns).map(([key, col]) => [key, col.optional ? col.zod.nullable() : col.zod])
  );
  return {
    name: spec.name,
    label: spec.label,
    label_en: spec.label_en,
    description: spec.description,
    fileWords: spec.fileWords ?? [],
    key: spec.key,
    columns: spec.columns as never,
    rules: spec.rules ?? [],
    schema: z.object(shape).describe(`${spec.label} · ${spec.label_en}`) as never
  };
}
