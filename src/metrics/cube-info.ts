/**
 * What a database's cube holds, read once per database object. Kept apart from cube.ts (which builds
 * the cube from the metrics' and the recovery breakdowns' own SQL) so that every module answering
 * from the cube can ask without an import cycle.
 */
import {sqlQuery, type QueryDb} from "../sql/template.js";

/** The cube's format version: a database written by another version is answered from detail rows. */
export const CUBE_VERSION = 5;

/**
 * How many cases of each undated cell `cube_top_cases` keeps (src/metrics/cube.ts): `largestCases`
 * with a limit up to this and no date in its filter is answered from it.
 */
export const TOP_CASES_PER_CELL = 50;

/**
 * Whether a filter narrows the inspection day (`from` or `to`). Without, the cube answers from its
 * tables summed over every day (`cube_cells_all_days`, `cube_recoveries_weekly`,
 * `cube_recovery_shares_all_days`, `cube_top_cases`): the same figures from up to a hundred times
 * fewer rows (src/metrics/cube.ts).
 *
 * @param filter - the filter
 * @returns true when the filter has `from` or `to`
 */
export function narrowsDays(filter: {from?: string; to?: string}): boolean {
  return filter.from !== undefined || filter.to !== undefined;
}

/** What a database's cube holds (from `cube_meta`). */
export interface CubeInfo {
  version: number;
  cellMetrics: ReadonlySet<string>;
  institutionMetrics: ReadonlySet<string>;
  /** Whether it holds `cube_first_inspections` and `cube_recoveries` for weekly progress. */
  progress: boolean;
  /** Whether it holds `cube_recovery_shares` for the recovery breakdowns (src/metrics/recovery.ts). */
  shares: boolean;
  /** Whether it holds `cube_cases` and `cube_institution_findings` (largest cases, institutions with findings). */
  cases: boolean;
  /** How many cases of each undated cell `cube_top_cases` holds. */
  topCasesPerCell: number;
  /** Whether it holds the filter bar's choices (`cube_inspection_kinds`, `cube_meta`'s first and last day). */
  choices: boolean;
}

const CUBE_PROBE = sqlQuery`SELECT count(*) AS n FROM information_schema.tables
WHERE table_name = 'cube_meta' AND table_catalog = current_database() AND table_schema = current_schema()`;

const infos = new WeakMap<object, Promise<CubeInfo | null>>();

/**
 * The cube of a database, read once per database object: null when it has none, or one of another
 * {@link CUBE_VERSION} (then every metric is answered from the detail rows).
 *
 * @param db - the page's `db` or any {@link QueryDb}
 * @returns what the cube holds, or null
 */
export function cubeOf(db: QueryDb): Promise<CubeInfo | null> {
  let info = infos.get(db);
  if (!info) {
    info = (async () => {
      const [probe] = await db.query(CUBE_PROBE);
      if (Number(probe?.n ?? 0) === 0) return null;
      const [meta] = await db.query(sqlQuery`SELECT * FROM cube_meta`);
      if (!meta || Number(meta.version) !== CUBE_VERSION) return null;
      const list = (value: unknown): Set<string> =>
        new Set(typeof value === "string" && value !== "" ? value.split(",") : []);
      return {
        version: Number(meta.version),
        cellMetrics: list(meta.cell_metrics),
        institutionMetrics: list(meta.institution_metrics),
        progress: true,
        shares: true,
        cases: true,
        topCasesPerCell: Number(meta.top_cases_per_cell),
        choices: true
      };
    })();
    // A failed probe is not remembered: the next call tries again.
    info.catch(() => infos.delete(db));
    infos.set(db, info);
  }
  return info;
}
