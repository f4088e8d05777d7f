/**
 * 落后地区排名: a composite score over chosen metrics, and for each division why it ranks low.
 *
 * Method (documented in the README and on the guide page):
 * 1. Peers are the divisions of one level (optionally those under one parent).
 * 2. For each metric, every peer with a value gets a direction-aware percentile in [0, 1] among the
 *    peers with a value: (peers worse + (peers equal − 1) ÷ 2) ÷ (peers with a value − 1), so the
 *    best is 1, the worst 0, and equal values share the mean of their positions. With a single peer
 *    it is 0.5.
 * 3. The score is 100 × the weighted mean of a division's percentiles over the metrics it has a
 *    value for (a missing value — no basis for a ratio — is left out and the other weights count in
 *    full). A division with values for less than half of the total weight gets no score: it is listed
 *    after the ranked ones as 数据不足, never ranked by what it lacks.
 * 4. Rank 1 is the highest score; equal scores (to 1e-9) share a rank, the next rank skipping
 *    (1, 2, 2, 4). Listing order within a rank is by name in pinyin order.
 * 5. A metric is a reason a division ranks low when its value is below the campaign target in force
 *    (coverage below the schedule's expected coverage at the as-of date, re-review below its target)
 *    or in the bottom quartile of its peers (percentile ≤ 25%).
 * 6. A division is behind the campaign target when its coverage is below the coverage the schedule
 *    expects at the as-of date (see {@link coverageTargetAt}).
 */
import {formatDate} from "../format/date.js";
import {compareZh} from "../format/text.js";
import {formatMetricValue, formatPercent} from "../format/percent.js";
import {sqlQuery, type QueryDb} from "../sql/template.js";
import {
  coverageTargetAt,
  loadCampaigns,
  pickCampaign,
  type Campaign,
  type CoverageTarget
} from "./campaign.js";
import {metricByDivision, metricById} from "./index.js";
import {checkLevel} from "./scope.js";
import type {DivisionLevel, Metric, MetricFilter} from "./types.js";

/** A metric in the ranking, its weight (default 1) and, for a metric with no direction, which way is better. */
export interface RankingMetric {
  id: string;
  weight?: number;
  direction?: "higher" | "lower";
}

/**
 * The default ranking: coverage counts double (it is the campaign's headline target); problem-discovery
 * rate, recovery ratio, re-review ratio and big-case timeliness once each.
 *
 * @example
 * ```ts
 * DEFAULT_RANKING.map((m) => `${metricById(m.id).name}×${m.weight}`); // → ["检查覆盖率×2", "问题发现率×1", "追回率×1", "单据复审比例×1", "大案及时上报率×1"]
 * ```
 */
export const DEFAULT_RANKING: readonly RankingMetric[] = [
  {id: "coverage", weight: 2},
  {id: "problem_rate", weight: 1},
  {id: "recovery_ratio", weight: 1},
  {id: "rereview_ratio", weight: 1},
  {id: "big_case_timeliness", weight: 1}
];

/**
 * Share of the total weight a division needs values for to get a score; with less it is listed
 * last, unranked (数据不足).
 *
 * @example
 * ```ts
 * MIN_WEIGHT_SHARE; // → 0.5
 * ```
 */
export const MIN_WEIGHT_SHARE = 0.5;
/**
 * Percentile at or below which a metric is in the bottom quartile of its peers (and so a reason a
 * division ranks low).
 *
 * @example
 * ```ts
 * BOTTOM_QUARTILE; // → 0.25
 * ```
 */
export const BOTTOM_QUARTILE = 0.25;
const EPSILON = 1e-9;

/** A target a metric's value is held against (a share for `%` metrics, as the value is). */
export interface MetricTarget {
  value: number;
  /** How the target reads in a reason: `进度目标 88.9%`. */
  label: string;
}

