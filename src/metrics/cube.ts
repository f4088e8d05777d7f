/**
 * The cube: every metric's additive parts, aggregated once at build time where the data is (native
 * DuckDB, in the loader), so that a page answers a metric from a few thousand cells instead of every
 * inspection, finding and disposition.
 *
 * The tables, written beside the detail tables by {@link buildCube}:
 * - `cube_cells`: one row per inspection cell — county × institution kind × inspection day × campaign
 *   × inspection kind, every dimension a filter can narrow — with, for each metric declared
 *   `cube: "cells"`, its numerator and denominator summed over the records of that cell (money in fen,
 *   counts as integers). The parts are computed by the metric's own `parts` SQL, run with each record
 *   tagged with its cell instead of its county: a metric is defined once.
 * - `cube_first_inspections`: for the metrics that count distinct institutions (`cube: "institutions"`,
 *   e.g. coverage), each institution's first inspection per campaign, on site or not, with a problem
 *   or not. "Inspected on site on or before a day" is true of an institution exactly when its first such
 *   inspection is, so the metric's own `parts` SQL over these rows gives the same distinct counts for
 *   any filter without `from` and `inspectionKinds`. The metrics are answered from the tables below,
 *   built from it; weekly progress with a date reads it.
 * - `cube_institution_days` and `cube_institution_all_days`: the same metrics as additive parts by
 *   county × institution kind × campaign scope × day, and over every day (see `institutionDaysSql`):
 *   what `metricByDivision` reads for them, a few thousand rows instead of every first inspection.
 *   `cube_institutions`: the designated institutions by county and kind (weekly progress, undated).
 * - `cube_recoveries`: the recovered amounts (追回/拒付/扣回) by inspection cell and decision day, which
 *   with `cube_first_inspections` answers weekly progress (src/metrics/progress.ts) under the same filters.
 * - `cube_recovery_shares`: the recovered amounts and their number of dispositions by inspection cell,
 *   breakdown dimension and key (src/metrics/recovery.ts's `recoveryBreakdown`, for any filter).
 * - `cube_cases`: every case with any recovery (a finding, or an inspection for recovery decided on it
 *   as a whole) with its inspection cell, amounts, actions and last decision: the largest cases
 *   (src/metrics/recovery.ts's `largestCases`) for any filter by one scan, no join of the records.
 * - `cube_institution_findings`: per inspection cell and institution, its findings (count, amount
 *   involved, categories) and what was recovered: the institutions with findings
 *   (src/metrics/institutions.ts) for any filter. These two have about one row per case or finding, so
 *   they stay in the full file with the records (src/duckdb/split.ts): a page asking for them still
 *   fetches it, but its query reads one table instead of joining every record (at 5M rows the detail
 *   query grew DuckDB-WASM's memory to 2.4 GB).
 * - The undated tables, for a filter without `from` and `to` ({@link narrowsDays}; the filter bar sends
 *   none until a date is chosen): `cube_cells_all_days` and `cube_recovery_shares_all_days` (the same
 *   parts summed over every inspection day), `cube_recoveries_weekly` (the recoveries summed by cell and
 *   the Friday ending the week of the decision, the buckets of weekly progress),
 *   `cube_first_onsite_weeks` (institutions by cell and the Friday ending the week of their first on-site
 *   inspection, of each campaign and of any: weekly progress's inspected counts) and `cube_top_cases`
 *   (each undated cell's {@link TOP_CASES_PER_CELL} largest cases: a case belongs to one cell, so they
 *   hold the largest cases of any set of cells up to that limit). At 5M rows they have about a hundredth
 *   of the rows of the dated ones, and they are in the small file.
 * - `cube_inspection_kinds` and `cube_meta`'s first and last inspection day: what the filter bar
 *   offers (src/ui/page.ts's `loadFilterChoices`), so that no page reads the inspections to show it.
 * - `cube_meta`: the cube's version and the metrics it holds.
 *
 * {@link metricByDivision} answers from the cube whenever the database has one, holds the metric and
 * the filter's dimensions are covered; otherwise from the detail rows. The choice is the SDK's, the
 * same for every page; the tests require cube = detail rows = JS reference exactly.
 */
