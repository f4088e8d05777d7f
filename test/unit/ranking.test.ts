// The lagging-district ranking, shares and the campaign schedule: pure functions, checked by properties
// and against a second, deliberately naive implementation.
import fc from "fast-check";
import {describe, expect, it} from "vitest";
import {
  comparePeers,
  median,
  campaignPhases,
  coverageTargetAt,
  fridayOf,
  fridaysBetween,
  metricById,
  phaseAt,
  pickCampaign,
  rankFromValues,
  roundedPercents,
  sharesOf,
  type Campaign,
  type RankingInput
} from "../../src/metrics/index.js";
import {formatMetricValue, formatPercent} from "../../src/format/percent.js";

const METRIC_IDS = ["coverage", "problem_rate", "recovery_ratio", "rereview_ratio"] as const;

/** Random peers with random (sometimes missing, often tied) values and weights. */
const inputArb: fc.Arbitrary<RankingInput> = fc
  .record({
    n: fc.integer({min: 1, max: 25}),
    weights: fc.tuple(...METRIC_IDS.map(() => fc.integer({min: 0, max: 4}))),
    seed: fc.integer()
  })
  .filter(({weights}) => weights.some((w) => w > 0))
  .chain(({n, weights}) =>
    fc
      .array(
        fc.tuple(
          ...METRIC_IDS.map(() =>
            fc.option(
              fc.integer({min: 0, max: 8}).map((k) => k / 8),
              {freq: 5}
            )
          )
        ),
        {minLength: n, maxLength: n}
      )
      .map((table) => {
        const divisions = table.map((_, i) => ({code: `64${String(i).padStart(4, "0")}`, name: `区${i}`}));
        const values = new Map(
          METRIC_IDS.map((id, m) => [id, new Map(divisions.map((d, i) => [d.code, table[i]![m] ?? null]))])
        );
        return {
          divisions,
          metrics: METRIC_IDS.map((id, m) => ({
            metric: metricById(id),
            weight: weights[m]!,
            direction: "higher"
          })),
          values
        } as RankingInput;
      })
  );

/** A second implementation: percentiles by sorting, scores by definition, ranks by counting. */
function naive(input: RankingInput): Map<string, {score: number | null; rank: number | null}> {
  const total = input.metrics.reduce((s, m) => s + m.weight, 0);
  const scores = new Map<string, number | null>();
  for (const d of input.divisions) {
    let sum = 0;
    let weight = 0;
    for (const m of input.metrics) {
      const all = input.divisions
        .map((p) => input.values.get(m.metric.id)?.get(p.code) ?? null)
        .filter((v): v is number => v !== null);
      const v = input.values.get(m.metric.id)?.get(d.code) ?? null;
      if (v === null) continue;
      // Mean position (0-based, worst first) of the values equal to v, over n − 1.
      const sorted = [...all].sort((a, b) => (m.direction === "higher" ? a - b : b - a));
      const positions = sorted.flatMap((x, i) => (x === v ? [i] : []));
      const mean = positions.reduce((a, b) => a + b, 0) / positions.length;
      sum += m.weight * (all.length === 1 ? 0.5 : mean / (all.length - 1));
      weight += m.weight;
    }
    scores.set(d.code, weight > 0 && weight >= total / 2 ? (100 * sum) / weight : null);
  }
  const result = new Map<string, {score: number | null; rank: number | null}>();
  for (const [code, score] of scores) {
    const higher = [...scores.values()].filter(
      (s) => s !== null && score !== null && s > score + 1e-9
    ).length;
    result.set(code, {score, rank: score === null ? null : higher + 1});
  }
  return result;
}

