/**
 * Completeness gates: what must be true of a build's data before it is published, so that a missing
 * file, a mostly rejected submission or a district whose records halved is never read by leadership
 * as a fact. The gates run on the database the loader wrote (SQL, with the metrics' own county
 * attribution) and compare it with the manifest of the last published build (`dist/build.json`'s
 * `data.divisions`):
 *
 * | gate | fails when |
 * |---|---|
 * | `required-dataset` | a required dataset loaded no row |
 * | `rejected-share` | a file's rejected rows exceed the share allowed (default 2%) of its rows read |
 * | `division-silent` | a division that had records in the last published build has none now |
 * | `division-rows-drop` | a division's records fall by more than the limit (default 10%) |
 * | `division-recovered-drop` | a division's recovered amount falls by more than the limit (default 10%) |
 * | `weekly-mismatch` | a division's latest weekly report is further from its case records than the tolerance |
 *
 * A failed gate stops the build with every failure listed in Chinese, naming the file or division and
 * both figures. An administrator may publish anyway with a reason (`npm run build -- --accept "…"`):
 * the reason and the failures are then recorded in the database (`gates` table, shown on the quality
 * page) and in build.json and the release manifest.
 */
import {readFile} from "node:fs/promises";
import {z} from "zod";
import {DATASETS} from "../src/schema/index.js";
import {formatMoney} from "../src/format/money.js";
import {metricByDivision} from "../src/metrics/index.js";
import {reconcileWeekly, RECONCILED_FIGURES, type ReconciledFigure} from "../src/metrics/reconcile.js";
import {ident, sqlQuery, type QueryDb} from "../src/sql/template.js";
import type {GatesConfig} from "./checks-config.js";
import type {TableSpec} from "./duckdb-file.js";

/** One division's records in a build: what the next build is compared with. */
export const DivisionCount = z.object({
  code: z.string(),
  name: z.string(),
  /** Inspections, findings and dispositions attributed to the division, and its weekly reports. */
  rows: z.number().int().nonnegative(),
  /** 追回 + 拒付 + 扣回, fen (the recovery_total metric of a county-level division; 0 for a city or the province). */
  recovered_fen: z.number().int()
});
export type DivisionCount = z.infer<typeof DivisionCount>;

/** The figures of a build's data the gates look at. */
export interface DataManifest {
  datasets: {name: string; label: string; rows: number; files: string[]}[];
  files: {file: string; dataset: string; rows_read: number; rows_rejected: number}[];
  divisions: DivisionCount[];
  /** Each division's latest weekly report against its records. */
  weekly: {
    code: string;
    name: string;
    week_ending: string;
    figure: ReconciledFigure;
    reported: number;
    recorded: number;
  }[];
}

export type GateId =
  | "required-dataset"
  | "rejected-share"
  | "division-silent"
  | "division-rows-drop"
  | "division-recovered-drop"
  | "weekly-mismatch";

/** The Chinese name of each gate. */
export const GATE_NAMES: Record<GateId, string> = {
  "required-dataset": "必需数据集为空",
  "rejected-share": "拒收比例过高",
  "division-silent": "区划没有数据",
  "division-rows-drop": "区划记录数骤降",
  "division-recovered-drop": "区划追回金额骤降",
  "weekly-mismatch": "周报与案件记录不符"
};

export const GateFailure = z.object({
  gate: z.string(),
  /** The file, dataset or division it is about. */
  subject: z.string(),
  /** The whole message, in Chinese, with both figures. */
  message: z.string()
});
export type GateFailure = z.infer<typeof GateFailure>;

/** What the gates found, as recorded in the database, build.json and the release manifest. */
export const GateReport = z.object({
  /** passed: no failure; accepted: failures published with a reason; failed: not published. */
  status: z.enum(["passed", "accepted", "failed"]),
  failures: z.array(GateFailure),
  /** The administrator's reason for publishing despite the failures. */
  accepted_reason: z.string().nullable(),
  /** The last published build compared with (its build time), or null when there was none. */
  previous_built_at: z.string().nullable(),
  /** The configuration file read, or null for the defaults. */
  config_file: z.string().nullable()
});
export type GateReport = z.infer<typeof GateReport>;

/** The last published build, as far as the gates need it. */
export interface PreviousBuild {
  built_at: string;
  divisions: DivisionCount[];
}

