/**
 * The column DSL the datasets are written in. Each column states once its Chinese header, the other
 * headers people type for it, an English label, a description, how a raw cell is normalized, its zod
 * type and its DuckDB type; the zod schema, the fill-in templates and the loaders all derive from it.
 */
import {z} from "zod";
import {
  fail,
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
  zod: z.ZodType<T>;
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
  rest: Pick<Column<T>, "duck" | "parse" | "zod"> & {values?: readonly string[]}
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
    parse: (cell) => parsePercent(cell)
  });
}

/** A calendar date as `YYYY-MM-DD`. */
export function date(header: string, label_en: string, common: Common): Column<string> {
  return column(header, label_en, common, {
    duck: "DATE",
    zod: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    parse: (cell, ctx) => parseDate(cell, {date1904: ctx.date1904})
  });
}

/** Yes or no. */
export function bool(header: string, label_en: string, common: Common): Column<boolean> {
  return column(header, label_en, common, {
    duck: "BOOLEAN",
    zod: z.boolean(),
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

/** A check over one whole row, after every cell parsed. */
export interface RowRule<R> {
  name: string;
  /** Returns an issue, or undefined if the row passes. `severity: "warning"` keeps the row. */
  check(
    row: R
  ): {column: string; reason: string; reason_en: string; severity?: "error" | "warning"} | undefined;
}

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