describe("rankFromValues", () => {
  it("agrees with a naive implementation of the documented method", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const rows = rankFromValues(input);
        const expected = naive(input);
        for (const row of rows) {
          const e = expected.get(row.code)!;
          expect(row.rank).toBe(e.rank);
          if (e.score === null) expect(row.score).toBeNull();
          else expect(row.score).toBeCloseTo(e.score, 9);
        }
      }),
      {numRuns: 300, seed: 7}
    );
  });
  it("keeps ranks within 1..n (n = divisions scored), the best at 1, unscored last", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const rows = rankFromValues(input);
        expect(rows).toHaveLength(input.divisions.length);
        const ranked = rows.filter((r) => r.rank !== null);
        for (const r of ranked) {
          expect(r.rank).toBeGreaterThanOrEqual(1);
          expect(r.rank).toBeLessThanOrEqual(ranked.length);
          expect(r.of).toBe(ranked.length);
          expect(r.score).toBeGreaterThanOrEqual(0);
          expect(r.score).toBeLessThanOrEqual(100);
        }
        if (ranked.length > 0) expect(ranked[0]!.rank).toBe(1);
        const firstUnranked = rows.findIndex((r) => r.rank === null);
        if (firstUnranked >= 0) expect(rows.slice(firstUnranked).every((r) => r.rank === null)).toBe(true);
        for (const r of rows.filter((r) => r.rank === null)) expect(r.reasons[0]).toMatch(/^数据不足/);
        // Listed in rank order.
        const ranks = ranked.map((r) => r.rank!);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
        // The bottom quartile is the lagging set.
        const q = Math.ceil(ranked.length / 4);
        for (const r of ranked) expect(r.lagging).toBe(ranked.length > 1 && r.rank! > ranked.length - q);
      }),
      {numRuns: 300, seed: 8}
    );
  });
  it("does not depend on the order of the divisions", () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (input, seed) => {
        const shuffled = {
          ...input,
          divisions: fc.sample(
            fc.shuffledSubarray([...input.divisions], {minLength: input.divisions.length}),
            {
              seed,
              numRuns: 1
            }
          )[0]!
        };
        expect(rankFromValues(shuffled)).toEqual(rankFromValues(input));
      }),
      {numRuns: 200, seed: 9}
    );
  });
  it("never lowers a division's score when one of its values improves", () => {
    fc.assert(
      fc.property(inputArb, fc.nat(), fc.nat(), (input, which, metricIndex) => {
        const code = input.divisions[which % input.divisions.length]!.code;
        const id = METRIC_IDS[metricIndex % METRIC_IDS.length]!;
        const before = input.values.get(id)!.get(code) ?? null;
        if (before === null) return;
        const values = new Map([...input.values].map(([k, v]) => [k, new Map(v)]));
        values.get(id)!.set(code, before + 0.5);
        const a = rankFromValues(input).find((r) => r.code === code)!;
        const b = rankFromValues({...input, values}).find((r) => r.code === code)!;
        if (a.score !== null) expect(b.score!).toBeGreaterThanOrEqual(a.score - 1e-9);
        if (a.rank !== null) expect(b.rank!).toBeLessThanOrEqual(a.rank);
      }),
      {numRuns: 300, seed: 10}
    );
  });
  it("gives the same ranking when every weight is scaled", () => {
    fc.assert(
      fc.property(inputArb, fc.integer({min: 2, max: 9}), (input, k) => {
        const scaled = {...input, metrics: input.metrics.map((m) => ({...m, weight: m.weight * k}))};
        const strip = (rows: ReturnType<typeof rankFromValues>) => rows.map((r) => [r.code, r.rank]);
        expect(strip(rankFromValues(scaled))).toEqual(strip(rankFromValues(input)));
      }),
      {numRuns: 100, seed: 11}
    );
  });
  it("reverses percentiles for a metric where lower is better", () => {
    const divisions = ["a", "b", "c"].map((code) => ({code, name: code}));
    const values = new Map([
      [
        "problem_rate",
        new Map([
          ["a", 0.1],
          ["b", 0.2],
          ["c", 0.3]
        ])
      ]
    ]);
    const rows = rankFromValues({
      divisions,
      metrics: [{metric: metricById("problem_rate"), weight: 1, direction: "lower"}],
      values
    });
    expect(rows.map((r) => [r.code, r.rank, r.score])).toEqual([
      ["a", 1, 100],
      ["b", 2, 50],
      ["c", 3, 0]
    ]);
  });
  it("shares ranks on ties (1, 2, 2, 4) and lists tied divisions in pinyin order", () => {
    const divisions = [
      {code: "1", name: "中宁县"},
      {code: "2", name: "永宁县"},
      {code: "3", name: "贺兰县"},
      {code: "4", name: "兴庆区"}
    ];
    const values = new Map([
      [
        "coverage",
        new Map([
          ["1", 0.9],
          ["2", 0.5],
          ["3", 0.5],
          ["4", 0.1]
        ])
      ]
    ]);
    const rows = rankFromValues({
      divisions,
      metrics: [{metric: metricById("coverage"), weight: 1, direction: "higher"}],
      values
    });
    expect(rows.map((r) => [r.name, r.rank])).toEqual([
      ["中宁县", 1],
      ["贺兰县", 2],
      ["永宁县", 2],
      ["兴庆区", 4]
    ]);
  });
  it("names the reasons: targets missed first, then bottom-quartile metrics with their position", () => {
    const divisions = Array.from({length: 8}, (_, i) => ({code: String(i), name: `区${i}`}));
    const values = new Map([
      ["coverage", new Map(divisions.map((d, i) => [d.code, 0.5 + i * 0.05]))],
      ["problem_rate", new Map(divisions.map((d, i) => [d.code, 0.2 + i * 0.01]))]
    ]);
    const rows = rankFromValues({
      divisions,
      metrics: [
        {metric: metricById("coverage"), weight: 2, direction: "higher"},
        {metric: metricById("problem_rate"), weight: 1, direction: "higher"}
      ],
      values,
      coverage: {
        values: values.get("coverage")!,
        expected: {value: 0.72, label: "进度目标 72.0%"},
        due: {value: 0.6, label: "已到期目标 60%"}
      }
    });
    const last = rows.at(-1)!;
    expect(last.code).toBe("0");
    expect(last.behindTarget).toBe(true);
    expect(last.reasons).toEqual([
      "检查覆盖率 50.0%，未达已到期目标 60%",
      "问题发现率 20.0%，居第 8/8 位（后 25%）"
    ]);
    const middle = rows.find((r) => r.code === "3")!;
    expect(middle.reasons).toEqual(["检查覆盖率 65.0%，低于进度目标 72.0%"]);
    expect(rows.find((r) => r.code === "7")!.reasons).toEqual([]);
  });
  it("refuses negative weights and an all-zero weighting, in Chinese", () => {
    const base = {divisions: [{code: "a", name: "a"}], values: new Map()};
    expect(() =>
      rankFromValues({...base, metrics: [{metric: metricById("coverage"), weight: -1, direction: "higher"}]})
    ).toThrow(/权重应为非负数/);
    expect(() =>
      rankFromValues({...base, metrics: [{metric: metricById("coverage"), weight: 0, direction: "higher"}]})
    ).toThrow(/权重之和/);
  });
});