export interface RankingInput {
  /** The peers, with their names. */
  divisions: readonly {code: string; name: string}[];
  metrics: readonly {metric: Metric; weight: number; direction: "higher" | "lower"}[];
  /** Each metric's value by division code (null or absent: no value). */
  values: ReadonlyMap<string, ReadonlyMap<string, number | null>>;
  /** Targets by metric id. */
  targets?: ReadonlyMap<string, MetricTarget>;
  /**
   * The coverage of each division against the schedule, for `behindTarget`: the coverage expected at
   * the as-of date and, once a deadline has passed, the target already due.
   */
  coverage?: {
    values: ReadonlyMap<string, number | null>;
    expected: MetricTarget;
    due: MetricTarget | null;
  };
}

export interface RankedMetric {
  id: string;
  name: string;
  weight: number;
  value: number | null;
  /** Direction-aware percentile among peers with a value, 0 (worst) – 1 (best); null without a value. */
  percentile: number | null;
  /** Position among peers with a value, 1 = best; null without a value. */
  position: number | null;
  /** Peers with a value. */
  of: number;
  target: MetricTarget | null;
  belowTarget: boolean;
  bottomQuartile: boolean;
}

export interface RankingRow {
  code: string;
  name: string;
  /** 0–100, null when the division has values for less than half of the weight. */
  score: number | null;
  /** 1 = highest score; null when unscored. */
  rank: number | null;
  /** Divisions ranked. */
  of: number;
  /** In the bottom quartile of the ranking (rank > n − ⌈n/4⌉). */
  lagging: boolean;
  /** Coverage below what the campaign schedule expects at the as-of date. */
  behindTarget: boolean;
  metrics: RankedMetric[];
  /** Why it ranks low, in Chinese, most important first (targets missed, then bottom-quartile metrics). */
  reasons: string[];
}

function competitionRanks<T>(items: readonly T[], key: (t: T) => number, tolerance: number): Map<T, number> {
  const sorted = [...items].sort((a, b) => key(b) - key(a));
  const ranks = new Map<T, number>();
  sorted.forEach((item, i) => {
    const previous = sorted[i - 1];
    ranks.set(
      item,
      previous !== undefined && Math.abs(key(previous) - key(item)) <= tolerance
        ? (ranks.get(previous) ?? i + 1)
        : i + 1
    );
  });
  return ranks;
}

function coverageReason(coverage: RankingInput["coverage"], code: string): string[] {
  const value = coverage?.values.get(code) ?? null;
  if (!coverage || value === null) return [];
  const shown = `检查覆盖率 ${formatPercent(value)}`;
  if (coverage.due && value < coverage.due.value - EPSILON) return [`${shown}，未达${coverage.due.label}`];
  if (value < coverage.expected.value - EPSILON) return [`${shown}，低于${coverage.expected.label}`];
  return [];
}

/**
 * The ranking, from metric values already computed: a pure function (see the module comment for the
 * method). {@link rankDivisions} computes the values and targets from the database and calls it.
 *
 * @param input - the peers, the metrics with weights and directions, each metric's values by
 *   division code, and optionally the targets and the coverage schedule
 * @returns one row per division: ranked ones by rank (ties in pinyin order), then the unscored
 * @example
 * ```ts
 * const rows = rankFromValues({
 *   divisions: [{code: "640104", name: "兴庆区"}, {code: "640105", name: "西夏区"}, {code: "640106", name: "金凤区"}],
 *   metrics: [{metric: metricById("coverage"), weight: 1, direction: "higher"}],
 *   values: new Map([["coverage", new Map([["640104", 0.578], ["640105", 0.858], ["640106", 0.866]])]])
 * });
 * rows.map((r) => [r.name, r.score, r.rank, r.lagging]); // → [["金凤区", 100, 1, false], ["西夏区", 50, 2, false], ["兴庆区", 0, 3, true]]
 * ```
 */
