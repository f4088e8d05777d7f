/**
 * The Chinese name of every rule the ingest can report (the `rule` of a row in rejects and warnings):
 * shown on the quality page and in rejects.csv / warnings.csv, with the English id kept beside it
 * (a tooltip on the page, a column of its own in the CSV). `test/unit/rule-names.test.ts` fails when
 * the code can emit a rule id that has no name here.
 */
import {DATASETS} from "./index.js";
import type {Column} from "./dataset.js";

/**
 * Rules loaders/ingest.ts checks itself (beyond each column's own check and each dataset's row rules).
 * A new rule id in the ingest gets its Chinese name here.
 */
const INGEST_RULES: Readonly<Record<string, string>> = {
  required: "必填项为空",
  schema: "数据模型校验未通过",
  "note-row": "说明行（未作为数据读取）",
  "control-total-unchecked": "合计无法核对",
  "duplicate-key": "重复记录",
  "unknown-institution": "机构表中没有此机构",
  "unknown-campaign": "没有此专项行动",
  "date-outside-campaign": "检查日期不在行动期间",
  "future-date": "日期在未来",
  "unknown-inspection": "没有此检查记录",
  "unknown-finding": "没有此违规问题",
  "unknown-division": "区划表中没有此区划",
  "unknown-parent": "上级区划不存在",
  "recovered-exceeds-involved": "追回金额大于涉及金额",
  "finding-on-clean-inspection": "检查标为未发现问题却有问题记录",
  // Input defects.
  "amount-ceiling": "金额超过上限",
  "amount-implausible": "金额异常大（请核对）",
  "extra-fields": "表头之外还有值",
  "truncated-file": "文件可能被截断",
  "date-too-early": "日期早于最早日期",
  "after-as-of": "日期晚于数据截至日期"
};

/** The row rules of the datasets (`rules` in src/schema/*.ts), by their `name`. */
const DATASET_RULES: Readonly<Record<string, string>> = {
  "campaign-dates-ordered": "结束日期早于开始日期",
  "coverage-deadlines-ordered": "两个阶段的截止日期颠倒",
  "finding-or-inspection": "问题编号和检查编号都未填写",
  "money-action-has-amount": "资金处理未填金额",
  "amount-only-for-money-actions": "非资金处理填了金额",
  "reported-after-decided": "上报日期早于处理日期",
  "province-has-no-parent": "市县未填上级编码",
  "fund-paid-within-involved": "基金支付金额大于涉及金额",
  "rereviewed-within-reviewed": "复审单据数大于审核单据数",
  "pharmacy-code-prefix": "机构编码与机构类型不符",
  "week-ends-on-friday": "统计截止日期不是星期五",
  "problems-within-inspected": "发现问题机构数大于检查机构数"
};

/** The fixed rule names: the ingest's own rules and the datasets' row rules. */
export const RULE_NAMES: Readonly<Record<string, string>> = {...INGEST_RULES, ...DATASET_RULES};

/** A column's own check fails as `invalid-<field>` (its value cannot be read as the column requires). */
const INVALID_FIELD = /^invalid-(.+)$/;

/** The headers of `field` in `dataset` (or, without one, in every dataset that has the field), in order. */
function headersOf(field: string, dataset?: string): string[] {
  const headers = DATASETS.filter((ds) => dataset === undefined || ds.name === dataset)
    .map((ds) => (ds.columns as Record<string, Column | undefined>)[field]?.header)
    .filter((h): h is string => h !== undefined);
  return [...new Set(headers)];
}

/**
 * The Chinese name of a rule id: `"duplicate-key"` → `"重复记录"`; a column's check `invalid-<field>` →
 * `「<列名>」填写有误`, the header taken from the dataset's columns (all the datasets' headers of that
 * field when `dataset` is not given). An id with no name is returned as it is.
 *
 * @param id - the rule id, as in the `rule` column of rejects and warnings
 * @param dataset - the dataset the row belongs to (its `name`, e.g. `"institutions"`), to name the column
 *   exactly (default every dataset)
 * @returns the rule's Chinese name, or the id itself if it has none
 * @example
 * ```ts
 * ruleName("duplicate-key"); // → "重复记录"
 * ruleName("invalid-division_code", "institutions"); // → "「所属区划」填写有误"
 * ruleName("invalid-division_code"); // → "「所属区划」或「区划」填写有误"
 * ```
 */
export function ruleName(id: string, dataset?: string): string {
  const fixed = RULE_NAMES[id];
  if (fixed !== undefined) return fixed;
  const field = INVALID_FIELD.exec(id)?.[1];
  const headers = field === undefined ? [] : headersOf(field, dataset);
  const all = headers.length > 0 || dataset === undefined ? headers : headersOf(field ?? "");
  return all.length > 0 ? `「${all.join("」或「")}」填写有误` : id;
}

/**
 * Whether a rule id has a Chinese name (a fixed one, or `invalid-<field>` for a field some dataset has).
 *
 * @param id - the rule id
 * @returns true if {@link ruleName} gives a Chinese name rather than the id
 * @example
 * ```ts
 * hasRuleName("future-date"); // → true
 * hasRuleName("invalid-amount"); // → true
 * hasRuleName("no-such-rule"); // → false
 * ```
 */
export function hasRuleName(id: string): boolean {
  return ruleName(id) !== id;
}