describe("shares", () => {
  it("sum to 1", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({max: 1e9}), {minLength: 1, maxLength: 40}), (values) => {
        const shares = sharesOf(values);
        if (values.every((v) => v === 0)) return expect(shares.every((s) => s === null)).toBe(true);
        const sum = shares.reduce<number>((a, b) => a + (b ?? 0), 0);
        expect(sum).toBeCloseTo(1, 12);
      }),
      {seed: 12}
    );
  });
  it("round for display to percentages that add up to exactly 100, each within one step of the exact share", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({max: 1e12}), {minLength: 1, maxLength: 40}),
        fc.integer({min: 0, max: 3}),
        (values, digits) => {
          const rounded = roundedPercents(values, digits);
          const total = values.reduce((a, b) => a + b, 0);
          if (total === 0) return expect(rounded.every((r) => r === null)).toBe(true);
          const scale = 10 ** digits;
          const units = rounded.map((r) => Math.round(r! * scale));
          expect(units.reduce((a, b) => a + b, 0)).toBe(100 * scale);
          values.forEach((v, i) => {
            const exact = (v / total) * 100 * scale;
            expect(Math.abs(units[i]! - exact)).toBeLessThan(1 + 1e-6);
          });
        }
      ),
      {seed: 13}
    );
    expect(roundedPercents([1, 1, 1])).toEqual([33.4, 33.3, 33.3]);
    expect(roundedPercents([2n, 1n], 0)).toEqual([67, 33]);
  });
  it("refuse negative amounts", () => {
    expect(() => sharesOf([1, -1])).toThrow(/非负/);
    expect(() => roundedPercents([1.5])).toThrow(/非负整数/);
  });
});

