// Every metric against values computed by hand. The three-way test (metrics.test.ts) shows that the
// SQL in native DuckDB, the same SQL in DuckDB-WASM and the JS reference agree; it cannot show that
// they agree on the right answer, since they share the metric's declaration (a ratio summed as a total
// passed it). Here a six-file submission small enough to count on paper (test/fixtures/hand-metrics)
// goes through the real ingest, and every metric, at county, city and province level, in all three
// engines, must give the numerator and denominator worked out below. A metric added to METRICS without
// a hand-computed value fails the first test.
import {readFile, mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {openNativeDb} from "../../loaders/native-db.js";
import {toTables} from "../../loaders/outputs.js";
import {
  METRICS,
  metricByDivision,
  metricReference,
  type DivisionLevel,
  type Metric,
  type MetricData
} from "../../src/metrics/index.js";
import {PartsByCounty} from "../../src/metrics/parts.js";
import {recoveryTotal} from "../../src/metrics/recovery-total.js";
import {sqlQuery, type QueryDb} from "../../src/sql/template.js";
import {wasmQuery} from "../support/metric-filters.js";
import {startWasmNode} from "../support/duckdb-wasm-node.js";
import {metricDataOf} from "../support/metric-data.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "hand-metrics");

/*
 * The submission, by county (原州区 640402 = A, 西吉县 640422 = B; both in 固原市 640400):
 *
 * institutions  A: H1 医院, H2 诊所, P1 药房 (3)      B: H3 医院, P2 药房 (2)
 * inspections   S1 H1 专项 问题 单据200/复审12       S5 H3 专项 问题 单据50/复审5
 *               S2 H1 飞行 无问题                     (P2 not inspected)
 *               S3 P1 专项 问题 单据100/复审4
 *               S4 H2 自查自纠 无问题 (not on site)
 * findings      F1 S1 80,000.00  F2 S1 1,000.50        F4 S5 55,000.00
 *               F3 S3 2,000.00
 * dispositions  D1 F1 追回 60,000.00 decided 2024-09-27 reported 2024-10-08
 *               D2 F1 罚款 120,000.00 decided 2024-09-27
 *               D3 F2 约谈 · D4 F3 拒付 1,500.00 · D5 F3 暂停协议
 *                                                      D6 F4 扣回 50,000.00 decided 07-01 reported 07-03
 *                                                      D7 F4 移交公安 · D8 S5 通报批评
 *
 * Big cases (≥ 50,000 元, 2 working days): F1 decided Fri 9-27, first reported Tue 10-08: working days
 * after 9-27 up to 10-08 are Sun 9-29 (调休上班), Mon 9-30 and Tue 10-08 (10-01…07 国庆) = 3 > 2, late.
 * F4 decided Mon 7-01, reported Wed 7-03: 7-02 and 7-03 = 2 ≤ 2, on time.
 */
type Parts = [numerator: number, denominator: number | null];
const HAND: Record<string, {A: Parts; B: Parts}> = {
  // on-site inspected institutions (distinct; 自查自纠 is not on site) ÷ institutions: A {H1, P1} of 3; B {H3} of 2
  coverage: {A: [2, 3], B: [1, 2]},
  // inspections with a problem ÷ inspections: A S1, S3 of 4; B S5 of 1
  problem_rate: {A: [2, 4], B: [1, 1]},
  findings: {A: [3, null], B: [1, null]},
  // fen: A 80,000.00 + 1,000.50 + 2,000.00 = 83,000.50 元; B 55,000.00 元
  amount_involved: {A: [8_300_050, null], B: [5_500_000, null]},
  // 追回 + 拒付 + 扣回: A 60,000.00 + 1,500.00 = 61,500.00 元; B 50,000.00 元
  recovery_total: {A: [6_150_000, null], B: [5_000_000, null]},
  fines: {A: [12_000_000, null], B: [0, null]},
  penalties: {A: [1, null], B: [0, null]},
  referrals: {A: [0, null], B: [1, null]},
  recovery_ratio: {A: [6_150_000, 8_300_050], B: [5_000_000, 5_500_000]},
  // institutions with a problem ÷ institutions inspected (any kind): A {H1, P1} of {H1, H2, P1}; B {H3} of {H3}
  inspection_problem_balance: {A: [2, 3], B: [1, 1]},
  // penalties ÷ agreement actions: A D2 of D1 D3 D4 D5 (4); B none of D6 D8 (2)
  agreement_penalty_balance: {A: [1, 4], B: [0, 2]},
  // 暂停/解除 ÷ 约谈/限期整改: A D5 of D3; B 0 of 0
  interview_suspension_balance: {A: [1, 1], B: [0, 0]},
  // referrals ÷ 通报批评: A 0 of 0; B D7 of D8
  criticism_referral_balance: {A: [0, 0], B: [1, 1]},
  // re-reviewed ÷ reviewed bills, where both are filled: A 12 + 4 of 200 + 100; B 5 of 50
  rereview_ratio: {A: [16, 300], B: [5, 50]},
  big_case_timeliness: {A: [0, 1], B: [1, 1]}
};

/** The expected rows at a level, from the counties' hand parts (a city's parts are its counties' sums). */
function expected(
  id: string,
  level: DivisionLevel
): {code: string; numerator: number; denominator: number | null}[] {
  const hand = HAND[id];
  if (!hand) throw new Error(`no hand value for ${id}`);
  const sum = (i: 0 | 1): number | null =>
    hand.A[i] === null || hand.B[i] === null ? null : (hand.A[i] ?? 0) + (hand.B[i] ?? 0);
  if (level === "县")
    return [
      {code: "640402", numerator: hand.A[0], denominator: hand.A[1]},
      {code: "640422", numerator: hand.B[0], denominator: hand.B[1]}
    ];
  return [{code: level === "市" ? "640400" : "640000", numerator: sum(0) ?? 0, denominator: sum(1)}];
}

/**
 * 每家追回金额 (recovered per institution inspected on site), an analyst's metric: a ratio whose unit is
 * 元, not %. Declared a ratio, the city's value is the counties' recoveries over their institutions
 * (11,150,000 ÷ 3 fen), never their sum (the total) nor the average of the counties' values.
 */
const perInstitution: Metric = {
  id: "recovery_per_institution",
  name: "每家追回金额",
  unit: "元",
  measure: {kind: "ratio", numerator: "追回、拒付、扣回金额", denominator: "现场检查过的机构数（去重）"},
  direction: "higher",
  description: "追回金额 ÷ 现场检查过的机构数。",
  parts: sqlQuery`SELECT county, sum(amount) AS numerator, 0 AS denominator FROM f_dispositions
WHERE action IN ('追回', '拒付', '扣回') GROUP BY county
UNION ALL
SELECT county, 0, count(DISTINCT institution_code) FROM f_inspections
WHERE kind NOT IN ('自查自纠', '智能监控') GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    for (const [county, p] of recoveryTotal.reference(data)) parts.add(county, p.numerator, 0);
    const seen = new Set<string>();
    for (const s of data.inspections)
      if (!["自查自纠", "智能监控"].includes(s.kind) && !seen.has(s.institution_code)) {
        seen.add(s.institution_code);
        parts.add(s.county, 0, 1);
      }
    return parts.map;
  }
};

let dir: string;
let result: IngestResult;
let data: MetricData;
const engines: {name: string; db: QueryDb; close: () => void}[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-hand-"));
  result = await ingest([FIXTURE], {today: "2024-12-31"});
  expect(result.rejects).toEqual([]);
  data = metricDataOf(result);
  const file = join(dir, "hand.duckdb");
  await writeDuckDBFile(file, toTables(result, {source: "hand", generatedAt: "2024-12-31T00:00:00Z"}));
  engines.push({name: "native", ...(await openNativeDb(file))});
  const wasm = await startWasmNode();
  wasm.registerFileBuffer("hand.duckdb", new Uint8Array(await readFile(file)));
  const conn = wasm.connect();
  conn.query("ATTACH 'hand.duckdb' AS hand (READ_ONLY)");
  conn.query("USE hand");
  engines.push({
    name: "wasm",
    db: wasmQuery(conn),
    close: () => undefined
  });
}, 120_000);

afterAll(async () => {
  for (const e of engines) e.close();
  if (dir) await rm(dir, {recursive: true, force: true});
});

const strip = (rows: {code: string; numerator: number; denominator: number | null}[]) =>
  rows.map(({code, numerator, denominator}) => ({code, numerator, denominator}));

describe("every metric against values worked out by hand", () => {
  it("has a hand-computed value for every metric, and declares what it measures", () => {
    expect(METRICS.map((m) => m.id).sort()).toEqual(Object.keys(HAND).sort());
    for (const m of METRICS) {
      const hand = HAND[m.id];
      // A total's parts have no denominator; a ratio's always have one.
      expect(hand?.A[1] === null, m.id).toBe(m.measure.kind === "total");
      if (m.measure.kind === "ratio") expect(m.measure.numerator && m.measure.denominator, m.id).toBeTruthy();
    }
  });

  for (const level of ["县", "市", "省"] as const) {
    it(`at level ${level}: the JS reference and the SQL in native DuckDB and DuckDB-WASM`, async () => {
      for (const metric of METRICS) {
        const want = expected(metric.id, level);
        expect(strip(metricReference(metric, data, {level})), `${metric.id} JS`).toEqual(want);
        for (const e of engines)
          expect(strip(await metricByDivision(e.db, metric, {level})), `${metric.id} ${e.name}`).toEqual(
            want
          );
      }
    });
  }

  it("values follow the parts: 2 of 3 institutions is 2/3; no basis for a ratio is null, not 0", async () => {
    const [coverage] = await metricByDivision(engines[0]!.db, "coverage", {level: "市"});
    expect(coverage?.value).toBe(3 / 5);
    const rows = await metricByDivision(engines[0]!.db, "criticism_referral_balance", {level: "县"});
    expect(rows.map((r) => r.value)).toEqual([null, 1]);
  });

  it("a ratio in 元 (每家追回金额) is a ratio at every level, not summed as a total", async () => {
    const want = [{code: "640400", numerator: 11_150_000, denominator: 3, value: 11_150_000 / 3}];
    expect(metricReference(perInstitution, data, {level: "市"})).toEqual(want);
    for (const e of engines)
      expect(await metricByDivision(e.db, perInstitution, {level: "市"})).toEqual(want);
    const counties = await metricByDivision(engines[0]!.db, perInstitution, {level: "县"});
    expect(counties.map((r) => r.value)).toEqual([3_075_000, 5_000_000]);
  });

  it("a metric that does not say whether it is a total or a ratio is refused in Chinese", async () => {
    const undeclared: Partial<Metric> = {...perInstitution};
    delete undeclared.measure;
    await expect(metricByDivision(engines[0]!.db, undeclared as unknown as Metric)).rejects.toThrow(
      /指标「recovery_per_institution」没有声明 measure：合计写 measure: \{kind: "total"\}/
    );
  });
});