import {ident, joinSql, sqlQuery, type QueryDb, type SqlQuery} from "../sql/template.js";
import {fridayOfSql, metricCtesSql, NOT_ON_SITE, recoveredWhere} from "./parts.js";
import {CUBE_VERSION, narrowsDays, TOP_CASES_PER_CELL, type CubeInfo} from "./cube-info.js";
import {institutionFindingsCubeSql} from "./institutions.js";
import {casesCubeSql, recoverySharesSql} from "./recovery.js";
import {cellWhereSql, checkFilter, groupsSql} from "./scope.js";
import type {DivisionLevel, Metric, MetricFilter} from "./types.js";

export {CUBE_VERSION, cubeOf, narrowsDays, TOP_CASES_PER_CELL, type CubeInfo} from "./cube-info.js";

/** The tables {@link buildCube} writes. */
export const CUBE_TABLES = [
  "cube_cells",
  "cube_cells_all_days",
  "cube_first_inspections",
  "cube_institution_days",
  "cube_institution_all_days",
  "cube_institutions",
  "cube_recoveries",
  "cube_recoveries_weekly",
  "cube_first_onsite_weeks",
  "cube_recovery_shares",
  "cube_recovery_shares_all_days",
  "cube_cases",
  "cube_top_cases",
  "cube_institution_findings",
  "cube_inspection_kinds",
  "cube_meta"
] as const;

/** The dimensions of a `cube_cells` row, in order. */
export const CUBE_DIMENSIONS = [
  "county",
  "institution_kind",
  "day",
  "campaign_id",
  "inspection_kind"
] as const;

/** The column of `cube_cells` holding a metric's numerator (`n`) or denominator (`d`). */
export function cubeColumn(metric: Pick<Metric, "id">, part: "n" | "d"): string {
  return `${metric.id}__${part}`;
}

/** The WITH clause of the tagged views: each record's `county` is its cell's number. */
function cellScope(): SqlQuery {
  return sqlQuery`WITH
f_institutions AS (SELECT code, CAST(NULL AS BIGINT) AS county, kind FROM institutions WHERE FALSE),
f_inspections AS (SELECT * FROM cube_f_inspections),
f_findings AS (SELECT * FROM cube_f_findings),
f_dispositions AS (SELECT * FROM cube_f_dispositions)`;
}

/**
 * The statements that write `cube_institution_days` and `cube_institution_all_days` (after
 * `cube_first_inspections`): the distinct-institution metrics (`cube: "institutions"`, e.g. coverage)
 * as additive parts by institution cell (county × institution kind), campaign scope and day.
 *
 * A distinct count is not additive over days, but each institution's share of it is a step function of
 * the last day counted: it changes only on the days of the institution's first inspections (of each
 * class, `cube_first_inspections`). So each institution is given a *pair* for "no day yet" (its parts
 * with no inspection: coverage's denominator) and one for each such day, in each campaign scope (each
 * campaign, and all inspections of any or no campaign); the metric's own `parts` SQL is run once over
 * every pair, each pair standing as a county of its own (its institution, and that institution's first
 * inspections of the scope up to its day), and a pair keeps the change from the pair before it. The
 * changes summed by cell, scope and day give the metric for any county set, institution kinds, campaign
 * and last day by one sum: the "no day yet" rows (`all_campaigns` NULL) always, the scope's rows up
 * to the day. The metric stays defined once, by its `parts`.
 */