describe("formatPercent", () => {
  it("formats shares in Chinese report style, exactly from parts", () => {
    expect(formatPercent(0.1358)).toBe("13.6%");
    expect(formatPercent({numerator: 126, denominator: 928})).toBe("13.6%");
    expect(formatPercent({numerator: 126, denominator: 928}, {digits: 2})).toBe("13.58%");
    expect(formatPercent(0.1355)).toBe("13.6%"); // 13.55 is 13.5499… as a double: rounded as written
    expect(formatPercent(0.05, {digits: 0})).toBe("5%");
    expect(formatPercent(1)).toBe("100.0%");
    expect(formatPercent(-0.0125, {digits: 1})).toBe("-1.3%");
    expect(formatPercent(0.5, {suffix: false})).toBe("50.0");
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(Number.NaN)).toBe("—");
    expect(formatPercent({numerator: 1, denominator: 0})).toBe("—");
  });
  it("agrees with exact integer rounding for every ratio of small integers", () => {
    fc.assert(
      fc.property(fc.nat({max: 100_000}), fc.integer({min: 1, max: 100_000}), (n, d) => {
        expect(formatPercent(n / d, {digits: 2})).toBe(
          formatPercent({numerator: n, denominator: d}, {digits: 2})
        );
      }),
      {seed: 14, numRuns: 2000}
    );
  });
  it("formats a metric's value by its unit", () => {
    expect(formatMetricValue(metricById("recovery_total"), 182_690_000)).toBe("182.69万元");
    expect(formatMetricValue(metricById("coverage"), 0.8)).toBe("80.0%");
    expect(formatMetricValue(metricById("coverage"), null)).toBe("—");
  });
});

const ZX2024: Campaign = {
  id: "ZX2024",
  name: "2024年打击欺诈骗保专项整治行动",
  start_date: "2024-05-15",
  end_date: "2024-11-30",
  mobilize_by: "2024-05-31",
  self_inspect_by: "2024-06-30",
  rectify_by: "2024-10-31",
  summary_by: "2024-11-30",
  coverage_target_1: 80,
  coverage_deadline_1: "2024-08-31",
  coverage_target_2: 100,
  coverage_deadline_2: "2024-10-31",
  rereview_target: 5,
  big_case_threshold: 5_000_000,
  big_case_report_days: 2
};

