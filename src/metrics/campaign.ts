/**
 * A campaign's rules and where it stands at a date: its phase, the coverage target in force, the
 * coverage the schedule expects by then, and the Friday cut-offs of its weekly reports. The rules come
 * from the `campaigns` table (专项行动), so a campaign with other targets needs no code change.
 */
import {sqlQuery, type SqlQuery, type QueryDb} from "../sql/template.js";

/** One campaign as the `campaigns` table holds it (percentages 0–100, money in fen). */
export interface Campaign {
  id: string;
  name: string;
  start_date: string;
  end_date: string;
  mobilize_by: string | null;
  self_inspect_by: string | null;
  rectify_by: string | null;
  summary_by: string | null;
  coverage_target_1: number;
  coverage_deadline_1: string;
  coverage_target_2: number;
  coverage_deadline_2: string;
  rereview_target: number;
  big_case_threshold: number;
  big_case_report_days: number;
}

/**
 * The rules that apply to records of no campaign (an inspection with no 行动编号): those of the 2024
 * national campaign — 5% re-review, cases of 50,000 yuan and more reported within 2 working days.
 *
 * @example
 * ```ts
 * DEFAULT_RULES; // → {rereviewTarget: 5, bigCaseFen: 5000000, bigCaseDays: 2}
 * formatMoney(DEFAULT_RULES.bigCaseFen); // → "5.00万元"
 * ```
 */
export const DEFAULT_RULES = {rereviewTarget: 5, bigCaseFen: 5_000_000, bigCaseDays: 2} as const;

/**
 * The query reading every campaign (the `campaigns` table, 专项行动), dates as `YYYY-MM-DD` text,
 * ordered by start date. {@link loadCampaigns} runs it.
 *
 * @returns the query (no parameters)
 * @example
 * ```ts
 * const [row] = await db.query(campaignsSql());
 * [row?.id, row?.start_date, row?.coverage_target_1]; // → ["ZX2024", "2024-05-15", 80]
 * ```
 */
export function campaignsSql(): SqlQuery {
  return sqlQuery`SELECT id, name, strftime(start_date, '%Y-%m-%d') AS start_date, strftime(end_date, '%Y-%m-%d') AS end_date,
  strftime(mobilize_by, '%Y-%m-%d') AS mobilize_by, strftime(self_inspect_by, '%Y-%m-%d') AS self_inspect_by,
  strftime(rectify_by, '%Y-%m-%d') AS rectify_by, strftime(summary_by, '%Y-%m-%d') AS summary_by,
  coverage_target_1, strftime(coverage_deadline_1, '%Y-%m-%d') AS coverage_deadline_1,
  coverage_target_2, strftime(coverage_deadline_2, '%Y-%m-%d') AS coverage_deadline_2,
  rereview_target, big_case_threshold, big_case_report_days
FROM campaigns ORDER BY start_date, id`;
}

/**
 * Reads the campaigns from a database (anything with `query(SqlQuery)`), ordered by start date.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @returns every campaign, percentages 0–100 and money in fen
 * @example
 * ```ts
 * const [campaign] = await loadCampaigns(db);
 * campaign?.name; // → "2024年打击欺诈骗保专项整治行动"
 * [campaign?.start_date, campaign?.end_date]; // → ["2024-05-15", "2024-11-30"]
 * [campaign?.coverage_target_1, campaign?.coverage_deadline_1]; // → [80, "2024-08-31"]
 * ```
 */
export async function loadCampaigns(db: QueryDb): Promise<Campaign[]> {
  return (await db.query(campaignsSql())).map(toCampaign);
}

/** A campaign from a row of the campaigns table (any source: a query's result, an Arrow table's objects). */
export function toCampaign(r: Record<string, unknown>): Campaign {
  return {
    id: String(r.id),
    name: String(r.name),
    start_date: String(r.start_date),
    end_date: String(r.end_date),
    mobilize_by: r.mobilize_by == null ? null : String(r.mobilize_by),
    self_inspect_by: r.self_inspect_by == null ? null : String(r.self_inspect_by),
    rectify_by: r.rectify_by == null ? null : String(r.rectify_by),
    summary_by: r.summary_by == null ? null : String(r.summary_by),
    coverage_target_1: Number(r.coverage_target_1),
    coverage_deadline_1: String(r.coverage_deadline_1),
    coverage_target_2: Number(r.coverage_target_2),
    coverage_deadline_2: String(r.coverage_deadline_2),
    rereview_target: Number(r.rereview_target),
    big_case_threshold: Number(r.big_case_threshold),
    big_case_report_days: Number(r.big_case_report_days)
  };
}