export function rankFromValues(input: RankingInput): RankingRow[] {
  for (const m of input.metrics)
    if (!(m.weight >= 0) || !Number.isFinite(m.weight))
      throw new RangeError(`指标「${m.metric.name}」的权重应为非负数：${m.weight}`);
  const totalWeight = input.metrics.reduce((s, m) => s + m.weight, 0);
  if (totalWeight <= 0) throw new RangeError("排名指标的权重之和应大于 0");
  const codes = input.divisions.map((d) => d.code);

  const perMetric = input.metrics.map(({metric, weight, direction}) => {
    const values = input.values.get(metric.id);
    const present = codes
      .map((code) => ({code, value: values?.get(code) ?? null}))
      .filter((x): x is {code: string; value: number} => x.value !== null && Number.isFinite(x.value));
    const n = present.length;
    const better = (v: number): number => (direction === "higher" ? v : -v);
    const percentile = new Map<string, number>();
    for (const x of present) {
      let worse = 0;
      let equal = 0;
      for (const y of present) {
        // Equal ratios of integers are equal doubles (division is correctly rounded): compare exactly.
        if (y.value === x.value) equal += 1;
        else if (better(y.value) < better(x.value)) worse += 1;
      }
      percentile.set(x.code, n === 1 ? 0.5 : (worse + (equal - 1) / 2) / (n - 1));
    }
    const positions = competitionRanks(present, (x) => better(x.value), 0);
    const position = new Map([...positions].map(([x, r]) => [x.code, r]));
    const target = input.targets?.get(metric.id) ?? null;
    return {metric, weight, direction, values, n, percentile, position, target};
  });

  const rows = input.divisions.map((d) => {
    let weighted = 0;
    let weight = 0;
    const metrics: RankedMetric[] = perMetric.map((m) => {
      const value = m.values?.get(d.code) ?? null;
      const percentile = m.percentile.get(d.code) ?? null;
      if (percentile !== null) {
        weighted += m.weight * percentile;
        weight += m.weight;
      }
      const belowTarget =
        value !== null &&
        m.target !== null &&
        (m.direction === "higher" ? value < m.target.value - EPSILON : value > m.target.value + EPSILON);
      return {
        id: m.metric.id,
        name: m.metric.name,
        weight: m.weight,
        value,
        percentile,
        position: m.position.get(d.code) ?? null,
        of: m.n,
        target: m.target,
        belowTarget,
        bottomQuartile: percentile !== null && m.n > 1 && percentile <= BOTTOM_QUARTILE + EPSILON
      };
    });
    const score =
      weight >= MIN_WEIGHT_SHARE * totalWeight - EPSILON && weight > 0 ? (100 * weighted) / weight : null;
    const coverage = input.coverage?.values.get(d.code) ?? null;
    const behindTarget =
      input.coverage !== undefined && coverage !== null && coverage < input.coverage.expected.value - EPSILON;
    return {code: d.code, name: d.name, score, metrics, behindTarget};
  });

  const scored = rows.filter((r) => r.score !== null);
  const ranks = competitionRanks(scored, (r) => r.score ?? 0, EPSILON);
  const quartile = Math.ceil(scored.length / 4);
  const metricOf = new Map(input.metrics.map((m) => [m.metric.id, m.metric]));
  /** `问题发现率 20.0%`: a metric's name and value, formatted by its unit. */
  const shown = (m: RankedMetric): string => {
    const metric = metricOf.get(m.id);
    return `${m.name} ${metric ? formatMetricValue(metric, m.value) : String(m.value)}`;
  };
  const result: RankingRow[] = rows.map((r) => {
    const rank = ranks.get(r) ?? null;
    const bottom = rank !== null && scored.length > 1 && rank > scored.length - quartile;
    const coverageReasons = coverageReason(input.coverage, r.code);
    const reasons = [
      ...(r.score === null ? ["数据不足：可比指标的权重不到一半，不参与排名"] : []),
      ...coverageReasons,
      ...r.metrics
        .filter((m) => m.belowTarget && m.id !== "coverage")
        .map((m) => `${shown(m)}，低于${m.target?.label ?? "目标"}`),
      ...r.metrics
        .filter(
          (m) => m.bottomQuartile && !m.belowTarget && !(m.id === "coverage" && coverageReasons.length > 0)
        )
        .sort((a, b) => (a.percentile ?? 0) - (b.percentile ?? 0))
        .map((m) => `${shown(m)}，居第 ${m.position}/${m.of} 位（后 25%）`)
    ];
    return {
      code: r.code,
      name: r.name,
      score: r.score,
      rank,
      of: scored.length,
      lagging: bottom,
      behindTarget: r.behindTarget,
      metrics: r.metrics,
      reasons
    };
  });
  return result.sort(
    (a, b) =>
      (a.rank ?? Number.POSITIVE_INFINITY) - (b.rank ?? Number.POSITIVE_INFINITY) || compareZh(a.name, b.name)
  );
}