function institutionDaysSql(metrics: readonly Metric[]): SqlQuery[] {
  const statements: SqlQuery[] = [
    sqlQuery`CREATE OR REPLACE TEMP TABLE cube_institution_pairs AS
WITH days AS (
  SELECT DISTINCT institution_code, campaign_id, FALSE AS all_campaigns, date AS day
  FROM cube_first_inspections WHERE campaign_id IS NOT NULL
  UNION ALL
  SELECT DISTINCT institution_code, CAST(NULL AS VARCHAR), TRUE, date FROM cube_first_inspections
),
pairs AS (
  SELECT code, division_code, kind, CAST(NULL AS VARCHAR) AS campaign_id, CAST(NULL AS BOOLEAN) AS all_campaigns,
    CAST(NULL AS DATE) AS day
  FROM institutions
  UNION ALL
  SELECT i.code, i.division_code, i.kind, d.campaign_id, d.all_campaigns, d.day
  FROM days AS d JOIN institutions AS i ON i.code = d.institution_code
)
SELECT row_number() OVER (ORDER BY code, all_campaigns NULLS FIRST, campaign_id, day NULLS FIRST) AS pair, *
FROM pairs`
  ];
  metrics.forEach((metric, i) => {
    const extra = metricCtesSql(metric);
    statements.push(sqlQuery`CREATE OR REPLACE TEMP TABLE ${ident(`cube_institution_part_${i}`)} AS
WITH
f_institutions AS (SELECT code, pair AS county, kind FROM cube_institution_pairs),
f_inspections AS (
  SELECT s.*, p.pair AS county FROM cube_institution_pairs AS p
  JOIN cube_first_inspections AS s ON s.institution_code = p.code AND s.date <= p.day
    AND (p.all_campaigns OR s.campaign_id = p.campaign_id)
),
f_findings AS (SELECT CAST(NULL AS BIGINT) AS county WHERE FALSE),
f_dispositions AS (SELECT CAST(NULL AS BIGINT) AS county WHERE FALSE)${extra},
parts AS (${metric.parts})
SELECT county AS pair, CAST(sum(numerator) AS BIGINT) AS n, CAST(sum(denominator) AS BIGINT) AS d
FROM parts GROUP BY county`);
  });
  const values = metrics.flatMap((metric, i) => {
    const x = ident(`x${i}`);
    return (["n", "d"] as const).map(
      (part) => sqlQuery`coalesce(${x}.${ident(part)}, 0) AS ${ident(`${part}${i}`)}`
    );
  });
  const joins = metrics.map((_, i) => {
    const x = ident(`x${i}`);
    return sqlQuery`LEFT JOIN ${ident(`cube_institution_part_${i}`)} AS ${x} ON ${x}.pair = p.pair`;
  });
  // A pair's change: its parts less those of the pair before it in its scope (the first day's, less
  // the institution's "no day yet" parts; those rows keep their parts whole).
  const steps = metrics.flatMap((_, i) =>
    (["n", "d"] as const).map((part) => {
      const v = ident(`${part}${i}`);
      return sqlQuery`v.${v} - CASE WHEN v.day IS NULL THEN 0 ELSE coalesce(lag(v.${v}) OVER w, b.${v}) END AS ${v}`;
    })
  );
  const sums = metrics.flatMap((metric, i) =>
    (["n", "d"] as const).map(
      (part) => sqlQuery`CAST(sum(${ident(`${part}${i}`)}) AS BIGINT) AS ${ident(cubeColumn(metric, part))}`
    )
  );
  const nonZero = metrics.flatMap((metric) =>
    (["n", "d"] as const).map((part) => sqlQuery`${ident(cubeColumn(metric, part))} <> 0`)
  );
  const totals = metrics.flatMap((metric) =>
    (["n", "d"] as const).map((part) => {
      const column = ident(cubeColumn(metric, part));
      return sqlQuery`CAST(sum(${column}) AS BIGINT) AS ${column}`;
    })
  );
  statements.push(
    sqlQuery`CREATE OR REPLACE TABLE cube_institution_days AS
WITH v AS (
  SELECT p.*${values.length ? sqlQuery`, ${joinSql(values, ", ")}` : sqlQuery``}
  FROM cube_institution_pairs AS p
  ${joinSql(joins, "\n  ")}
),
steps AS (
  SELECT v.division_code AS county, v.kind AS institution_kind, v.campaign_id, v.all_campaigns, v.day${
    steps.length
      ? sqlQuery`,
    ${joinSql(steps, ",\n    ")}`
      : sqlQuery``
  }
  FROM v LEFT JOIN v AS b ON b.code = v.code AND b.day IS NULL
  WINDOW w AS (PARTITION BY v.code, v.all_campaigns, v.campaign_id ORDER BY v.day)
)
SELECT * FROM (
  SELECT county, institution_kind, campaign_id, all_campaigns, day${
    sums.length
      ? sqlQuery`,
    ${joinSql(sums, ",\n    ")}`
      : sqlQuery``
  }
  FROM steps GROUP BY ALL
)${
      nonZero.length
        ? sqlQuery`
WHERE ${joinSql(nonZero, " OR ")}`
        : sqlQuery``
    }
ORDER BY ALL`,
    sqlQuery`CREATE OR REPLACE TABLE cube_institution_all_days AS
SELECT county, institution_kind, campaign_id, all_campaigns${
      totals.length
        ? sqlQuery`,
  ${joinSql(totals, ",\n  ")}`
        : sqlQuery``
    }
FROM cube_institution_days GROUP BY ALL ORDER BY ALL`
  );
  return statements;
}