/**
 * The campaign a page reports on: the one with `id`, else the one running at `asOf`, else the
 * latest to have started by then, else the first. Throws in Chinese when there is none.
 *
 * @param campaigns - the campaigns, as {@link loadCampaigns} reads them
 * @param options - how to choose (default {}: the first campaign)
 * @param options.id - this campaign's 行动编号; an unknown id throws (default none)
 * @param options.asOf - the day (YYYY-MM-DD) whose running campaign to take (default none: the first)
 * @returns the campaign
 * @example
 * ```ts
 * const campaigns = await loadCampaigns(db);
 * pickCampaign(campaigns, {asOf: "2024-09-27"}).id; // → "ZX2024"
 * pickCampaign(campaigns, {id: "ZX2024"}).coverage_deadline_2; // → "2024-10-31"
 * ```
 */
export function pickCampaign(
  campaigns: readonly Campaign[],
  {id, asOf}: {id?: string; asOf?: string} = {}
): Campaign {
  if (id !== undefined) {
    const found = campaigns.find((c) => c.id === id);
    if (!found)
      throw new RangeError(
        `没有专项行动「${id}」；已载入的行动：${campaigns.map((c) => c.id).join("、") || "（无）"}`
      );
    return found;
  }
  const first = campaigns[0];
  if (!first) throw new RangeError("数据中没有专项行动（campaigns 表为空），无法确定目标和期限");
  if (asOf === undefined) return first;
  const running = campaigns.find((c) => c.start_date <= asOf && asOf <= c.end_date);
  const started = campaigns.filter((c) => c.start_date <= asOf).at(-1);
  return running ?? started ?? first;
}

const DAY_MS = 86_400_000;
const dayNumber = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;

export interface CoverageTarget {
  /** The deadline target the campaign is working towards at `asOf` (the next one, or the last if all passed). */
  target: number;
  deadline: string;
  /** The last deadline already past at `asOf`, whose target must already be met; null before the first. */
  due: {target: number; deadline: string} | null;
  /**
   * The coverage the schedule expects by `asOf` (percent): rising in a straight line from 0 at the
   * start to the first target at its deadline, then to the second at its deadline, flat after —
   * 时间过半、任务过半. Never below the target already due.
   */
  expected: number;
}

/**
 * The coverage target in force at `asOf` (YYYY-MM-DD) and the coverage the schedule expects by then:
 * a straight line from 0 at the start to each deadline's target (时间过半、任务过半), never below a
 * target already due. Percentages 0–100.
 *
 * @param campaign - the campaign (see {@link pickCampaign})
 * @param asOf - the day, YYYY-MM-DD (usually the data's as-of date)
 * @returns the next target and deadline, the target already due, and the expected coverage
 * @example
 * ```ts
 * const campaign = pickCampaign(await loadCampaigns(db), {id: "ZX2024"});
 * const {target, deadline, due, expected} = coverageTargetAt(campaign, "2024-09-27");
 * [target, deadline, due]; // → [100, "2024-10-31", {target: 80, deadline: "2024-08-31"}]
 * expected.toFixed(1); // → "88.9"
 * coverageTargetAt(campaign, "2024-05-15").expected; // → 0
 * ```
 */
export function coverageTargetAt(campaign: Campaign, asOf: string): CoverageTarget {
  const points = [
    {day: dayNumber(campaign.start_date), target: 0},
    {day: dayNumber(campaign.coverage_deadline_1), target: campaign.coverage_target_1},
    {day: dayNumber(campaign.coverage_deadline_2), target: campaign.coverage_target_2}
  ];
  const t = dayNumber(asOf);
  let expected = campaign.coverage_target_2;
  for (let i = 1; i < points.length; ++i) {
    const a = points[i - 1];
    const b = points[i];
    if (a && b && t < b.day) {
      expected = t <= a.day ? a.target : a.target + ((b.target - a.target) * (t - a.day)) / (b.day - a.day);
      break;
    }
  }
  const deadlines = [
    {target: campaign.coverage_target_1, deadline: campaign.coverage_deadline_1},
    {target: campaign.coverage_target_2, deadline: campaign.coverage_deadline_2}
  ];
  const due = deadlines.filter((d) => d.deadline < asOf).at(-1) ?? null;
  const next = deadlines.find((d) => d.deadline >= asOf) ?? deadlines[1];
  return {target: next?.target ?? 0, deadline: next?.deadline ?? "", due, expected};
}