export interface RankingOptions {
  /** The metrics and weights. Default {@link DEFAULT_RANKING}. */
  metrics?: readonly (RankingMetric | string)[];
  level?: DivisionLevel;
  /** Only the divisions under this one (e.g. a city's counties). */
  within?: string;
  filter?: MetricFilter;
  /** The as-of date for the targets (YYYY-MM-DD). Default: the data's as-of date (`meta.as_of`). */
  asOf?: string;
  /** The campaign whose targets apply. Default: the filter's campaign, else the one running at `asOf`. */
  campaign?: string;
}

export interface Ranking {
  rows: RankingRow[];
  asOf: string;
  campaign: Campaign | null;
  coverageTarget: CoverageTarget | null;
  metrics: {id: string; name: string; weight: number; direction: "higher" | "lower"}[];
}

/**
 * The ranking's targets in force at `asOf` under `campaign` (coverage against its schedule, re-review
 * against its target), with their labels, and the coverage values the target flags are read from.
 */
export function rankingTargets(
  campaign: Campaign | null,
  asOf: string,
  coverageValues: ReadonlyMap<string, number | null>
): {targets: Map<string, MetricTarget>; coverage?: RankingInput["coverage"]} {
  const targets = new Map<string, MetricTarget>();
  const coverageTarget = campaign ? coverageTargetAt(campaign, asOf) : null;
  if (!campaign || !coverageTarget) return {targets};
  const percent = (p: number, digits = 1): string => formatPercent(p / 100, {digits});
  const expected = {
    value: coverageTarget.expected / 100,
    label: `进度目标 ${percent(coverageTarget.expected)}（${formatDate(coverageTarget.deadline)}前应达 ${percent(coverageTarget.target, 0)}）`
  };
  targets.set("coverage", expected);
  targets.set("rereview_ratio", {
    value: campaign.rereview_target / 100,
    label: `目标 ${percent(campaign.rereview_target, 0)}`
  });
  const due = coverageTarget.due;
  return {
    targets,
    coverage: {
      values: coverageValues,
      expected,
      due: due
        ? {
            value: due.target / 100,
            label: `已到期目标 ${percent(due.target, 0)}（${formatDate(due.deadline)}）`
          }
        : null
    }
  };
}

