/**
 * 周进度: cumulative progress by the Friday cut-off of each week — institutions inspected on site
 * (distinct, counted from their first on-site inspection) against designated institutions, and funds
 * recovered (追回 + 拒付 + 扣回, by decision date) — per division at any level. The figures of a week
 * are everything on or before its Friday. Computed in SQL and, independently, in JS.
 */
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";
import {cubeOf, narrowsDays} from "./cube.js";
import {fridaysBetween} from "./campaign.js";
import {fridayOfSql, NOT_ON_SITE, recoveredWhere} from "./parts.js";
import {cellWhereSql, groupsOf, groupsSql, scopeData, scopeSql} from "./scope.js";
import type {DivisionLevel, MetricData, MetricFilter} from "./types.js";

export interface ProgressOptions {
  level?: DivisionLevel;
  filter?: MetricFilter;
  /** First day of the weeks shown (YYYY-MM-DD), usually the campaign's start. */
  from: string;
  /** Last day (YYYY-MM-DD), usually the as-of date: the last week is the last Friday on or before it. */
  to: string;
}

/** One division's cumulative figures at one Friday cut-off. */
export interface ProgressRow {
  code: string;
  /** The Friday, `YYYY-MM-DD`. */
  week_ending: string;
  /** Institutions inspected on site by that Friday (distinct). */
  inspected: number;
  /** Designated institutions (in the filter's kinds). */
  institutions: number;
  /** Coverage by that Friday, 0–1; null with no institutions. */
  coverage: number | null;
  /** Funds recovered by that Friday, in fen. */
  recovered: number;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function fridaysOf(from: string, to: string): string[] {
  for (const [key, value] of [
    ["from", from],
    ["to", to]
  ] as const)
    if (!ISO_DAY.test(value)) throw new TypeError(`周进度的 ${key} 应为 YYYY-MM-DD 格式的日期：${value}`);
  return fridaysBetween(from, to);
}

/**
 * The SQL of {@link weeklyProgress}: one row per division and Friday (code, week_ending, inspected,
 * institutions, recovered); null when there is no Friday between `from` and `to`.
 *
 * @param options - which divisions, records and weeks
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @param options.from - first day of the weeks, YYYY-MM-DD (usually the campaign's start)
 * @param options.to - last day, YYYY-MM-DD (usually the as-of date)
 * @param engine - where the rows come from (default {})
 * @param engine.cube - from the build's cube (`cube_first_inspections`, `cube_recoveries`): then null also
 *   for a filter with `from` or `inspectionKinds`, which the cube does not cover (default false: the detail rows)
 * @returns the query, or null
 * @example
 * ```ts
 * const query = weeklyProgressSql({level: "省", from: "2024-09-21", to: "2024-09-27"});
 * const rows = query === null ? [] : await db.query(query); // → [{code: "640000", week_ending: "2024-09-27", inspected: 3567, institutions: 4655, recovered: 1699397782}]
 * weeklyProgressSql({from: "2024-09-28", to: "2024-10-03"}); // → null
 * ```
 */
export function weeklyProgressSql(
  {level = "县", filter = {}, from, to}: ProgressOptions,
  engine: {cube?: boolean} = {}
): SqlQuery | null {
  const cube = engine.cube ?? false;
  const fridays = fridaysOf(from, to);
  const first = fridays[0];
  const last = fridays.at(-1);
  if (first === undefined || last === undefined) return null;
  if (cube && !progressCubeCovers(filter)) return null;
  const recoveries = cube
    ? cubeRecoveries(filter)
    : sqlQuery`SELECT county, decided_on, amount FROM f_dispositions WHERE ${recoveredWhere()}`;
  // Undated, the cube has the institutions counted by the week of their first on-site inspection.
  const inspectedByWeek =
    cube && !narrowsDays(filter)
      ? sqlQuery`SELECT county, friday, sum(n) AS n FROM cube_first_onsite_weeks
  WHERE ${filter.campaign === undefined ? sqlQuery`all_campaigns` : sqlQuery`NOT all_campaigns`}
    AND ${cellWhereSql(filter, {within: false})}
  GROUP BY ALL`
      : sqlQuery`SELECT county, ${fridayOfSql("day")} AS friday, count(*) AS n
  FROM (
    SELECT county, institution_code, min(date) AS day FROM f_inspections
    WHERE kind NOT IN ${[...NOT_ON_SITE]} GROUP BY county, institution_code
  ) GROUP BY ALL`;
  // Undated, the cube's tables answer every part: no record and no institution is read.
  const undated = cube && !narrowsDays(filter);
  const designated = undated
    ? sqlQuery`SELECT g.code, coalesce(sum(i.n), 0) AS n FROM groups AS g LEFT JOIN (
    SELECT county, n FROM cube_institutions${
      filter.institutionKinds
        ? sqlQuery` WHERE institution_kind IN ${[...filter.institutionKinds]}`
        : sqlQuery``
    }
  ) AS i ON i.county = g.county
  WHERE g.code IS NOT NULL GROUP BY g.code`
    : sqlQuery`SELECT g.code, count(i.code) AS n FROM groups AS g LEFT JOIN f_institutions AS i ON i.county = g.county
  WHERE g.code IS NOT NULL GROUP BY g.code`;
  // Each day counts in the week ending on its Friday (fridayOfSql).
  return sqlQuery`${undated ? sqlQuery`WITH` : sqlQuery`${scopeSql(filter, {firstInspections: cube})},`}
groups AS (${groupsSql(level, filter.within)}),
weeks AS (
  -- unnest() of the list form: the mvp build of DuckDB-WASM cannot bind a table function's parameters.
  SELECT CAST(unnest(generate_series(CAST(${first} AS DATE), CAST(${last} AS DATE), INTERVAL 7 DAY)) AS DATE) AS friday
),
inspected_by_week AS (${inspectedByWeek}),
recovered_by_week AS (
  SELECT county, ${fridayOfSql("decided_on")} AS friday,
    sum(amount) AS fen
  FROM (${recoveries}) GROUP BY ALL
),
institutions AS (${designated}),
inspected AS (
  SELECT g.code, w.friday, sum(x.n) AS n FROM groups AS g CROSS JOIN weeks AS w
  JOIN inspected_by_week AS x ON x.county = g.county AND x.friday <= w.friday
  WHERE g.code IS NOT NULL GROUP BY g.code, w.friday
),
recovered AS (
  SELECT g.code, w.friday, sum(x.fen) AS fen FROM groups AS g CROSS JOIN weeks AS w
  JOIN recovered_by_week AS x ON x.county = g.county AND x.friday <= w.friday
  WHERE g.code IS NOT NULL GROUP BY g.code, w.friday
)
SELECT d.code, strftime(w.friday, '%Y-%m-%d') AS week_ending,
  CAST(coalesce(s.n, 0) AS BIGINT) AS inspected, CAST(d.n AS BIGINT) AS institutions,
  CAST(coalesce(r.fen, 0) AS BIGINT) AS recovered
FROM institutions AS d CROSS JOIN weeks AS w
LEFT JOIN inspected AS s ON s.code = d.code AND s.friday = w.friday
LEFT JOIN recovered AS r ON r.code = d.code AND r.friday = w.friday
ORDER BY d.code, week_ending`;
}

/**
 * Whether the cube answers weekly progress under a filter: without `from` and `inspectionKinds`
 * (institutions count from their first on-site inspection, see src/metrics/cube.ts).
 */
export function progressCubeCovers(filter: MetricFilter): boolean {
  return filter.from === undefined && filter.inspectionKinds === undefined;
}

/** The recovered amounts by county and decision day from the cube, under a filter it covers. */
function cubeRecoveries(filter: MetricFilter): SqlQuery {
  // Undated, the decisions summed by the Friday ending their week (the buckets below) suffice.
  const table = narrowsDays(filter) ? sqlQuery`cube_recoveries` : sqlQuery`cube_recoveries_weekly`;
  return sqlQuery`SELECT county, decided_on, amount FROM ${table} WHERE ${cellWhereSql(filter, {within: false})}`;
}

function toProgressRow(r: {
  code: unknown;
  week_ending: unknown;
  inspected: unknown;
  institutions: unknown;
  recovered: unknown;
}): ProgressRow {
  const inspected = Number(r.inspected);
  const institutions = Number(r.institutions);
  return {
    code: String(r.code),
    week_ending: String(r.week_ending),
    inspected,
    institutions,
    coverage: institutions === 0 ? null : inspected / institutions,
    recovered: Number(r.recovered)
  };
}

/**
 * Weekly cumulative progress per division, from the database (the page's `db`): by each Friday from
 * `from` to `to`, the institutions inspected on site (distinct, from their first on-site inspection),
 * the designated institutions, coverage, and funds recovered (追回 + 拒付 + 扣回, by decision date).
 * Ordered by division, then Friday.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param options - which divisions, records and weeks
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @param options.from - first day of the weeks, YYYY-MM-DD (usually the campaign's start)
 * @param options.to - last day, YYYY-MM-DD (usually the as-of date: the last week is the last Friday on or before it)
 * @returns one row per division and Friday; none when there is no Friday in between
 * @example
 * ```ts
 * const rows = await weeklyProgress(db, {level: "市", from: "2024-05-15", to: "2024-09-27"});
 * rows.length; // → 100
 * rows[19]; // → {code: "640100", week_ending: "2024-09-27", inspected: 1511, institutions: 1983, coverage: 0.761976802824004, recovered: 656855947}
 * const hospitals = await weeklyProgress(db, {level: "省", filter: {institutionKinds: ["医院"]}, from: "2024-09-21", to: "2024-09-27"});
 * hospitals.map((r) => [r.inspected, r.institutions]); // → [[412, 545]]
 * ```
 */
export async function weeklyProgress(db: QueryDb, options: ProgressOptions): Promise<ProgressRow[]> {
  const cube = await cubeOf(db);
  const query =
    (cube?.progress ? weeklyProgressSql(options, {cube: true}) : null) ?? weeklyProgressSql(options);
  if (query === null) return [];
  return (await db.query(query)).map((r) => toProgressRow(r as Parameters<typeof toProgressRow>[0]));
}

/**
 * The JS reference of {@link weeklyProgress}, written without reference to the SQL: the same rows,
 * from plain data.
 *
 * @param data - the loader's tables as plain objects
 * @param options - which divisions, records and weeks
 * @param options.level - the level of the rows: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.filter - which records count (default {}: all)
 * @param options.from - first day of the weeks, YYYY-MM-DD
 * @param options.to - last day, YYYY-MM-DD
 * @returns one row per division and Friday, ordered by division, then Friday
 * @example
 * ```ts
 * const rows = weeklyProgressReference(data, {level: "省", from: "2024-09-21", to: "2024-09-27"});
 * rows.map((r) => formatPercent(r.coverage)); // → ["76.6%"]
 * await weeklyProgress(db, {level: "省", from: "2024-09-21", to: "2024-09-27"}); // → rows
 * ```
 */
export function weeklyProgressReference(
  data: MetricData,
  {level = "县", filter = {}, from, to}: ProgressOptions
): ProgressRow[] {
  const fridays = fridaysOf(from, to);
  const scoped = scopeData(data, filter);
  const groups = groupsOf(data, level, filter.within);
  const codes = [...new Set([...groups.values()].filter((c): c is string => c !== null))].sort();
  const institutions = new Map<string, number>();
  for (const i of scoped.institutions) {
    const code = groups.get(i.county);
    if (code != null) institutions.set(code, (institutions.get(code) ?? 0) + 1);
  }
  const firstVisit = new Map<string, {code: string | null | undefined; day: string}>();
  for (const s of scoped.inspections) {
    if ((NOT_ON_SITE as readonly string[]).includes(s.kind)) continue;
    const seen = firstVisit.get(s.institution_code);
    if (!seen || s.date < seen.day)
      firstVisit.set(s.institution_code, {code: groups.get(s.county), day: s.date});
  }
  const money = scoped.dispositions.filter(
    (p) => (RECOVERY_ACTIONS as readonly string[]).includes(p.action) && p.amount !== null
  );
  const rows: ProgressRow[] = [];
  for (const code of codes) {
    for (const friday of fridays) {
      let inspected = 0;
      for (const v of firstVisit.values()) if (v.code === code && v.day <= friday) inspected += 1;
      let recovered = 0;
      for (const p of money)
        if (groups.get(p.county) === code && p.decided_on <= friday) recovered += p.amount ?? 0;
      rows.push(
        toProgressRow({
          code,
          week_ending: friday,
          inspected,
          institutions: institutions.get(code) ?? 0,
          recovered
        })
      );
    }
  }
  return rows;
}
