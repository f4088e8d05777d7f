/**
 * 周报核对: each weekly report a district filed, against the totals of its own case records up to the
 * same Friday. The case records count from the start of the report's campaign (all inspections in that
 * window, with or without a 行动编号, as districts report the routine checks made during a campaign)
 * up to and including the report's Friday: institutions inspected on site and those found with
 * problems (distinct), funds recovered (追回 + 拒付 + 扣回) and fines by decision date, of the
 * inspections in the window. A report of a city covers its counties.
 *
 * Counts must match exactly. Money may differ by the rounding of a report kept in 万元 to two decimals
 * (at most 50 元, {@link ROUNDING_FEN}): that is 尾差, not a discrepancy.
 */
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";
import {NOT_ON_SITE} from "./parts.js";
import type {MetricData} from "./types.js";

/**
 * The largest difference in fen that a report in 万元 rounded to 0.01 can show: 50 元. A money figure
 * off by no more than this is 尾差, not 不一致.
 *
 * @example
 * ```ts
 * ROUNDING_FEN; // → 5000
 * formatMoney(ROUNDING_FEN); // → "50.00元"
 * ```
 */
export const ROUNDING_FEN = 5_000;

export type ReconcileStatus = "一致" | "尾差" | "不一致";

/**
 * The figures a weekly report is reconciled on, with their Chinese names (the keys of a
 * {@link ReconcileRow}'s `reported`, `recorded` and `figures`).
 *
 * @example
 * ```ts
 * Object.keys(RECONCILED_FIGURES); // → ["inspected", "problems", "recovered", "fined"]
 * RECONCILED_FIGURES.recovered; // → "累计追回金额"
 * ```
 */
export const RECONCILED_FIGURES = {
  inspected: "累计检查机构数",
  problems: "累计发现问题机构数",
  recovered: "累计追回金额",
  fined: "累计罚款金额"
} as const;
export type ReconciledFigure = keyof typeof RECONCILED_FIGURES;

export interface ReconcileRow {
  code: string;
  week_ending: string;
  campaign_id: string | null;
  /** What the district reported; null where the report left a figure empty (罚款 is optional). */
  reported: Record<ReconciledFigure, number | null>;
  /** What its case records give. Money in fen. */
  recorded: Record<ReconciledFigure, number>;
  /** The status of each figure; an empty reported figure is not compared (一致). */
  figures: Record<ReconciledFigure, ReconcileStatus>;
  /** The worst status of the four. */
  status: ReconcileStatus;
}

/** The weekly reports as the reference reads them, plus the campaigns' start dates. */
export interface ReconcileData extends MetricData {
  campaigns: readonly (MetricData["campaigns"][number] & {start_date: string})[];
  weekly_reports: readonly {
    division_code: string;
    week_ending: string;
    campaign_id: string | null;
    institutions_inspected: number;
    problems_found: number;
    amount_recovered: number;
    amount_fined: number | null;
  }[];
}

/**
 * The SQL of {@link reconcileWeekly}: one row per weekly report, ordered by division and Friday, with
 * the reported and the recorded figures (`reported_inspected`, `recorded_inspected`, …; money in fen).
 *
 * @returns the query (no parameters)
 * @example
 * ```ts
 * const rows = await db.query(reconcileSql());
 * rows.length; // → 480
 * rows.filter((r) => r.reported_inspected !== r.recorded_inspected).length; // → 27
 * ```
 */