const n = (value: unknown): number => Number(value ?? 0);

/** The gates' figures from a database with the loader's tables (native DuckDB or DuckDB-WASM). */
export async function dataManifest(db: QueryDb): Promise<DataManifest> {
  const files = (
    await db.query(
      sqlQuery`SELECT file, dataset, rows_read, rows_rejected FROM inputs WHERE duplicate_of IS NULL ORDER BY file`
    )
  ).map((r) => ({
    file: String(r.file),
    dataset: String(r.dataset),
    rows_read: n(r.rows_read),
    rows_rejected: n(r.rows_rejected)
  }));
  const datasets: DataManifest["datasets"] = [];
  for (const ds of DATASETS) {
    const [row] = await db.query(sqlQuery`SELECT CAST(count(*) AS INTEGER) AS n FROM ${ident(ds.name)}`);
    datasets.push({
      name: ds.name,
      label: ds.label,
      rows: n(row?.n),
      files: files.filter((f) => f.dataset === ds.name).map((f) => f.file)
    });
  }
  // Records by county as every metric attributes them (the scope's f_* views), plus weekly reports.
  const counts = await db.query(sqlQuery`WITH
i AS (SELECT code, division_code FROM institutions),
s AS (SELECT s.id, i.division_code AS code FROM inspections AS s JOIN i ON i.code = s.institution_code),
f AS (SELECT f.id, f.inspection_id, s.code FROM findings AS f JOIN s ON s.id = f.inspection_id),
p AS (
  SELECT s.code FROM dispositions AS p LEFT JOIN findings AS f ON f.id = p.finding_id
  JOIN s ON s.id = coalesce(f.inspection_id, p.inspection_id)
),
rows_by AS (
  SELECT code FROM s UNION ALL SELECT code FROM f UNION ALL SELECT code FROM p
  UNION ALL SELECT division_code AS code FROM weekly_reports
)
SELECT d.code, d.name, CAST(count(r.code) AS INTEGER) AS rows
FROM divisions AS d LEFT JOIN rows_by AS r ON r.code = d.code
WHERE d.level <> '省'
GROUP BY d.code, d.name ORDER BY d.code`);
  const recovered = new Map(
    (await metricByDivision(db, "recovery_total", {level: "县"})).map((r) => [r.code, r.numerator])
  );
  const divisions = counts.map((r) => ({
    code: String(r.code),
    name: String(r.name),
    rows: n(r.rows),
    // A city's own figure is its own records only (none but weekly reports): its counties carry the rest.
    recovered_fen: recovered.get(String(r.code)) ?? 0
  }));
  const names = new Map(divisions.map((d) => [d.code, d.name]));
  const latest = new Map<string, Awaited<ReturnType<typeof reconcileWeekly>>[number]>();
  for (const r of await reconcileWeekly(db)) {
    const key = `${r.code}|${r.campaign_id ?? ""}`;
    const before = latest.get(key);
    if (!before || r.week_ending > before.week_ending) latest.set(key, r);
  }
  const weekly: DataManifest["weekly"] = [];
  for (const r of [...latest.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))) {
    for (const figure of Object.keys(RECONCILED_FIGURES) as ReconciledFigure[]) {
      const reported = r.reported[figure];
      if (reported === null) continue;
      weekly.push({
        code: r.code,
        name: names.get(r.code) ?? r.code,
        week_ending: r.week_ending,
        figure,
        reported,
        recorded: r.recorded[figure]
      });
    }
  }
  return {datasets, files, divisions, weekly};
}

const percent = (share: number): string => `${Number((share * 100).toFixed(1))}%`;
const isMoney = (figure: ReconciledFigure): boolean => figure === "recovered" || figure === "fined";

