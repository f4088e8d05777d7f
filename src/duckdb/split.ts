/**
 * The small file first (issue 20): the site's database is also written as a small file holding every
 * table but the record tables, which are views on the full file attached under {@link FULL_CATALOG}
 * (loaders/core-file.ts). A query on the small file that reads a record table fails with DuckDB's
 * "Catalog "fundwatch_full" does not exist" until the full file is attached under that name; the
 * binder, not a guess from the SQL text, decides which queries need it. The site's pages go one step
 * further: a first file smaller still, without the cube's tables by day either ({@link DATED_TABLES},
 * views on the small file attached under {@link CORE_CATALOG}), so `[first, small, full]` is fetched
 * file by file as queries need them. Plain values, no DuckDB: the loader, the client and the tests
 * share them.
 */

/** The name the full file is attached under beside the small one; the small file's views name it. */
export const FULL_CATALOG = "fundwatch_full";

/**
 * The name the small file is attached under beside the first file (three files: `[first, small, full]`);
 * the first file's views on the cube's dated tables name it.
 */
export const CORE_CATALOG = "fundwatch_core";

/**
 * The record tables the small file reads from the full one: every inspection, finding and
 * disposition, the rows the ingest rejected or warned about, and the two cube tables with about one
 * row per case or finding (src/metrics/cube.ts: the largest cases, the institutions with findings). The rest (the cube, divisions,
 * institutions, campaigns, calendar, meta, inputs, weekly reports, gates) answers the default views.
 */
export const DETAIL_TABLES = [
  "inspections",
  "findings",
  "dispositions",
  "rejects",
  "warnings",
  "cube_cases",
  "cube_institution_findings"
] as const;

/**
 * The cube's tables by inspection day (src/metrics/cube.ts), which only a filter with a date reads:
 * in the small file, and views on it in the first file (loaders/core-file.ts), which holds the rest of
 * the small file (the undated cube, divisions, institutions, campaigns, meta…), about a fifth of its
 * bytes: what every page's default view and an undated filter read.
 */
export const DATED_TABLES = [
  "cube_cells",
  "cube_first_inspections",
  "cube_recoveries",
  "cube_recovery_shares"
] as const;

/**
 * Which file a query needs that is not attached yet: the catalog DuckDB's binder says does not exist
 * ({@link FULL_CATALOG} or {@link CORE_CATALOG}), or null for any other error.
 *
 * @param error - what a query threw
 * @returns the catalog to attach, or null
 * @example
 * ```ts
 * missingCatalog(new Error('Binder Error: Catalog "fundwatch_core" does not exist!')); // → "fundwatch_core"
 * missingCatalog(new Error('Binder Error: Catalog "fundwatch_full" does not exist!')); // → "fundwatch_full"
 * missingCatalog(new Error("Catalog Error: Table with name instituions does not exist!")); // → null
 * ```
 */
export function missingCatalog(error: unknown): typeof FULL_CATALOG | typeof CORE_CATALOG | null {
  const message = error instanceof Error ? error.message : String(error);
  for (const catalog of [FULL_CATALOG, CORE_CATALOG] as const)
    if (message.includes(`Catalog "${catalog}" does not exist`)) return catalog;
  return null;
}

/**
 * Whether a DuckDB error says the query read a record table of a small file whose full file is not
 * attached yet.
 *
 * @param error - what a query threw
 * @returns true for DuckDB's binder error naming {@link FULL_CATALOG}
 * @example
 * ```ts
 * needsFullFile(new Error('Binder Error: Catalog "fundwatch_full" does not exist!')); // → true
 * needsFullFile(new Error('Catalog Error: Table with name instituions does not exist!')); // → false
 * ```
 */
export function needsFullFile(error: unknown): boolean {
  return missingCatalog(error) === FULL_CATALOG;
}