export function reconcileSql(): SqlQuery {
  return sqlQuery`WITH
counties AS (
  SELECT d.code AS county, d.code AS code FROM divisions AS d WHERE d.level = '县'
  UNION ALL SELECT d.code, d.parent_code FROM divisions AS d WHERE d.level = '县' AND d.parent_code IS NOT NULL
  UNION ALL SELECT d.code, c.parent_code FROM divisions AS d JOIN divisions AS c ON c.code = d.parent_code
    WHERE d.level = '县' AND c.parent_code IS NOT NULL
),
reports AS (
  SELECT w.*, c.start_date FROM weekly_reports AS w LEFT JOIN campaigns AS c ON c.id = w.campaign_id
),
visits AS (
  SELECT s.id, s.institution_code, s.date, s.problem_found, s.kind NOT IN ${[...NOT_ON_SITE]} AS on_site,
    i.division_code AS county
  FROM inspections AS s JOIN institutions AS i ON i.code = s.institution_code
),
starts AS (SELECT DISTINCT start_date FROM reports),
-- An institution counts in a report when it was visited on site between the report's campaign start and
-- its Friday: when its first such visit since that start is on or before the Friday. So each
-- institution's first visit (and first visit with a problem) per start date, instead of every visit
-- joined to every later report (at 5M rows that join took 12 s).
firsts AS (
  SELECT t.start_date, v.county, v.institution_code, min(v.date) AS visited,
    min(v.date) FILTER (WHERE v.problem_found) AS problem
  FROM starts AS t JOIN visits AS v ON v.on_site AND (t.start_date IS NULL OR v.date >= t.start_date)
  GROUP BY t.start_date, v.county, v.institution_code
),
money AS (
  SELECT v.county, v.date AS inspected_on, p.decided_on, p.action, p.amount
  FROM dispositions AS p LEFT JOIN findings AS f ON f.id = p.finding_id
  JOIN visits AS v ON v.id = coalesce(f.inspection_id, p.inspection_id)
  WHERE p.amount IS NOT NULL AND (p.action IN ${[...RECOVERY_ACTIONS]} OR p.action = '罚款')
),
-- The same for money: summed by start date, county and decision day, then the days up to each Friday.
money_days AS (
  SELECT t.start_date, m.county, m.decided_on,
    sum(m.amount) FILTER (WHERE m.action IN ${[...RECOVERY_ACTIONS]}) AS recovered,
    sum(m.amount) FILTER (WHERE m.action = '罚款') AS fined
  FROM starts AS t JOIN money AS m ON t.start_date IS NULL OR m.inspected_on >= t.start_date
  GROUP BY t.start_date, m.county, m.decided_on
),
visit_totals AS (
  SELECT r.division_code, r.week_ending,
    count(*) AS inspected,
    count(*) FILTER (WHERE f.problem <= r.week_ending) AS problems
  FROM reports AS r JOIN counties AS k ON k.code = r.division_code
  JOIN firsts AS f ON f.county = k.county AND f.start_date IS NOT DISTINCT FROM r.start_date
    AND f.visited <= r.week_ending
  GROUP BY r.division_code, r.week_ending
),
money_totals AS (
  SELECT r.division_code, r.week_ending, sum(m.recovered) AS recovered, sum(m.fined) AS fined
  FROM reports AS r JOIN counties AS k ON k.code = r.division_code
  JOIN money_days AS m ON m.county = k.county AND m.start_date IS NOT DISTINCT FROM r.start_date
    AND m.decided_on <= r.week_ending
  GROUP BY r.division_code, r.week_ending
)
SELECT r.division_code AS code, strftime(r.week_ending, '%Y-%m-%d') AS week_ending, r.campaign_id,
  r.institutions_inspected AS reported_inspected, r.problems_found AS reported_problems,
  r.amount_recovered AS reported_recovered, r.amount_fined AS reported_fined,
  CAST(coalesce(v.inspected, 0) AS BIGINT) AS recorded_inspected,
  CAST(coalesce(v.problems, 0) AS BIGINT) AS recorded_problems,
  CAST(coalesce(m.recovered, 0) AS BIGINT) AS recorded_recovered,
  CAST(coalesce(m.fined, 0) AS BIGINT) AS recorded_fined
FROM reports AS r
LEFT JOIN visit_totals AS v ON v.division_code = r.division_code AND v.week_ending = r.week_ending
LEFT JOIN money_totals AS m ON m.division_code = r.division_code AND m.week_ending = r.week_ending
ORDER BY code, week_ending`;
}

const ORDER: Record<ReconcileStatus, number> = {一致: 0, 尾差: 1, 不一致: 2};

function statusOf(figure: ReconciledFigure, reported: number | null, recorded: number): ReconcileStatus {
  if (reported === null || reported === recorded) return "一致";
  const money = figure === "recovered" || figure === "fined";
  return money && Math.abs(reported - recorded) <= ROUNDING_FEN ? "尾差" : "不一致";
}

