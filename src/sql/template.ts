/**
 * SQL text with bound parameters. Values interpolated into the `sql` tagged template never become
 * SQL text: each becomes a `?` placeholder with the value in `params`. Identifiers (table and column
 * names chosen in code) go through {@link ident}, which quotes them; nothing else is spliced.
 */

/** A value DuckDB can bind to a `?` placeholder. */
export type SqlValue = string | number | boolean | bigint | null;

/** A quoted identifier, made only by {@link ident}. */
export class SqlIdentifier {
  readonly quoted: string;
  constructor(name: string) {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("标识符不能为空");
    if (name.includes("\u0000")) throw new TypeError("标识符含有非法字符");
    this.quoted = `"${name.replaceAll('"', '""')}"`;
  }
}

/**
 * Quotes a table or column name for SQL text: `ident('a"b')` → `"a""b"`. Interpolated into
 * {@link sqlQuery} (or `db.sql`), it becomes text, not a bound value: use it for a column chosen in
 * code, e.g. the dimension a page groups by. An empty name, or one with a NUL character, throws.
 *
 * @param name - the table or column name, unquoted
 * @returns the quoted identifier, to interpolate into a query
 * @example
 * ```ts
 * const column = ident("kind");
 * const rows = await db.sql`SELECT ${column}, count(*)::INTEGER AS n FROM institutions GROUP BY ${column} ORDER BY n DESC`;
 * rows[0]; // → {kind: "零售药店", n: 1638}
 * ident('a"b').quoted; // → '"a""b"'
 * ```
 */
export function ident(name: string): SqlIdentifier {
  return new SqlIdentifier(name);
}

/** SQL text with `?` placeholders, and the values bound to them in order. */
export interface SqlQuery {
  readonly text: string;
  readonly params: readonly SqlValue[];
}

/** Anything that runs a {@link SqlQuery} and returns plain rows: the page's `db`, or native DuckDB in tests. */
export interface QueryDb {
  query(query: SqlQuery): Promise<Record<string, unknown>[]>;
}

/** Marks the queries {@link sqlQuery} made: only those may be nested in another query. */
const MADE = new WeakSet<object>();

function isMadeQuery(value: unknown): value is SqlQuery {
  return typeof value === "object" && value !== null && MADE.has(value);
}

function toSqlValue(value: unknown, index: number): SqlValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`第 ${index + 1} 个查询参数不是有限数值: ${value}`);
      return value;
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new TypeError(`第 ${index + 1} 个查询参数是无效日期`);
        return value.toISOString();
      }
      throw new TypeError(`第 ${index + 1} 个查询参数类型不受支持: ${Object.prototype.toString.call(value)}`);
  }
}

/**
 * Builds a {@link SqlQuery} from a tagged template:
 * `sqlQuery\`SELECT * FROM t WHERE code = ${code}\`` → `{text: "SELECT * FROM t WHERE code = ?", params: [code]}`.
 * Arrays expand to a parenthesised list of placeholders for `IN (...)`. A query made by `sqlQuery` may be
 * interpolated into another: its text and its bound values are inserted in place (a plain object is
 * refused, so text from elsewhere can never be spliced in). `db.sql` is this tag and `db.query` in one;
 * use `sqlQuery` to build a query in parts, to show it, or to run it with `db.query`.
 *
 * @param strings - the template's text (given by the tag syntax)
 * @param values - the interpolated values: strings, numbers, booleans, bigints, null or undefined (NULL),
 *   Dates (as ISO text), arrays of those (for `IN`), queries made by `sqlQuery`, or {@link ident}s (default none)
 * @returns the query: its text with `?` placeholders and the values bound to them, in order
 * @example
 * ```ts
 * const kinds = ["医院", "诊所"];
 * const query = sqlQuery`SELECT count(*)::INTEGER AS n FROM institutions WHERE kind IN ${kinds} AND division_code = ${"640104"}`;
 * query.text; // → "SELECT count(*)::INTEGER AS n FROM institutions WHERE kind IN (?, ?) AND division_code = ?"
 * query.params; // → ["医院", "诊所", "640104"]
 * await db.query(query); // → [{n: 93}]
 * ```
 */
export function sqlQuery(strings: readonly string[], ...values: readonly unknown[]): SqlQuery {
  let text = strings[0] ?? "";
  const params: SqlValue[] = [];
  values.forEach((value, i) => {
    if (value instanceof SqlIdentifier) {
      text += value.quoted;
    } else if (isMadeQuery(value)) {
      text += value.text;
      params.push(...value.params);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new TypeError(`第 ${i + 1} 个查询参数是空数组，IN () 无法成立`);
      text += `(${value.map(() => "?").join(", ")})`;
      for (const item of value) params.push(toSqlValue(item, i));
    } else {
      text += "?";
      params.push(toSqlValue(value, i));
    }
    text += strings[i + 1] ?? "";
  });
  const query = Object.freeze({text, params: Object.freeze(params)});
  MADE.add(query);
  return query;
}

/**
 * Joins queries made by {@link sqlQuery} with a separator (SQL text chosen in code, not data), keeping
 * their bound values in order: the way to build a `WHERE` from the conditions a page's filter asks for.
 *
 * @param parts - the queries to join, in order
 * @param separator - the SQL text between them, e.g. `" AND "` or `", "`
 * @returns one query
 * @example
 * ```ts
 * const where = joinSql([sqlQuery`kind = ${"医院"}`, sqlQuery`level = ${"三级"}`], " AND ");
 * where.text; // → "kind = ? AND level = ?"
 * await db.sql`SELECT count(*)::INTEGER AS n FROM institutions WHERE ${where}`; // → [{n: 84}]
 * ```
 */
export function joinSql(parts: readonly SqlQuery[], separator: string): SqlQuery {
  const strings = ["", ...parts.slice(1).map(() => separator), ""];
  return sqlQuery(strings, ...parts);
}
