/**
 * `fundwatch.checks.json`: the one configuration file of the data checks — the completeness gates a
 * build must pass before it publishes (loaders/gates.ts) and the limits the ingest applies to single
 * values (amount ceilings, the earliest plausible date, a stated as-of cut-off). Every key is optional;
 * a missing file or key takes the default below. The file is validated: a wrong key or value stops the
 * build with a Chinese message naming the file and the key, never a silent default.
 */
import {readFile} from "node:fs/promises";
import {resolve} from "node:path";
import {z} from "zod";
import {DEFAULT_AMOUNT_LIMITS, DEFAULT_EARLIEST_DATE, type IngestOptions} from "./ingest.js";

/** The file's name at the project root. */
export const CHECKS_FILE = "fundwatch.checks.json";

const share = z.number().min(0).max(1);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "应为 YYYY-MM-DD 格式的日期");

const GatesSchema = z
  .object({
    required_datasets: z
      .array(z.string())
      .describe("必需的数据集（英文名）：任何一个没有载入的行，构建就停止")
      .optional(),
    max_rejected_share: share.describe("单个文件拒收行数占读取行数的上限（0.02 即 2%）").optional(),
    max_division_drop: z
      .object({
        rows: share.describe("某区划的记录行数比上次发布减少的比例上限").optional(),
        recovered: share.describe("某区划的追回金额比上次发布减少的比例上限").optional()
      })
      .strict()
      .optional(),
    weekly_tolerance: z
      .object({
        counts: share.describe("最近一期周报的机构数与案件记录相差的比例上限").optional(),
        money: share.describe("最近一期周报的金额与案件记录相差的比例上限").optional()
      })
      .strict()
      .optional()
  })
  .strict();

const IngestSchema = z
  .object({
    amount_reject_above_yuan: z.number().positive().describe("单个金额超过此值（元）即拒收").optional(),
    amount_warn_above_yuan: z.number().positive().describe("单个金额达到此值（元）即警告").optional(),
    earliest_date: isoDate.describe("早于此日期的检查、处理、上报日期拒收").optional(),
    as_of_cutoff: isoDate.nullable().describe("写明的数据截至日期；不写则按多数区划已报到的日期").optional()
  })
  .strict();

const ChecksSchema = z
  .object({
    说明: z.string().optional(),
    gates: GatesSchema.optional(),
    ingest: IngestSchema.optional()
  })
  .strict();

export interface GatesConfig {
  /** Datasets that must load at least one row. */
  requiredDatasets: string[];
  /** A file's rejected rows over its rows read, at most (0.02 = 2%). */
  maxRejectedShare: number;
  /** How much a division's rows / recovered amount may fall against the last published build. */
  maxDivisionDrop: {rows: number; recovered: number};
  /** How far a division's latest weekly report may be from its case records (relative). */
  weeklyTolerance: {counts: number; money: number};
}

export interface IngestLimits {
  /** An amount above this (fen) is rejected. */
  amountRejectAboveFen: bigint;
  /** An amount at or above this (fen) is warned. */
  amountWarnAboveFen: bigint;
  /** Event dates before this day are rejected (YYYY-MM-DD). */
  earliestDate: string;
  /** A stated as-of date (YYYY-MM-DD), or null to take the day most divisions have reached. */
  asOfCutoff: string | null;
}

export interface ChecksConfig {
  gates: GatesConfig;
  ingest: IngestLimits;
  /** The file read (relative to the project root where it is inside it), or null when defaults only. */
  file: string | null;
}

/** The defaults, used for every key the file leaves out (and when there is no file). */
export const DEFAULT_CHECKS: Omit<ChecksConfig, "file"> = {
  gates: {
    requiredDatasets: [
      "divisions",
      "institutions",
      "campaigns",
      "inspections",
      "findings",
      "dispositions",
      "weekly_reports"
    ],
    maxRejectedShare: 0.02,
    // Campaign figures are cumulative: a division's records should only grow from one weekly build
    // to the next. A fall of more than a tenth is a missing file or a cut submission until shown otherwise.
    maxDivisionDrop: {rows: 0.1, recovered: 0.1},
    // The seeded data's discrepancies are 2.7–3.4% in the latest reports (shown on the quality page,
    // not a stop); a report off by more than 5% is a wrong report or missing records.
    weeklyTolerance: {counts: 0.05, money: 0.05}
  },
  // The ingest's own defaults (loaders/ingest.ts says why each is what it is).
  ingest: {
    amountRejectAboveFen: DEFAULT_AMOUNT_LIMITS.rejectAboveFen,
    amountWarnAboveFen: DEFAULT_AMOUNT_LIMITS.warnAboveFen,
    earliestDate: DEFAULT_EARLIEST_DATE,
    asOfCutoff: null
  }
};

