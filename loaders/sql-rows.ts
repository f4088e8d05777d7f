/**
 * Row-level steps of the ingest as SQL over a parsed table (loaders/sql-cells.ts): what
 * loaders/ingest.ts does per row in JS, written beside it as SQL twins and tested against it
 * (test/unit/sql-rows.test.ts). Not yet called by `ingest()`.
 */
import type {Column} from "../src/schema/dataset.js";
import type {RowLimits} from "./ingest.js";
import {literal} from "./duckdb-file.js";

/** The macro for money in 元 as `formatMoney(fen, {unit: "元"})` writes it: `12,345.67元`. */
export const ROW_MACROS = `
CREATE OR REPLACE TEMP MACRO fw_money_yuan(v) AS
  CASE WHEN v < 0 THEN '-' ELSE '' END || format('{:,}', abs(CAST(v AS HUGEINT)) // 100) || '.'
  || lpad(CAST(abs(CAST(v AS HUGEINT)) % 100 AS VARCHAR), 2, '0') || '元';
`;

/** An issue of a range rule, as SQL: NULL, or a STRUCT `{reason, reason_en, rule}`. */
export interface RangeSql {
  /** Rejects the row (amount above the ceiling, date before the earliest). */
  reject: string;
  /** Warns and keeps the row (amount at or above the implausibility threshold). */
  warn: string;
}

/**
 * The range rules of one column (`rangeIssues` in ./ingest.ts) over its parsed value `v` (SQL: HUGEINT
 * fen for money, DATE for dates; NULL when the cell did not parse, which no rule looks at). The limits
 * are the ingest's options, checked before (integers, an ISO date), written as literals.
 */
export function rangeSql(col: Column, v: string, limits: RowLimits): RangeSql {
  const none = "CAST(NULL AS STRUCT(reason VARCHAR, reason_en VARCHAR, rule VARCHAR))";
  const issue = (reason: string, reasonEn: string, rule: string) =>
    `{'reason': ${reason}, 'reason_en': ${reasonEn}, 'rule': ${literal(rule)}}`;
  if (col.duck === "BIGINT") {
    const reject = `CAST(${limits.rejectAboveFen.toString()} AS HUGEINT)`;
    const warn = `CAST(${limits.warnAboveFen.toString()} AS HUGEINT)`;
    return {
      reject: `CASE WHEN ${v} > ${reject} THEN ${issue(
        `'金额过大：' || fw_money_yuan(${v}) || '，超过上限 ' || fw_money_yuan(${reject}) || '（可能多输了位数，或单位有误，如把元写成万元）'`,
        literal(`amount above the ceiling of ${limits.rejectAboveFen} fen`),
        "amount-ceiling"
      )} ELSE ${none} END`,
      warn: `CASE WHEN ${v} <= ${reject} AND ${v} >= ${warn} THEN ${issue(
        `'金额异常大：' || fw_money_yuan(${v}) || '，达到核对线 ' || fw_money_yuan(${warn}) || '，请核对位数和单位'`,
        literal(`implausibly large amount (at or above ${limits.warnAboveFen} fen)`),
        "amount-implausible"
      )} ELSE ${none} END`
    };
  }
  if (col.duck === "DATE") {
    const earliest = `CAST(${literal(limits.earliestDate)} AS DATE)`;
    return {
      reject: `CASE WHEN ${v} < ${earliest} THEN ${issue(
        `${literal(`日期早于 ${limits.earliestDate}：`)} || strftime(${v}, '%Y-%m-%d') || '（1900-01-01、1899-12-30、1899-12-31 是 Excel 的“零日期”，多为空单元格或 0 被设成了日期格式）'`,
        literal(`date before ${limits.earliestDate}`),
        "date-too-early"
      )} ELSE ${none} END`,
      warn: none
    };
  }
  return {reject: none, warn: none};
}
