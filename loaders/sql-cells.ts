/**
 * The ingest's per-cell step over whole columns in DuckDB: each raw text column of a staging table is
 * read by its column's SQL twin ({@link cellSql}); the cells the SQL leaves to JS (texts outside its
 * NFKC table, numbers beyond HUGEINT, see src/parse/values-sql.ts) are read by {@link parseCell} once
 * per distinct text and written back. The result is the same, cell for cell, as {@link parseCell}
 * (test/unit/values-sql.test.ts).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {
  SQL_VALUE_TYPE,
  cellSql,
  parseCell,
  type Column,
  type ParseContext,
  type SqlParseContext
} from "../src/schema/dataset.js";
import {VALUE_MACROS} from "../src/parse/values-sql.js";
import {squash} from "./ingest.js";
import {textOfBytes, quote} from "./duckdb-file.js";

export interface SqlColumn {
  /** The dataset field (names the output column and the `invalid-<field>` rule). */
  field: string;
  col: Column;
  /** The staging table's raw text column it is read from (VARCHAR, NULL for an empty cell). */
  raw: string;
  /** The column's money unit (from its header) and the workbook's date system. */
  ctx: Pick<ParseContext, "unit" | "date1904">;
}

export interface ParseColumnsOptions {
  /** Staging table (trusted identifier) with the raw columns. */
  source: string;
  /** Table to create: `keep`'s columns, then per column `<field>` (the cell's STRUCT) and `<field>__raw`. */
  target: string;
  columns: readonly SqlColumn[];
  /** Columns of `source` copied as they are (the line number, say). */
  keep?: readonly string[];
  /** The division aliases (squashed alias → code) for division columns; both paths use the same table. */
  divisionAliases?: ReadonlyMap<string, string>;
}

/** How many cells SQL left to JS, and how many distinct texts JS read for them. */
export interface ParseColumnsStats {
  cellsToJs: number;
  textsToJs: number;
}

/** Installs the value macros on a connection (once; `CREATE OR REPLACE`, so again does no harm). */
export async function installValueMacros(conn: DuckDBConnection): Promise<void> {
  await conn.run(VALUE_MACROS);
}

/**
 * Creates `target` from `source`: every column read as the ingest reads a cell. Needs
 * {@link installValueMacros} on `conn`.
 */
export async function parseColumns(
  conn: DuckDBConnection,
  options: ParseColumnsOptions
): Promise<ParseColumnsStats> {
  const {source, target, columns, keep = [], divisionAliases} = options;
  const aliases = "fw_alias_map";
  if (divisionAliases) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${aliases}_rows (alias VARCHAR, code VARCHAR)`);
    const appender = await conn.createAppender(`${aliases}_rows`);
    for (const [alias, code] of divisionAliases) {
      appender.appendVarchar(alias);
      appender.appendVarchar(code);
      appender.endRow();
    }
    appender.closeSync();
  }
  const select = [
    ...keep.map(quote),
    ...columns.flatMap(({field, col, raw, ctx}) => {
      const sqlCtx: SqlParseContext = {...ctx, divisionAliases: divisionAliases ? aliases : undefined};
      return [
        `${quote(raw)} AS ${quote(`${field}__raw`)}`,
        `${cellSql(field, col, quote(raw), sqlCtx)} AS ${quote(field)}`
      ];
    })
  ];
  const from = divisionAliases
    ? `${source}, (SELECT map(list(alias), list(code)) AS ${aliases} FROM ${aliases}_rows)`
    : source;
  await conn.run(`CREATE OR REPLACE TABLE ${target} AS SELECT ${select.join(", ")} FROM ${from}`);

  const stats: ParseColumnsStats = {cellsToJs: 0, textsToJs: 0};
  const resolveDivision = divisionAliases ? (text: string) => divisionAliases.get(squash(text)) : undefined;
  for (const {field, col, ctx} of columns) {
    const f = quote(field);
    const raw = quote(`${field}__raw`);
    // The texts go to JS as bytes: @duckdb/node-api decodes VARCHAR with a TextDecoder that drops a
    // leading U+FEFF, and the JS answer must be for the text as it is (its reasons quote it).
    const texts = `fw_js_texts_${field}`;
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${quote(texts)} AS SELECT row_number() OVER () AS k, x, n FROM
       (SELECT ${raw} AS x, count(*) AS n FROM ${target} WHERE ${f}.state = 'js' GROUP BY ALL)`
    );
    const reader = await conn.runAndReadAll(`SELECT k, encode(x) AS b, n FROM ${quote(texts)}`);
    const rows = reader.getRowObjectsJS() as {k: bigint; b: Uint8Array; n: bigint}[];
    if (rows.length === 0) {
      await conn.run(`DROP TABLE ${quote(texts)}`);
      continue;
    }
    stats.textsToJs += rows.length;
    for (const {n} of rows) stats.cellsToJs += Number(n);
    const table = `fw_js_${field}`;
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${quote(table)} (k BIGINT, state VARCHAR, v VARCHAR, reason VARCHAR, reason_en VARCHAR, rule VARCHAR)`
    );
    const appender = await conn.createAppender(table);
    for (const {k, b} of rows) {
      const outcome = parseCell(field, col, textOfBytes(b), {...ctx, resolveDivision});
      appender.appendBigInt(k);
      appender.appendVarchar(outcome.state);
      if (outcome.state === "ok") appender.appendVarchar(String(outcome.value));
      else appender.appendNull();
      for (const text of outcome.state === "fail"
        ? [outcome.reason, outcome.reason_en, outcome.rule]
        : [null, null, null]) {
        if (text === null) appender.appendNull();
        else appender.appendVarchar(text);
      }
      appender.endRow();
    }
    appender.closeSync();
    await conn.run(
      `UPDATE ${target} SET ${f} = {'state': j.state, 'v': CAST(j.v AS ${SQL_VALUE_TYPE[col.duck]}), 'reason': j.reason, 'reason_en': j.reason_en, 'rule': j.rule}
       FROM ${quote(table)} AS j JOIN ${quote(texts)} AS t USING (k) WHERE ${target}.${raw} = t.x AND ${target}.${f}.state = 'js'`
    );
    await conn.run(`DROP TABLE ${quote(texts)}`);
    await conn.run(`DROP TABLE ${quote(table)}`);
  }
  return stats;
}