/** How the cube is written: see {@link cubeBuildSql}. */
export interface CubeOptions {
  /**
   * How many cases of each undated cell `cube_top_cases` keeps (default {@link TOP_CASES_PER_CELL});
   * recorded in `cube_meta`, whence `largestCases` reads it. Tests lower it so that cells hold more.
   */
  topCasesPerCell?: number;
}

/**
 * The statements that write the cube into the current database (its detail tables already there),
 * in order. Temporary tables (`cube_f_*`, `cube_part_*`) are dropped at the end.
 *
 * @param metrics - the metrics to hold (those with `cube` declared are taken)
 * @param options - how (default {})
 * @returns the statements, to run one after another
 */
export function cubeBuildSql(
  metrics: readonly Metric[],
  {topCasesPerCell = TOP_CASES_PER_CELL}: CubeOptions = {}
): SqlQuery[] {
  if (!Number.isInteger(topCasesPerCell) || topCasesPerCell < 1)
    throw new RangeError(`每格保留的案件数须为正整数：${topCasesPerCell}`);
  const cells = metrics.filter((m) => m.cube === "cells");
  const institutions = metrics.filter((m) => m.cube === "institutions");
  const statements: SqlQuery[] = [
    sqlQuery`CREATE OR REPLACE TEMP TABLE cube_cell_ids AS
SELECT row_number() OVER (ORDER BY county, institution_kind, day, campaign_id NULLS FIRST, inspection_kind) AS cell, *
FROM (
  SELECT DISTINCT i.division_code AS county, i.kind AS institution_kind, s.date AS day, s.campaign_id,
    s.kind AS inspection_kind
  FROM inspections AS s JOIN institutions AS i ON i.code = s.institution_code
)`,
    sqlQuery`CREATE OR REPLACE TEMP TABLE cube_f_inspections AS
SELECT s.*, c.cell AS county FROM inspections AS s
JOIN institutions AS i ON i.code = s.institution_code
JOIN cube_cell_ids AS c ON c.county = i.division_code AND c.institution_kind = i.kind AND c.day = s.date
  AND c.campaign_id IS NOT DISTINCT FROM s.campaign_id AND c.inspection_kind = s.kind`,
    sqlQuery`CREATE OR REPLACE TEMP TABLE cube_f_findings AS
SELECT f.*, s.county FROM findings AS f JOIN cube_f_inspections AS s ON s.id = f.inspection_id`,
    sqlQuery`CREATE OR REPLACE TEMP TABLE cube_f_dispositions AS
SELECT p.*, s.county FROM dispositions AS p
LEFT JOIN findings AS f ON f.id = p.finding_id
JOIN cube_f_inspections AS s ON s.id = coalesce(f.inspection_id, p.inspection_id)`
  ];
  cells.forEach((metric, i) => {
    const extra = metricCtesSql(metric);
    statements.push(sqlQuery`CREATE OR REPLACE TEMP TABLE ${ident(`cube_part_${i}`)} AS
${cellScope()}${extra},
parts AS (${metric.parts})
SELECT county AS cell, CAST(sum(numerator) AS BIGINT) AS n, CAST(sum(denominator) AS BIGINT) AS d
FROM parts GROUP BY county`);
  });
  const columns = cells.flatMap((metric, i) => {
    const p = ident(`p${i}`);
    return [
      sqlQuery`CAST(coalesce(${p}.n, 0) AS BIGINT) AS ${ident(cubeColumn(metric, "n"))}`,
      sqlQuery`CAST(coalesce(${p}.d, 0) AS BIGINT) AS ${ident(cubeColumn(metric, "d"))}`
    ];
  });
  const joins = cells.map((_, i) => {
    const p = ident(`p${i}`);
    return sqlQuery`LEFT JOIN ${ident(`cube_part_${i}`)} AS ${p} ON ${p}.cell = c.cell`;
  });
  statements.push(
    sqlQuery`CREATE OR REPLACE TABLE cube_cells AS
SELECT c.county, c.institution_kind, c.day, c.campaign_id, c.inspection_kind${
      columns.length
        ? sqlQuery`,
  ${joinSql(columns, ",\n  ")}`
        : sqlQuery``
    }
FROM cube_cell_ids AS c
${joinSql(joins, "\n")}
ORDER BY c.cell`,
    sqlQuery`CREATE OR REPLACE TABLE cube_first_inspections AS
SELECT * EXCLUDE (cube_rank) FROM (
  SELECT s.*, row_number() OVER (
    PARTITION BY s.institution_code, s.campaign_id, s.kind IN ${[...NOT_ON_SITE]}, s.problem_found
    ORDER BY s.date, s.id) AS cube_rank
  FROM inspections AS s
) WHERE cube_rank = 1
ORDER BY institution_code, date, id`,
    ...institutionDaysSql(institutions),
    sqlQuery`CREATE OR REPLACE TABLE cube_recoveries AS
SELECT i.division_code AS county, i.kind AS institution_kind, s.date AS day, s.campaign_id,
  s.kind AS inspection_kind, p.decided_on, CAST(sum(p.amount) AS BIGINT) AS amount
FROM (SELECT * FROM dispositions WHERE ${recoveredWhere()}) AS p
LEFT JOIN findings AS f ON f.id = p.finding_id
JOIN inspections AS s ON s.id = coalesce(f.inspection_id, p.inspection_id)
JOIN institutions AS i ON i.code = s.institution_code
GROUP BY ALL
ORDER BY ALL`,
    sqlQuery`CREATE OR REPLACE TABLE cube_recovery_shares AS
${recoverySharesSql()}`,
    sqlQuery`CREATE OR REPLACE TABLE cube_cases AS
${casesCubeSql()}`,
    // The undated tables: the same parts summed over every inspection day, for a filter without
    // `from` and `to` (narrowsDays), which is what the filter bar sends unless a date is chosen.
    sqlQuery`CREATE OR REPLACE TABLE cube_cells_all_days AS
SELECT county, institution_kind, campaign_id, inspection_kind${
      cells.length
        ? sqlQuery`,
  ${joinSql(
    cells.flatMap((metric) =>
      (["n", "d"] as const).map((part) => {
        const column = ident(cubeColumn(metric, part));
        return sqlQuery`CAST(sum(${column}) AS BIGINT) AS ${column}`;
      })
    ),
    ",\n  "
  )}`
        : sqlQuery``
    }
FROM cube_cells GROUP BY ALL ORDER BY ALL`,
    // Weekly progress buckets each decision by the Friday ending its week: storing that Friday as the
    // decision day gives it the same buckets.
    sqlQuery`CREATE OR REPLACE TABLE cube_recoveries_weekly AS
SELECT county, institution_kind, campaign_id, inspection_kind,
  ${fridayOfSql("decided_on")} AS decided_on,
  CAST(sum(amount) AS BIGINT) AS amount
FROM cube_recoveries GROUP BY ALL ORDER BY ALL`,
    // Weekly progress counts an institution in the week of its first on-site inspection (of the
    // campaign, or of any): those counts by cell and Friday, for both.
    sqlQuery`CREATE OR REPLACE TABLE cube_first_onsite_weeks AS
WITH onsite AS (
  SELECT s.institution_code, s.campaign_id, s.date, i.division_code AS county, i.kind AS institution_kind
  FROM inspections AS s JOIN institutions AS i ON i.code = s.institution_code
  WHERE s.kind NOT IN ${[...NOT_ON_SITE]}
),
firsts AS (
  SELECT county, institution_kind, CAST(NULL AS VARCHAR) AS campaign_id, TRUE AS all_campaigns, min(date) AS day
  FROM onsite GROUP BY county, institution_kind, institution_code
  UNION ALL
  SELECT county, institution_kind, campaign_id, FALSE AS all_campaigns, min(date) AS day
  FROM onsite WHERE campaign_id IS NOT NULL GROUP BY county, institution_kind, institution_code, campaign_id
)
SELECT county, institution_kind, campaign_id, all_campaigns,
  ${fridayOfSql("day")} AS friday, CAST(count(*) AS BIGINT) AS n
FROM firsts GROUP BY ALL ORDER BY ALL`,
    sqlQuery`CREATE OR REPLACE TABLE cube_recovery_shares_all_days AS
SELECT county, institution_kind, campaign_id, inspection_kind, dimension, key,
  CAST(sum(amount) AS BIGINT) AS amount, CAST(sum(dispositions) AS BIGINT) AS dispositions
FROM cube_recovery_shares GROUP BY ALL ORDER BY ALL`,
    // A case belongs to one cell, so the largest cases of any set of undated cells are among the
    // largest of each: each cell's first TOP_CASES_PER_CELL in largestCases' order answer any limit
    // up to that.
    sqlQuery`CREATE OR REPLACE TABLE cube_top_cases AS
SELECT * EXCLUDE (day, cube_rank) FROM (
  SELECT *, row_number() OVER (
    PARTITION BY county, institution_kind, campaign_id, inspection_kind ORDER BY recovered DESC, id) AS cube_rank
  FROM cube_cases
) WHERE cube_rank <= CAST(${topCasesPerCell} AS INTEGER)
ORDER BY recovered DESC, id`,
    sqlQuery`CREATE OR REPLACE TABLE cube_institution_findings AS
${institutionFindingsCubeSql()}`,
    sqlQuery`CREATE OR REPLACE TABLE cube_institutions AS
SELECT division_code AS county, kind AS institution_kind, CAST(count(*) AS BIGINT) AS n
FROM institutions GROUP BY ALL ORDER BY ALL`,
    sqlQuery`CREATE OR REPLACE TABLE cube_inspection_kinds AS SELECT DISTINCT kind FROM inspections ORDER BY kind`,
    sqlQuery`CREATE OR REPLACE TABLE cube_meta AS
SELECT CAST(${CUBE_VERSION} AS INTEGER) AS version,
  CAST(${cells.map((m) => m.id).join(",")} AS VARCHAR) AS cell_metrics,
  CAST(${institutions.map((m) => m.id).join(",")} AS VARCHAR) AS institution_metrics,
  (SELECT count(*) FROM cube_cells) AS cells,
  (SELECT count(*) FROM cube_first_inspections) AS first_inspections,
  (SELECT count(*) FROM cube_institution_days) AS institution_days,
  (SELECT count(*) FROM cube_recoveries) AS recoveries,
  (SELECT count(*) FROM cube_recovery_shares) AS recovery_shares,
  (SELECT count(*) FROM cube_cases) AS cases,
  (SELECT count(*) FROM cube_top_cases) AS top_cases,
  CAST(${topCasesPerCell} AS INTEGER) AS top_cases_per_cell,
  (SELECT count(*) FROM cube_institution_findings) AS institution_findings,
  (SELECT min(date) FROM inspections) AS first_day,
  (SELECT max(date) FROM inspections) AS last_day`
  );
  for (const table of ["cube_cell_ids", "cube_f_inspections", "cube_f_findings", "cube_f_dispositions"])
    statements.push(sqlQuery`DROP TABLE ${ident(table)}`);
  cells.forEach((_, i) => statements.push(sqlQuery`DROP TABLE ${ident(`cube_part_${i}`)}`));
  statements.push(sqlQuery`DROP TABLE cube_institution_pairs`);
  institutions.forEach((_, i) =>
    statements.push(sqlQuery`DROP TABLE ${ident(`cube_institution_part_${i}`)}`)
  );
  return statements;
}