describe("the campaign schedule", () => {
  it("has the target in force at the as-of date: 80% by 8-31, then 100% by 10-31", () => {
    expect(coverageTargetAt(ZX2024, "2024-05-15")).toEqual({
      target: 80,
      deadline: "2024-08-31",
      due: null,
      expected: 0
    });
    expect(coverageTargetAt(ZX2024, "2024-08-31")).toEqual({
      target: 80,
      deadline: "2024-08-31",
      due: null,
      expected: 80
    });
    expect(coverageTargetAt(ZX2024, "2024-09-01")).toMatchObject({
      target: 100,
      deadline: "2024-10-31",
      due: {target: 80, deadline: "2024-08-31"}
    });
    expect(coverageTargetAt(ZX2024, "2024-11-15")).toEqual({
      target: 100,
      deadline: "2024-10-31",
      due: {target: 100, deadline: "2024-10-31"},
      expected: 100
    });
    expect(coverageTargetAt(ZX2024, "2024-09-27").expected).toBeCloseTo(80 + (20 * 27) / 61, 12);
    expect(coverageTargetAt(ZX2024, "2024-05-01").expected).toBe(0);
  });
  it("expects coverage that never falls and never exceeds the final target", () => {
    let previous = -1;
    for (const day of fridaysBetween("2024-05-01", "2024-12-31")) {
      const {expected, due} = coverageTargetAt(ZX2024, day);
      expect(expected).toBeGreaterThanOrEqual(previous);
      expect(expected).toBeLessThanOrEqual(100);
      if (due) expect(expected).toBeGreaterThanOrEqual(due.target);
      previous = expected;
    }
  });
  it("has four phases in order and knows the one running", () => {
    expect(campaignPhases(ZX2024).map((p) => [p.name, p.start, p.end])).toEqual([
      ["动员部署", "2024-05-15", "2024-05-31"],
      ["自查自纠", "2024-06-01", "2024-06-30"],
      ["集中整治", "2024-07-01", "2024-10-31"],
      ["全面总结", "2024-11-01", "2024-11-30"]
    ]);
    expect(phaseAt(ZX2024, "2024-09-27")?.name).toBe("集中整治");
    expect(phaseAt(ZX2024, "2024-12-01")).toBeNull();
  });
  it("picks the campaign by id, else the one running at the as-of date", () => {
    const older = {...ZX2024, id: "ZX2023", start_date: "2023-05-01", end_date: "2023-11-30"};
    expect(pickCampaign([older, ZX2024], {asOf: "2024-09-27"}).id).toBe("ZX2024");
    expect(pickCampaign([older, ZX2024], {asOf: "2024-01-10"}).id).toBe("ZX2023");
    expect(pickCampaign([older, ZX2024], {id: "ZX2023", asOf: "2024-09-27"}).id).toBe("ZX2023");
    expect(() => pickCampaign([older], {id: "ZX2099"})).toThrow(/没有专项行动「ZX2099」/);
    expect(() => pickCampaign([])).toThrow(/campaigns 表为空/);
  });
  it("cuts weeks off on Fridays", () => {
    expect(fridaysBetween("2024-05-15", "2024-06-01")).toEqual(["2024-05-17", "2024-05-24", "2024-05-31"]);
    expect(fridaysBetween("2024-05-17", "2024-05-17")).toEqual(["2024-05-17"]);
    expect(fridaysBetween("2024-05-18", "2024-05-23")).toEqual([]);
    expect(fridayOf("2024-05-17")).toBe("2024-05-17");
    expect(fridayOf("2024-05-18")).toBe("2024-05-24");
    expect(fridayOf("2024-05-20")).toBe("2024-05-24");
  });
});

describe("comparing a division with its peers", () => {
  const rows = (values: (number | null)[]) =>
    values.map((value, i) => ({code: `c${i}`, numerator: 0, denominator: 0, value}));
  it("takes the median of the peers with a value, the middle pair's mean when even", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(comparePeers(rows([0.5, null, 0.1, 0.9]), "c0")).toEqual({
      value: 0.5,
      median: 0.5,
      position: 2,
      peers: 3
    });
  });
  it("positions by direction, ties sharing a position, none without a value", () => {
    expect(comparePeers(rows([0.2, 0.5, 0.5, 0.1]), "c1").position).toBe(1);
    expect(comparePeers(rows([0.2, 0.5, 0.5, 0.1]), "c2").position).toBe(1);
    expect(comparePeers(rows([0.2, 0.5, 0.5, 0.1]), "c3", "lower").position).toBe(1);
    expect(comparePeers(rows([0.2, null]), "c1")).toMatchObject({value: null, position: null});
  });
  it("agrees with a sort-based median and a naive count of better peers", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({min: 0, max: 20}), {nil: null}), {minLength: 1}),
        (values) => {
          const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
          const m = median(present);
          if (present.length === 0) expect(m).toBeNull();
          else {
            // Half the values are at or below the median, half at or above.
            expect(present.filter((v) => v <= m!).length * 2).toBeGreaterThanOrEqual(present.length);
            expect(present.filter((v) => v >= m!).length * 2).toBeGreaterThanOrEqual(present.length);
          }
          const c = comparePeers(rows(values), "c0");
          if (values[0] === null) expect(c.position).toBeNull();
          else expect(c.position).toBe(present.filter((v) => v > values[0]!).length + 1);
        }
      )
    );
  });
});