/** The four phases of a campaign (动员部署 → 自查自纠 → 集中整治 → 全面总结), with their dates. */
export interface Phase {
  name: "动员部署" | "自查自纠" | "集中整治" | "全面总结";
  start: string;
  end: string;
}

const addDays = (iso: string, n: number): string =>
  new Date((dayNumber(iso) + n) * DAY_MS).toISOString().slice(0, 10);

/**
 * The campaign's phases (动员部署 → 自查自纠 → 集中整治 → 全面总结), each from the day after the
 * previous one ends to its deadline; a phase whose deadline is not given is left out.
 *
 * @param campaign - the campaign (see {@link pickCampaign})
 * @returns the phases in order, with their first and last days
 * @example
 * ```ts
 * const campaign = pickCampaign(await loadCampaigns(db));
 * const phases = campaignPhases(campaign);
 * phases.map((p) => p.name); // → ["动员部署", "自查自纠", "集中整治", "全面总结"]
 * phases[2]; // → {name: "集中整治", start: "2024-07-01", end: "2024-10-31"}
 * ```
 */
export function campaignPhases(campaign: Campaign): Phase[] {
  const ends: [Phase["name"], string | null][] = [
    ["动员部署", campaign.mobilize_by],
    ["自查自纠", campaign.self_inspect_by],
    ["集中整治", campaign.rectify_by],
    ["全面总结", campaign.summary_by ?? campaign.end_date]
  ];
  const phases: Phase[] = [];
  let start = campaign.start_date;
  for (const [name, end] of ends) {
    if (end === null || end < start) continue;
    phases.push({name, start, end});
    start = addDays(end, 1);
  }
  return phases;
}

/**
 * The phase running at `asOf`, or null outside the campaign.
 *
 * @param campaign - the campaign (see {@link pickCampaign})
 * @param asOf - the day, YYYY-MM-DD
 * @returns the phase, or null before the start or after the end
 * @example
 * ```ts
 * const campaign = pickCampaign(await loadCampaigns(db));
 * phaseAt(campaign, "2024-09-27")?.name; // → "集中整治"
 * phaseAt(campaign, "2024-12-01"); // → null
 * ```
 */
export function phaseAt(campaign: Campaign, asOf: string): Phase | null {
  return campaignPhases(campaign).find((p) => p.start <= asOf && asOf <= p.end) ?? null;
}

/**
 * The Friday cut-offs of weekly reporting from `from` up to `to` (both inclusive): the figures of
 * week N are everything up to and including its Friday.
 *
 * @param from - the first day, YYYY-MM-DD (usually the campaign's start)
 * @param to - the last day, YYYY-MM-DD (usually the as-of date)
 * @returns the Fridays, YYYY-MM-DD, in order (none when there is no Friday in between)
 * @example
 * ```ts
 * fridaysBetween("2024-09-01", "2024-09-27"); // → ["2024-09-06", "2024-09-13", "2024-09-20", "2024-09-27"]
 * fridaysBetween("2024-05-15", "2024-09-27").length; // → 20
 * ```
 */
export function fridaysBetween(from: string, to: string): string[] {
  const fridays: string[] = [];
  let t = dayNumber(from);
  // 1970-01-01 was a Thursday: day numbers ≡ 1 (mod 7) are Fridays.
  t += (((1 - t) % 7) + 7) % 7;
  for (; t <= dayNumber(to); t += 7) fridays.push(new Date(t * DAY_MS).toISOString().slice(0, 10));
  return fridays;
}

/**
 * The Friday cut-off a day's records count towards: the day itself if a Friday, else the next Friday.
 *
 * @param day - the day, YYYY-MM-DD
 * @returns its Friday, YYYY-MM-DD
 * @example
 * ```ts
 * fridayOf("2024-09-27"); // → "2024-09-27"
 * fridayOf("2024-09-28"); // → "2024-10-04"
 * ```
 */
export function fridayOf(day: string): string {
  const t = dayNumber(day);
  return new Date((t + ((((1 - t) % 7) + 7) % 7)) * DAY_MS).toISOString().slice(0, 10);
}