/**
 * Writes the cube into a database that holds the detail tables (the loader calls it on the file it
 * writes, before the completeness gates).
 *
 * @param db - the database, native DuckDB at build time
 * @param metrics - the metrics to hold
 * @param options - how (default {}: see {@link CubeOptions})
 * @returns the number of cells and of first-inspection rows written
 */
export async function buildCube(
  db: QueryDb,
  metrics: readonly Metric[],
  options: CubeOptions = {}
): Promise<{cells: number; firstInspections: number}> {
  for (const statement of cubeBuildSql(metrics, options)) await db.query(statement);
  const [meta] = await db.query(sqlQuery`SELECT cells, first_inspections FROM cube_meta`);
  return {cells: Number(meta?.cells ?? 0), firstInspections: Number(meta?.first_inspections ?? 0)};
}

/**
 * Whether the cube can answer a metric under a filter: a `cells` metric under any filter, an
 * `institutions` metric when the filter has no `from` and no `inspectionKinds` (its first inspections
 * say whether an institution was inspected on or before a day, not between two days or by kind).
 *
 * @param metric - the metric
 * @param filter - the filter (default {}: none)
 * @param cube - what the database's cube holds (default: everything declared)
 * @returns whether {@link metricCubeSql} answers it
 * @example
 * ```ts
 * cubeCovers(metricById("recovery_total"), {from: "2024-06-01", inspectionKinds: ["飞行检查"]}); // → true
 * cubeCovers(metricById("coverage"), {to: "2024-06-30", within: "640100"}); // → true
 * cubeCovers(metricById("coverage"), {from: "2024-06-01"}); // → false
 * ```
 */
