/**
 * The small file first (issue 20): the site's database is also written as a small file holding every
 * table but the record tables, which are views on the full file attached under {@link FULL_CATALOG}
 * (loaders/core-file.ts). A query on the small file that reads a record table fails with DuckDB's
 * "Catalog "fundwatch_full" does not exist" until the full file is attached under that name; the
 * binder, not a guess from the SQL text, decides which queries need it. Plain values, no DuckDB: the
 * loader, the client and the tests share them.
 */

/** The name the full file is attached under beside the small one; the small file's views name it. */
export const FULL_CATALOG = "fundwatch_full";

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
  const message = error instanceof Error ? error.message : String(error);
  return message.includes(`Catalog "${FULL_CATALOG}" does not exist`);
}
