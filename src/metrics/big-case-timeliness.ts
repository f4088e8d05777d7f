/** 大案及时上报率: big cases (≥ 50,000 yuan) reported upward within 2 working days of being decided. */
import {sqlQuery} from "../sql/template.js";
import {ADJUSTED_WORKDAYS, CALENDAR_YEARS, HOLIDAYS, workingDaysBetween} from "./calendar.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

/** The default campaign's rule: 50,000 yuan (in fen), 2 working days. */
export const BIG_CASE_FEN = 5_000_000;
export const BIG_CASE_DAYS = 2;

const holidays = Object.values(HOLIDAYS).flat();
const workdays = Object.values(ADJUSTED_WORKDAYS).flat();
const first = `${Math.min(...CALENDAR_YEARS)}-01-01`;
const last = `${Math.max(...CALENDAR_YEARS)}-12-31`;

export const bigCaseTimeliness: Metric = {
  id: "big_case_timeliness",
  name: "大案及时上报率",
  unit: "%",
  direction: "higher",
  description:
    "涉及金额 5 万元及以上、已作出处理的问题中，在处理后 2 个工作日内（不含周末和法定节假日，含调休上班日）向上报送的比例。处理日期取该问题最早的处理日期，上报日期取最早的上报日期；已处理未上报的计为未及时上报。",
  ctes: sqlQuery`calendar AS (
  SELECT CAST(d AS DATE) AS day FROM generate_series(CAST(${first} AS DATE), CAST(${last} AS DATE), INTERVAL 1 DAY) AS t(d)
), working AS (
  SELECT day FROM calendar
  WHERE (isodow(day) < 6 AND strftime(day, '%Y-%m-%d') NOT IN ${holidays}) OR strftime(day, '%Y-%m-%d') IN ${workdays}
), cases AS (
  SELECT f.id, f.county, min(p.decided_on) AS decided, min(p.reported_on) AS reported
  FROM f_findings AS f JOIN f_dispositions AS p ON p.finding_id = f.id
  WHERE f.amount_involved >= ${BIG_CASE_FEN}
  GROUP BY f.id, f.county
)`,
  parts: sqlQuery`SELECT c.county,
  count(*) FILTER (WHERE c.reported IS NOT NULL AND (SELECT count(*) FROM working AS w WHERE w.day > c.decided AND w.day <= c.reported) <= ${BIG_CASE_DAYS}) AS numerator,
  count(*) AS denominator
FROM cases AS c GROUP BY c.county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    const cases = new Map<string, {county: string; decided: string; reported: string | null}>();
    const big = new Map(
      data.findings.filter((f) => f.amount_involved >= BIG_CASE_FEN).map((f) => [f.id, f.county])
    );
    for (const p of data.dispositions) {
      const county = p.finding_id === null ? undefined : big.get(p.finding_id);
      if (county === undefined || p.finding_id === null) continue;
      const c = cases.get(p.finding_id) ?? {county, decided: p.decided_on, reported: p.reported_on};
      if (p.decided_on < c.decided) c.decided = p.decided_on;
      if (p.reported_on !== null && (c.reported === null || p.reported_on < c.reported))
        c.reported = p.reported_on;
      cases.set(p.finding_id, c);
    }
    for (const c of cases.values()) {
      const timely = c.reported !== null && workingDaysBetween(c.decided, c.reported) <= BIG_CASE_DAYS;
      parts.add(c.county, timely ? 1 : 0, 1);
    }
    return parts.map;
  }
};