export function cubeCovers(metric: Metric, filter: MetricFilter = {}, cube?: CubeInfo | null): boolean {
  if (metric.cube === "cells") return cube === undefined || (cube?.cellMetrics.has(metric.id) ?? false);
  if (metric.cube === "institutions")
    return (
      filter.from === undefined &&
      filter.inspectionKinds === undefined &&
      (cube === undefined || (cube?.institutionMetrics.has(metric.id) ?? false))
    );
  return false;
}

/** The tail every metric query shares: the parts summed per group at `level`, zero for none. */
export function groupedParts(metric: Metric, level: DivisionLevel, within: string | undefined): SqlQuery {
  const ratio = metric.measure.kind === "ratio";
  return sqlQuery`groups AS (${groupsSql(level, within)})
SELECT g.code,
  CAST(coalesce(sum(p.numerator), 0) AS BIGINT) AS numerator,
  ${ratio ? sqlQuery`CAST(coalesce(sum(p.denominator), 0) AS BIGINT)` : sqlQuery`CAST(NULL AS BIGINT)`} AS denominator
FROM groups AS g LEFT JOIN parts AS p ON p.county = g.county
WHERE g.code IS NOT NULL
GROUP BY g.code
ORDER BY g.code`;
}

/**
 * The SQL of a metric by division answered from the cube: the same rows as `metricSql` (code,
 * numerator, denominator), or null when the cube does not cover the metric under this filter
 * ({@link cubeCovers}). Values are bound, never spliced.
 *
 * @param metric - the metric
 * @param options - which divisions and records (default {})
 * @param options.level - the level of the rows (default "县")
 * @param options.filter - which records count (default {})
 * @returns the query, or null
 * @example
 * ```ts
 * const query = metricCubeSql(metricById("findings"), {level: "市", filter: {campaign: "ZX2024"}});
 * query?.text.includes("cube_cells"); // → true
 * (await db.query(query!))[0]; // → {code: "640100", numerator: 588, denominator: null}
 * ```
 */
