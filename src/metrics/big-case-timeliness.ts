/**
 * 大案及时上报率: big cases reported upward within the campaign's time limit of working days after
 * being decided. The threshold and the limit are the campaign's (`campaigns.big_case_threshold`,
 * `big_case_report_days`); a case of an inspection of no campaign follows {@link DEFAULT_RULES}.
 */
import {sqlQuery} from "../sql/template.js";
import {calendarFromRows, workingDaysBetween} from "./calendar.js";
import {DEFAULT_RULES} from "./campaign.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const bigCaseTimeliness: Metric = {
  id: "big_case_timeliness",
  name: "大案及时上报率",
  unit: "%",
  measure: {kind: "ratio", numerator: "按时上报的大案数", denominator: "已处理的大案数"},
  cube: "cells",
  direction: "higher",
  description:
    "涉及金额达到专项行动大案标准（默认 5 万元）、已作出处理的问题中，在处理后规定工作日数（默认 2 个工作日；不含周末和法定节假日，含调休上班日）内向上报送的比例。标准和时限取该问题所属检查的专项行动；不属于任何行动的按默认标准。处理日期取该问题最早的处理日期，上报日期取最早的上报日期；已处理未上报的计为未及时上报。",
  // Working days come from the `calendar` table (data/节假日.csv, checked by the loader, which refuses
  // data with a year the calendar lacks, so no case here falls outside it): the days from the earliest
  // decision to the latest report, in years the calendar covers, Monday to Friday but its days off (休),
  // plus its weekend working days (班).
  // DuckDB-WASM's mvp build cannot bind a parameter in a table function's arguments or of a type it
  // must guess (the engine throws internally, which that build cannot catch): hence unnest() of the
  // list form of generate_series, and a CAST on every parameter.
  ctes: sqlQuery`rules AS (
  SELECT f.id, f.county, f.amount_involved,
    coalesce(c.big_case_threshold, CAST(${DEFAULT_RULES.bigCaseFen} AS BIGINT)) AS threshold,
    coalesce(c.big_case_report_days, CAST(${DEFAULT_RULES.bigCaseDays} AS INTEGER)) AS days
  FROM f_findings AS f JOIN f_inspections AS s ON s.id = f.inspection_id
  LEFT JOIN campaigns AS c ON c.id = s.campaign_id
), cases AS (
  SELECT r.id, r.county, r.days, min(p.decided_on) AS decided, min(p.reported_on) AS reported
  FROM rules AS r JOIN f_dispositions AS p ON p.finding_id = r.id
  WHERE r.amount_involved >= r.threshold
  GROUP BY r.id, r.county, r.days
), days AS (
  SELECT CAST(unnest(generate_series(CAST(min(decided) AS DATE), CAST(max(reported) AS DATE), INTERVAL 1 DAY)) AS DATE) AS day
  FROM cases
), working AS (
  SELECT d.day FROM days AS d
  WHERE year(d.day) IN (SELECT k.year FROM calendar AS k)
    AND ((isodow(d.day) < 6 AND d.day NOT IN (SELECT k.day FROM calendar AS k WHERE k.kind = '休'))
      OR d.day IN (SELECT k.day FROM calendar AS k WHERE k.kind = '班'))
)`,
  parts: sqlQuery`SELECT c.county,
  count(*) FILTER (WHERE c.reported IS NOT NULL AND (SELECT count(*) FROM working AS w WHERE w.day > c.decided AND w.day <= c.reported) <= c.days) AS numerator,
  count(*) AS denominator
FROM cases AS c GROUP BY c.county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    const calendar = calendarFromRows(data.calendar);
    const cases = new Map<string, {county: string; days: number; decided: string; reported: string | null}>();
    const campaigns = new Map(data.campaigns.map((c) => [c.id, c]));
    const campaignOf = new Map(data.inspections.map((s) => [s.id, s.campaign_id]));
    const big = new Map<string, {county: string; days: number}>();
    for (const f of data.findings) {
      const campaignId = campaignOf.get(f.inspection_id);
      const campaign = campaignId == null ? undefined : campaigns.get(campaignId);
      const threshold = campaign?.big_case_threshold ?? DEFAULT_RULES.bigCaseFen;
      const days = campaign?.big_case_report_days ?? DEFAULT_RULES.bigCaseDays;
      if (f.amount_involved >= threshold) big.set(f.id, {county: f.county, days});
    }
    for (const p of data.dispositions) {
      const rule = p.finding_id === null ? undefined : big.get(p.finding_id);
      if (rule === undefined || p.finding_id === null) continue;
      const c = cases.get(p.finding_id) ?? {...rule, decided: p.decided_on, reported: p.reported_on};
      if (p.decided_on < c.decided) c.decided = p.decided_on;
      if (p.reported_on !== null && (c.reported === null || p.reported_on < c.reported))
        c.reported = p.reported_on;
      cases.set(p.finding_id, c);
    }
    for (const c of cases.values()) {
      const timely = c.reported !== null && workingDaysBetween(calendar, c.decided, c.reported) <= c.days;
      parts.add(c.county, timely ? 1 : 0, 1);
    }
    return parts.map;
  }
};