/** Every gate that `current` fails under `config`, compared with `previous` (null: the first build). */
export function evaluateGates(
  current: DataManifest,
  previous: PreviousBuild | null,
  config: GatesConfig
): GateFailure[] {
  const failures: GateFailure[] = [];
  const fail = (gate: GateId, subject: string, message: string): void => {
    failures.push({gate, subject, message: `${GATE_NAMES[gate]}：${message}`});
  };
  for (const name of config.requiredDatasets) {
    const ds = current.datasets.find((d) => d.name === name);
    if (!ds) {
      fail(
        "required-dataset",
        name,
        `配置的必需数据集「${name}」不存在（可用：${DATASETS.map((d) => d.name).join("、")}）`
      );
      continue;
    }
    if (ds.rows > 0) continue;
    const files = current.files.filter((f) => f.dataset === name);
    fail(
      "required-dataset",
      ds.label,
      files.length === 0
        ? `没有「${ds.label}」的输入文件，这个数据集一行也没有载入`
        : `「${ds.label}」的 ${files.length} 个文件（${files.map((f) => f.file).join("、")}）读取 ${files.reduce((s, f) => s + f.rows_read, 0)} 行，一行也没有载入`
    );
  }
  for (const f of current.files) {
    if (f.rows_read === 0) continue;
    const share = f.rows_rejected / f.rows_read;
    if (share > config.maxRejectedShare)
      fail(
        "rejected-share",
        f.file,
        `${f.file} 读取 ${f.rows_read} 行，拒收 ${f.rows_rejected} 行（${percent(share)}），超过上限 ${percent(config.maxRejectedShare)}`
      );
  }
  if (previous) {
    const now = new Map(current.divisions.map((d) => [d.code, d]));
    for (const before of previous.divisions) {
      const after = now.get(before.code);
      const label = `${before.name}（${before.code}）`;
      if (before.rows > 0 && (!after || after.rows === 0)) {
        fail(
          "division-silent",
          label,
          `${label}上次发布时有 ${before.rows} 行记录，这次没有任何记录（是否缺了这个地区的文件？）`
        );
        continue;
      }
      if (!after) continue;
      const rowDrop = before.rows > 0 ? (before.rows - after.rows) / before.rows : 0;
      if (rowDrop > config.maxDivisionDrop.rows)
        fail(
          "division-rows-drop",
          label,
          `${label}的记录从上次发布的 ${before.rows} 行降到 ${after.rows} 行（减少 ${percent(rowDrop)}，上限 ${percent(config.maxDivisionDrop.rows)}）`
        );
      const moneyDrop =
        before.recovered_fen > 0 ? (before.recovered_fen - after.recovered_fen) / before.recovered_fen : 0;
      if (moneyDrop > config.maxDivisionDrop.recovered)
        fail(
          "division-recovered-drop",
          label,
          `${label}的追回金额从上次发布的 ${formatMoney(before.recovered_fen, {unit: "元"})}降到 ${formatMoney(after.recovered_fen, {unit: "元"})}（减少 ${percent(moneyDrop)}，上限 ${percent(config.maxDivisionDrop.recovered)}）`
        );
    }
  }
  for (const w of current.weekly) {
    const money = isMoney(w.figure);
    const tolerance = money ? config.weeklyTolerance.money : config.weeklyTolerance.counts;
    // At least one institution, or the 50 元 a report in 万元 to two decimals may be off (尾差).
    const allowed = Math.max(tolerance * Math.abs(w.recorded), money ? 5_000 : 1);
    if (Math.abs(w.reported - w.recorded) <= allowed) continue;
    const show = (v: number): string => (money ? formatMoney(v, {unit: "元"}) : `${v} 家`);
    const label = `${w.name}（${w.code}）`;
    fail(
      "weekly-mismatch",
      label,
      `${label} ${w.week_ending} 的周报「${RECONCILED_FIGURES[w.figure]}」为 ${show(w.reported)}，案件记录为 ${show(w.recorded)}（允许相差 ${percent(tolerance)}）`
    );
  }
  return failures;
}

/** The gates' verdict: failed unless there is no failure, or an administrator accepted them with a reason. */
export function gateReport(
  failures: GateFailure[],
  options: {accept: string | null; previous: PreviousBuild | null; configFile: string | null}
): GateReport {
  const reason = options.accept?.trim() || null;
  return {
    status: failures.length === 0 ? "passed" : reason ? "accepted" : "failed",
    failures,
    accepted_reason: failures.length === 0 ? null : reason,
    previous_built_at: options.previous?.built_at ?? null,
    config_file: options.configFile
  };
}

/** The error a failed report stops the build with (each failure on a line of its own, after "- "). */
export function gateError(report: GateReport): string {
  return (
    `质量门槛未通过（${report.failures.length} 项），不发布：\n- ${report.failures.map((f) => f.message).join("\n- ")}` +
    `\n- 如确认这些数据无误、需要照常发布，请由管理员运行 npm run build -- --accept "原因"（原因会显示在数据质量页和发布清单中）`
  );
}