export function metricCubeSql(
  metric: Metric,
  {level = "县", filter = {}}: {level?: DivisionLevel; filter?: MetricFilter} = {}
): SqlQuery | null {
  checkFilter(filter);
  if (!cubeCovers(metric, filter)) return null;
  if (metric.cube === "institutions") {
    // Every institution's "no day yet" parts (all_campaigns NULL), and its changes of the filter's
    // campaign scope up to its last day (institutionDaysSql).
    const where = [
      sqlQuery`(all_campaigns IS NULL OR (${
        filter.campaign === undefined
          ? sqlQuery`all_campaigns`
          : sqlQuery`NOT all_campaigns AND campaign_id = ${filter.campaign}`
      }${filter.to !== undefined ? sqlQuery` AND day <= CAST(${filter.to} AS DATE)` : sqlQuery``}))`
    ];
    if (filter.institutionKinds) where.push(sqlQuery`institution_kind IN ${[...filter.institutionKinds]}`);
    return sqlQuery`WITH parts AS (
  SELECT county, sum(${ident(cubeColumn(metric, "n"))}) AS numerator, sum(${ident(cubeColumn(metric, "d"))}) AS denominator
  FROM ${narrowsDays(filter) ? sqlQuery`cube_institution_days` : sqlQuery`cube_institution_all_days`}
  WHERE ${joinSql(where, " AND ")} GROUP BY county
),
${groupedParts(metric, level, filter.within)}`;
  }
  return sqlQuery`WITH parts AS (
  SELECT county, sum(${ident(cubeColumn(metric, "n"))}) AS numerator, sum(${ident(cubeColumn(metric, "d"))}) AS denominator
  FROM ${narrowsDays(filter) ? sqlQuery`cube_cells` : sqlQuery`cube_cells_all_days`} WHERE ${cellWhereSql(filter, {within: false})} GROUP BY county
),
${groupedParts(metric, level, filter.within)}`;
}