function toReconcileRow(
  code: string,
  week_ending: string,
  campaign_id: string | null,
  reported: Record<ReconciledFigure, number | null>,
  recorded: Record<ReconciledFigure, number>
): ReconcileRow {
  const keys = Object.keys(RECONCILED_FIGURES) as ReconciledFigure[];
  const figures = Object.fromEntries(keys.map((k) => [k, statusOf(k, reported[k], recorded[k])])) as Record<
    ReconciledFigure,
    ReconcileStatus
  >;
  const status = keys.map((k) => figures[k]).reduce((a, b) => (ORDER[b] > ORDER[a] ? b : a), "一致");
  return {code, week_ending, campaign_id, reported, recorded, figures, status};
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Every weekly report reconciled against the case records, from the database (the page's `db`):
 * counts from the start of the report's campaign to its Friday must match exactly; money may differ
 * by {@link ROUNDING_FEN} (尾差). A city's report covers its counties.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns one row per weekly report, ordered by division and Friday
 * @example
 * ```ts
 * const rows = await reconcileWeekly(db);
 * rows.length; // → 480
 * rows.filter((r) => r.status === "不一致").length; // → 27
 * const last = rows.find((r) => r.code === "640221" && r.week_ending === "2024-09-27");
 * [last?.reported.inspected, last?.recorded.inspected, last?.status]; // → [127, 123, "不一致"]
 * ```
 */
export async function reconcileWeekly(db: QueryDb): Promise<ReconcileRow[]> {
  return (await db.query(reconcileSql())).map((r) =>
    toReconcileRow(
      String(r.code),
      String(r.week_ending),
      r.campaign_id == null ? null : String(r.campaign_id),
      {
        inspected: num(r.reported_inspected),
        problems: num(r.reported_problems),
        recovered: num(r.reported_recovered),
        fined: num(r.reported_fined)
      },
      {
        inspected: Number(r.recorded_inspected),
        problems: Number(r.recorded_problems),
        recovered: Number(r.recorded_recovered),
        fined: Number(r.recorded_fined)
      }
    )
  );
}

/**
 * The JS reference of {@link reconcileWeekly}, written without reference to the SQL: the same rows,
 * from plain data (including the `weekly_reports` table).
 *
 * @param data - the loader's tables as plain objects, with the weekly reports
 * @returns one row per weekly report, ordered by division and Friday
 * @example
 * ```ts
 * const rows = reconcileReference(data);
 * rows.filter((r) => r.status !== "一致").map((r) => r.code).filter((c, i, all) => all.indexOf(c) === i); // → ["640221", "640324"]
 * await reconcileWeekly(db); // → rows
 * ```
 */
export function reconcileReference(data: ReconcileData): ReconcileRow[] {
  const parent = new Map(data.divisions.map((d) => [d.code, d.parent_code]));
  const within = (county: string, code: string): boolean => {
    for (let c: string | null | undefined = county; c != null; c = parent.get(c)) if (c === code) return true;
    return false;
  };
  const countyOf = new Map(data.institutions.map((i) => [i.code, i.division_code]));
  const inspectionById = new Map(data.inspections.map((s) => [s.id, s]));
  const inspectionOfFinding = new Map(data.findings.map((f) => [f.id, f.inspection_id]));
  const startOf = new Map(data.campaigns.map((c) => [c.id, c.start_date]));
  const rows = data.weekly_reports.map((w) => {
    const start = w.campaign_id === null ? undefined : startOf.get(w.campaign_id);
    const inWindow = (day: string): boolean => (start === undefined || day >= start) && day <= w.week_ending;
    const inspected = new Set<string>();
    const problems = new Set<string>();
    for (const s of data.inspections) {
      const county = countyOf.get(s.institution_code);
      if (county === undefined || !within(county, w.division_code)) continue;
      if ((NOT_ON_SITE as readonly string[]).includes(s.kind) || !inWindow(s.date)) continue;
      inspected.add(s.institution_code);
      if (s.problem_found) problems.add(s.institution_code);
    }
    let recovered = 0;
    let fined = 0;
    for (const p of data.dispositions) {
      if (p.amount === null) continue;
      const recovery = (RECOVERY_ACTIONS as readonly string[]).includes(p.action);
      if (!recovery && p.action !== "罚款") continue;
      const inspectionId =
        (p.finding_id === null ? undefined : inspectionOfFinding.get(p.finding_id)) ?? p.inspection_id;
      const s = inspectionId === null ? undefined : inspectionById.get(inspectionId);
      const county = s === undefined ? undefined : countyOf.get(s.institution_code);
      if (s === undefined || county === undefined || !within(county, w.division_code)) continue;
      if (p.decided_on > w.week_ending || (start !== undefined && s.date < start)) continue;
      if (recovery) recovered += p.amount;
      else fined += p.amount;
    }
    return toReconcileRow(
      w.division_code,
      w.week_ending,
      w.campaign_id,
      {
        inspected: w.institutions_inspected,
        problems: w.problems_found,
        recovered: w.amount_recovered,
        fined: w.amount_fined
      },
      {inspected: inspected.size, problems: problems.size, recovered, fined}
    );
  });
  return rows.sort((a, b) =>
    a.code < b.code
      ? -1
      : a.code > b.code
        ? 1
        : a.week_ending < b.week_ending
          ? -1
          : a.week_ending > b.week_ending
            ? 1
            : 0
  );
}
