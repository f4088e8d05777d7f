/**
 * The small file a page fetches first (issue 20, "a small file first"): every table of the site's
 * database file copied, but the record tables ({@link DETAIL_TABLES}), which are views on the full
 * file attached beside it as {@link FULL_CATALOG}. A page's default view (the cube, divisions,
 * institutions, campaigns, meta) is answered from it alone; a query that reads a record table fails
 * to bind until the client has attached the full file, and then reads it from there
 * (src/duckdb/split.ts, src/duckdb/client.ts).
 *
 * The first file ({@link writeFirstFile}) goes one step further for the site's pages: the cube's tables
 * by day are views on the small file too, so a page's default view and its undated filters fetch about a
 * fifth of the small file's bytes.
 *
 * Written beside its destination under a temporary name and renamed into place, as the full file is.
 */
import {DuckDBInstance} from "@duckdb/node-api";
import {CORE_CATALOG, DATED_TABLES, DETAIL_TABLES, FULL_CATALOG} from "../src/duckdb/split.js";
import {literal, quote, writeNewDuckDBFile} from "./duckdb-file.js";
import {sha256File} from "./outputs.js";

/** How each view of the small file names the full file it reads (its comment, `COMMENT ON VIEW`). */
const SOURCE_COMMENT = "fundwatch_full sha256:";

/**
 * Writes the small file of the database file `full` to `core`: each of its tables copied in the same
 * row order, and for each table of `detail` (default {@link DETAIL_TABLES}) a view of the same name
 * on `fundwatch_full.main.<table>` whose comment names `full` by its SHA-256 (the build checks that
 * the site's two files belong together, {@link checkCorePair}; a comment, not a table, so the small
 * file lists exactly the full file's tables and columns). Throws (leaving no file) when `full` holds a
 * view or a schema other than main.
 *
 * @param full - the site's database file
 * @param core - where to write the small file
 * @param detail - the tables left in the full file
 * @returns the tables copied and the tables made views
 */
export async function writeCoreFile(
  full: string,
  core: string,
  detail: readonly string[] = DETAIL_TABLES
): Promise<{copied: string[]; viewed: string[]}> {
  return writeViewFile(full, core, [{catalog: FULL_CATALOG, path: full, tables: detail}]);
}

/**
 * Writes the first file (the pages' `data/fundwatch-first.duckdb`) of the database file `full` and its
 * small file `core` (written by {@link writeCoreFile}) to `first`: as the small file, but the cube's
 * tables by day ({@link DATED_TABLES}) are views on `fundwatch_core.main.<table>` too (the small file,
 * attached by the client as {@link CORE_CATALOG} when a query with a date needs one). The record
 * tables' views name the full file directly.
 *
 * @param full - the site's database file
 * @param core - its small file
 * @param first - where to write the first file
 * @returns the tables copied and the tables made views
 */
export async function writeFirstFile(
  full: string,
  core: string,
  first: string
): Promise<{copied: string[]; viewed: string[]}> {
  return writeViewFile(full, first, [
    {catalog: FULL_CATALOG, path: full, tables: DETAIL_TABLES},
    {catalog: CORE_CATALOG, path: core, tables: DATED_TABLES}
  ]);
}

/**
 * Copies every table of `full` into a new file `out`, in the same row order, but those of each
 * source's `tables`, which become views of the same name on `<catalog>.main.<table>` (the file at
 * `path`, attached under `catalog` while the views are made: DuckDB binds them then). Every view's
 * comment names `full` by its SHA-256.
 */
async function writeViewFile(
  full: string,
  out: string,
  sources: readonly {catalog: string; path: string; tables: readonly string[]}[]
): Promise<{copied: string[]; viewed: string[]}> {
  const copied: string[] = [];
  const viewed: string[] = [];
  await writeNewDuckDBFile(out, "core_db", async (conn) => {
    // Insertion order is kept (DuckDB's default), so a query without ORDER BY answers alike on both.
    await conn.run("SET preserve_insertion_order = true");
    // Attached under the names the views will name: DuckDB binds them when they are created.
    await conn.run(`ATTACH ${literal(full)} AS ${FULL_CATALOG} (READ_ONLY)`);
    for (const {catalog, path} of sources)
      if (catalog !== FULL_CATALOG) await conn.run(`ATTACH ${literal(path)} AS ${catalog} (READ_ONLY)`);
    const views = (
      await conn.runAndReadAll(
        `SELECT view_name FROM duckdb_views() WHERE database_name = '${FULL_CATALOG}' AND NOT internal`
      )
    ).getRowObjectsJS();
    if (views.length > 0)
      throw new Error(
        `数据文件中有视图（${views.map((v) => String(v.view_name)).join("、")}），首屏小文件不能照抄`
      );
    const tables = (
      await conn.runAndReadAll(
        `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '${FULL_CATALOG}' ORDER BY schema_name, table_name`
      )
    ).getRowObjectsJS() as {schema_name: string; table_name: string}[];
    const viewOf = new Map(sources.flatMap(({catalog, tables}) => tables.map((t) => [t, catalog] as const)));
    for (const {schema_name: schema, table_name: table} of tables) {
      if (schema !== "main") throw new Error(`数据文件中有 main 以外的模式（${schema}），首屏小文件不能照抄`);
      const catalog = viewOf.get(table);
      if (catalog !== undefined) {
        await conn.run(
          `CREATE VIEW core_db.main.${quote(table)} AS SELECT * FROM ${catalog}.main.${quote(table)}`
        );
        viewed.push(table);
      } else {
        await conn.run(
          `CREATE TABLE core_db.main.${quote(table)} AS SELECT * FROM ${FULL_CATALOG}.main.${quote(table)}`
        );
        copied.push(table);
      }
    }
    const comment = literal(`${SOURCE_COMMENT}${await sha256File(full)}`);
    for (const table of viewed) await conn.run(`COMMENT ON VIEW core_db.main.${quote(table)} IS ${comment}`);
  });
  return {copied, viewed};
}

/**
 * Checks that the small file `core` was made from the full file `full` (its views' comments name
 * `full`'s SHA-256): a site whose two files came from different loads would answer a page's
 * default view from other data than its records. Throws in Chinese when they do not belong together.
 *
 * @param core - the small file
 * @param full - the full file
 */
export async function checkCorePair(core: string, full: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  let comments: string[];
  try {
    await conn.run(`ATTACH ${literal(core)} AS core_db (READ_ONLY)`);
    comments = (
      await conn.runAndReadAll(
        "SELECT comment FROM duckdb_views() WHERE database_name = 'core_db' AND NOT internal"
      )
    )
      .getRowObjectsJS()
      .map((r) => String(r.comment ?? ""));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  const sources = [...new Set(comments)];
  const recorded = sources[0]?.startsWith(SOURCE_COMMENT) ? sources[0].slice(SOURCE_COMMENT.length) : "";
  if (sources.length !== 1 || !recorded)
    throw new Error(`首屏小文件 ${core} 不是由 writeCoreFile 写出的：它的视图没有注明完整数据文件`);
  const actual = await sha256File(full);
  if (recorded !== actual)
    throw new Error(
      `首屏小文件与完整数据文件不是同一次载入的结果（小文件记录 ${recorded.slice(0, 12)}…，完整文件为 ${actual.slice(0, 12)}…）：请删除 reports/.observablehq/cache 后重新构建`
    );
}
