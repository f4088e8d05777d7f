/**
 * The boundary between DuckDB's Arrow results and page code: every row becomes a plain object
 * with JS numbers, strings, booleans, Dates and nulls only. BigInt never leaks out; a BIGINT
 * outside the safe integer range is an error, never silently rounded.
 */

/** Arrow type ids used here (stable across apache-arrow versions; see arrow's `Type` enum). */
const ARROW_INT = 2;
const ARROW_DECIMAL = 7;
const ARROW_DATE = 8;
const ARROW_TIMESTAMP = 10;

/** A result row: column name → plain JS value. */
export type Row = Record<string, string | number | boolean | Date | null>;

/** The minimal shape of an Arrow table that {@link tableToRows} reads. */
export interface ArrowLikeTable {
  readonly numRows: number;
  readonly schema: {
    readonly fields: readonly {readonly name: string; readonly type: {readonly typeId: number}}[];
  };
  getChildAt(index: number): {get(index: number): unknown} | null;
}

/** Converts a BigInt to a number, throwing if it cannot be represented exactly. */
export function bigintToNumber(value: bigint, column: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`列 ${column} 的整数 ${value} 超出 JavaScript 安全整数范围，无法精确显示`);
  }
  return Number(value);
}

function convertValue(value: unknown, typeId: number, column: string): Row[string] {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    const n = bigintToNumber(value, column);
    return typeId === ARROW_TIMESTAMP || typeId === ARROW_DATE ? new Date(n) : n;
  }
  if (typeId === ARROW_DATE || typeId === ARROW_TIMESTAMP) {
    if (typeof value === "number") return new Date(value);
    if (value instanceof Date) return value;
  }
  if (typeId === ARROW_DECIMAL) {
    // Never reached while the client opens DuckDB with castDecimalToDouble (see client.ts):
    // arrow-js's Decimal values lose their scale (duckdb-wasm #1703, shown 100× too large).
    throw new TypeError(`列 ${column} 是未转换的 DECIMAL，请在 SQL 中转换为 DOUBLE 或整数分`);
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value;
  if (typeId === ARROW_INT && typeof value === "object") {
    throw new TypeError(`列 ${column} 是超出 64 位的整数（HUGEINT），请在 SQL 中转换为 BIGINT 或 DOUBLE`);
  }
  throw new TypeError(`列 ${column} 的值类型不受支持: ${Object.prototype.toString.call(value)}`);
}

/** Converts an Arrow table to plain row objects (see module doc for the rules). */
export function tableToRows(table: ArrowLikeTable): Row[] {
  const fields = table.schema.fields;
  const columns = fields.map((_, i) => table.getChildAt(i));
  const rows: Row[] = new Array(table.numRows);
  for (let r = 0; r < table.numRows; ++r) {
    const row: Row = {};
    fields.forEach((field, c) => {
      row[field.name] = convertValue(columns[c]?.get(r) ?? null, field.type.typeId, field.name);
    });
    rows[r] = row;
  }
  return rows;
}