/**
 * The lagging-district ranking from the database (the page's `db`), with reasons and target flags:
 * each division's score (0–100) over the metrics' direction-aware percentiles among its peers, its
 * rank, whether it is in the bottom quartile (`lagging`) or behind the campaign's coverage schedule
 * (`behindTarget`), and why, in Chinese.
 *
 * @param db - the page's `db` (or any {@link QueryDb})
 * @param options - which metrics, divisions, records, date and campaign (default {})
 * @param options.metrics - metric ids or `{id, weight, direction}`; a metric with no direction needs one (default {@link DEFAULT_RANKING})
 * @param options.level - the level ranked: `"省"`, `"市"` or `"县"` (default "县")
 * @param options.within - only the divisions under this one, e.g. a city's counties (default all)
 * @param options.filter - which records count (default {}: all)
 * @param options.asOf - the day the targets are read at, YYYY-MM-DD (default the data's as-of date, `meta.as_of`)
 * @param options.campaign - the campaign whose targets apply (default the filter's campaign, else the one running at `asOf`)
 * @returns the rows (ranked ones by rank, then the unscored), the as-of date, the campaign, its coverage target and the metrics used
 * @example
 * ```ts
 * const ranking = await rankDivisions(db, {level: "市"});
 * ranking.rows.map((r) => `${r.rank} ${r.name} ${r.score?.toFixed(1)}`); // → ["1 吴忠市 70.8", "2 石嘴山市 54.2", "3 中卫市 50.0", "4 固原市 45.8", "5 银川市 29.2"]
 * ranking.rows[4]?.reasons[0]; // → "检查覆盖率 76.2%，未达已到期目标 80%（2024年8月31日）"
 * const counties = await rankDivisions(db, {metrics: [{id: "coverage", weight: 3}, "recovery_ratio"], within: "640100"});
 * counties.rows.filter((r) => r.lagging).map((r) => `${r.rank} ${r.name}`); // → ["7 兴庆区", "7 永宁县"]
 * ```
 */
export async function rankDivisions(db: QueryDb, options: RankingOptions = {}): Promise<Ranking> {
  const {level = "县", filter = {}, within} = options;
  checkLevel(level);
  const chosen = (options.metrics ?? DEFAULT_RANKING).map((m) => (typeof m === "string" ? {id: m} : m));
  if (chosen.length === 0) throw new RangeError("排名至少需要一个指标");
  const metrics = chosen.map((m) => {
    const metric = metricById(m.id);
    const direction = m.direction ?? (metric.direction === "neutral" ? undefined : metric.direction);
    if (direction === undefined)
      throw new RangeError(
        `指标「${metric.name}」没有好坏方向，用于排名时请指定 direction: "higher" 或 "lower"`
      );
    return {metric, weight: m.weight ?? 1, direction};
  });

  const asOf =
    options.asOf ??
    String(
      (await db.query(sqlQuery`SELECT max(value) AS v FROM meta WHERE key = 'as_of'`))[0]?.v ??
        new Date().toISOString().slice(0, 10)
    );
  const campaigns = await loadCampaigns(db);
  const campaign =
    campaigns.length === 0 ? null : pickCampaign(campaigns, {id: options.campaign ?? filter.campaign, asOf});
  const coverageTarget = campaign ? coverageTargetAt(campaign, asOf) : null;

  const divisions = (
    await db.query(
      sqlQuery`SELECT d.code, d.name FROM divisions AS d LEFT JOIN divisions AS p ON p.code = d.parent_code
WHERE d.level = ${level}${within === undefined ? sqlQuery`` : sqlQuery` AND (d.parent_code = ${within} OR p.parent_code = ${within})`}
ORDER BY d.code`
    )
  ).map((r) => ({code: String(r.code), name: String(r.name)}));

  const ids = [...new Set([...metrics.map((m) => m.metric.id), "coverage"])];
  const values = new Map<string, Map<string, number | null>>();
  for (const id of ids)
    values.set(id, new Map((await metricByDivision(db, id, {level, filter})).map((r) => [r.code, r.value])));

  const {targets, coverage} = rankingTargets(campaign, asOf, values.get("coverage") ?? new Map());
  const rows = rankFromValues({
    divisions,
    metrics,
    values,
    targets,
    ...(coverage ? {coverage} : {})
  });
  return {
    rows,
    asOf,
    campaign,
    coverageTarget,
    metrics: metrics.map((m) => ({
      id: m.metric.id,
      name: m.metric.name,
      weight: m.weight,
      direction: m.direction
    }))
  };
}