const PreviousFile = z.object({
  built_at: z.string(),
  data: z.object({divisions: z.array(DivisionCount).optional()})
});

/**
 * The last published build's manifest (`dist/build.json`), or null when there is none or it predates
 * the manifest (then the comparison gates are skipped, and the report says there was nothing to compare).
 * A build.json that cannot be read is an error, not a silent skip.
 */
export async function readPreviousBuild(buildJson: string): Promise<PreviousBuild | null> {
  let text: string;
  try {
    text = await readFile(buildJson, "utf-8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const parsed = PreviousFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`上次发布的 ${buildJson} 格式不对，无法比较：${parsed.error.message}`);
  return parsed.data.data.divisions
    ? {built_at: parsed.data.built_at, divisions: parsed.data.data.divisions}
    : null;
}

/** The `gates` table of the database: one row per failure, and the verdict in `meta`-like rows. */
export function gateTables(report: GateReport): TableSpec[] {
  return [
    {
      name: "gates",
      columns: [
        {name: "gate", type: "VARCHAR"},
        {name: "gate_name", type: "VARCHAR"},
        {name: "subject", type: "VARCHAR"},
        {name: "message", type: "VARCHAR"}
      ],
      rows: report.failures.map((f) => [f.gate, GATE_NAMES[f.gate as GateId] ?? f.gate, f.subject, f.message])
    },
    {
      name: "gate_status",
      columns: [
        {name: "key", type: "VARCHAR"},
        {name: "value", type: "VARCHAR"}
      ],
      rows: [
        ["status", report.status],
        ["accepted_reason", report.accepted_reason],
        ["previous_built_at", report.previous_built_at],
        ["config_file", report.config_file]
      ]
    }
  ];
}

/** Reads the verdict back from a database the loader wrote (for build.json and the release manifest). */
export async function readGateReport(db: QueryDb): Promise<GateReport | null> {
  const tables = await db.query(
    sqlQuery`SELECT table_name FROM information_schema.tables WHERE table_name IN ('gates', 'gate_status')`
  );
  if (tables.length < 2) return null;
  const status = new Map(
    (await db.query(sqlQuery`SELECT key, value FROM gate_status`)).map((r) => [
      String(r.key),
      r.value === null ? null : String(r.value)
    ])
  );
  const failures = (await db.query(sqlQuery`SELECT gate, subject, message FROM gates ORDER BY rowid`)).map(
    (r) => ({gate: String(r.gate), subject: String(r.subject), message: String(r.message)})
  );
  return GateReport.parse({
    status: status.get("status"),
    failures,
    accepted_reason: status.get("accepted_reason") ?? null,
    previous_built_at: status.get("previous_built_at") ?? null,
    config_file: status.get("config_file") ?? null
  });
}

export interface CheckGatesOptions {
  config: GatesConfig;
  /** The last published build, or null. */
  previous: PreviousBuild | null;
  /** The administrator's reason to publish despite failures (`--accept`), or null. */
  accept: string | null;
  configFile: string | null;
}

/** Runs every gate on `db` and gives the verdict. */
export async function checkGates(db: QueryDb, options: CheckGatesOptions): Promise<GateReport> {
  const failures = evaluateGates(await dataManifest(db), options.previous, options.config);
  return gateReport(failures, {
    accept: options.accept,
    previous: options.previous,
    configFile: options.configFile
  });
}

/** The verdict in a few lines for the log (stderr). */
export function describeGateReport(report: GateReport): string {
  const compared = report.previous_built_at
    ? `与上次发布（${report.previous_built_at}）比较`
    : "没有上次发布的记录，未做与上次的比较";
  if (report.status === "passed") return `[fundwatch] 质量门槛全部通过（${compared}）`;
  const lines = report.failures.map((f) => `  - ${f.message}`).join("\n");
  return report.status === "accepted"
    ? `[fundwatch] 质量门槛有 ${report.failures.length} 项未通过，管理员已确认照常发布（原因：${report.accepted_reason}）：\n${lines}`
    : `[fundwatch] 质量门槛有 ${report.failures.length} 项未通过（${compared}）：\n${lines}`;
}