const yuanToFen = (yuan: number): bigint => {
  const [int = "0", frac = ""] = yuan.toFixed(2).split(".");
  return BigInt(int) * 100n + BigInt(frac.padEnd(2, "0").slice(0, 2));
};

const TYPE_NAMES: Record<string, string> = {number: "数字", string: "文本", array: "列表", object: "对象"};

/** A zod issue in Chinese (zod's own messages are English). */
function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `中有不认识的键：${issue.keys.join("、")}`;
    case "invalid_type":
      return `类型不对，应为${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      return `不能小于 ${String(issue.minimum)}${issue.inclusive === false ? "（且不能等于）" : ""}`;
    case "too_big":
      return `不能大于 ${String(issue.maximum)}`;
    default:
      return /[\u4e00-\u9fff]/.test(issue.message) ? issue.message : `取值不对（${issue.message}）`;
  }
}

/** Validates a parsed configuration object; throws in Chinese naming `label` and every wrong key. */
export function parseChecks(value: unknown, label: string): ChecksConfig {
  const parsed = ChecksSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `「${i.path.join(".") || "（整个文件）"}」${issueText(i)}`);
    throw new Error(`配置文件 ${label} 有误：\n- ${lines.join("\n- ")}`);
  }
  const g = parsed.data.gates ?? {};
  const i = parsed.data.ingest ?? {};
  const d = DEFAULT_CHECKS;
  const config: ChecksConfig = {
    file: label,
    gates: {
      requiredDatasets: g.required_datasets ?? d.gates.requiredDatasets,
      maxRejectedShare: g.max_rejected_share ?? d.gates.maxRejectedShare,
      maxDivisionDrop: {
        rows: g.max_division_drop?.rows ?? d.gates.maxDivisionDrop.rows,
        recovered: g.max_division_drop?.recovered ?? d.gates.maxDivisionDrop.recovered
      },
      weeklyTolerance: {
        counts: g.weekly_tolerance?.counts ?? d.gates.weeklyTolerance.counts,
        money: g.weekly_tolerance?.money ?? d.gates.weeklyTolerance.money
      }
    },
    ingest: {
      amountRejectAboveFen:
        i.amount_reject_above_yuan === undefined
          ? d.ingest.amountRejectAboveFen
          : yuanToFen(i.amount_reject_above_yuan),
      amountWarnAboveFen:
        i.amount_warn_above_yuan === undefined
          ? d.ingest.amountWarnAboveFen
          : yuanToFen(i.amount_warn_above_yuan),
      earliestDate: i.earliest_date ?? d.ingest.earliestDate,
      asOfCutoff: i.as_of_cutoff === undefined ? d.ingest.asOfCutoff : i.as_of_cutoff
    }
  };
  if (config.ingest.amountWarnAboveFen > config.ingest.amountRejectAboveFen)
    throw new Error(
      `配置文件 ${label} 有误：\n- 「ingest.amount_warn_above_yuan」不能大于「ingest.amount_reject_above_yuan」`
    );
  return config;
}

/**
 * Reads the checks configuration: `path` when given (an error if it is missing), else
 * `<root>/fundwatch.checks.json` when it exists, else the defaults.
 */
export async function loadChecks(root: string, path?: string): Promise<ChecksConfig> {
  const file = resolve(root, path ?? CHECKS_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf-8");
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === "ENOENT")
      return {...DEFAULT_CHECKS, file: null};
    throw new Error(`读不到配置文件 ${file}：${(error as Error).message}`, {cause: error});
  }
  const label = path ?? CHECKS_FILE;
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new Error(`配置文件 ${label} 不是有效的 JSON：${(error as Error).message}`, {cause: error});
  }
  return parseChecks(value, label);
}

/** The ingest options the configuration's `ingest` section sets. */
export function ingestOptions(
  limits: IngestLimits
): Pick<IngestOptions, "amountLimits" | "earliestDate" | "asOfCutoff"> {
  return {
    amountLimits: {rejectAboveFen: limits.amountRejectAboveFen, warnAboveFen: limits.amountWarnAboveFen},
    earliestDate: limits.earliestDate,
    ...(limits.asOfCutoff === null ? {} : {asOfCutoff: limits.asOfCutoff})
  };
}
