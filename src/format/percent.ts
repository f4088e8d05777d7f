/** Percentages and metric values in Chinese report style. */
import {divRound, placeDigits} from "./decimal.js";
import {formatMoney} from "./money.js";
import {formatCount} from "./text.js";

export interface FormatPercentOptions {
  /** Decimal places. Default 1 (`13.6%`). */
  digits?: number;
  /** Append `%`. Default `true`. */
  suffix?: boolean;
}

function checkDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 0 || digits > 6)
    throw new RangeError(`无效的小数位数：${digits}`);
}

/**
 * Formats a share (0–1) as a percentage: `formatPercent(0.1358)` → `"13.6%"`. Given the parts
 * (`{numerator: 126, denominator: 928}`, e.g. a metric row) it rounds exactly on integers. Rounds half
 * away from zero. Null, undefined, NaN, infinity and a zero or null denominator give `"—"`.
 *
 * @param value - the share (0.1358 for 13.58%), or its numerator and denominator
 * @param options - decimals and suffix (default {})
 * @param options.digits - decimal places, 0–6 (default 1)
 * @param options.suffix - append `%` (default true)
 * @returns the percentage as text, or `"—"`
 * @example
 * ```ts
 * const [province] = await metricByDivision(db, "coverage", {level: "省"});
 * formatPercent(province?.value); // → "76.6%"
 * formatPercent({numerator: 3567, denominator: 4655}, {digits: 2}); // → "76.63%"
 * formatPercent(0.1358, {suffix: false}); // → "13.6"
 * formatPercent({numerator: 0, denominator: 0}); // → "—"
 * ```
 */
export function formatPercent(
  value: number | {numerator: number | bigint; denominator: number | bigint | null} | null | undefined,
  {digits = 1, suffix = true}: FormatPercentOptions = {}
): string {
  checkDigits(digits);
  if (value == null) return "—";
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "—";
    // Strip float noise (0.1 + 0.2) before rounding: 15 significant digits are exact for a ratio.
    const percent = Number((value * 100).toPrecision(15));
    const [int = "0", frac = ""] = Math.abs(percent)
      .toFixed(digits + 3)
      .split(".");
    const scaled = BigInt(int + frac);
    const rounded = divRound(scaled, 1000n);
    text = placeDigits(percent < 0 ? -rounded : rounded, digits);
  } else {
    if (value.denominator === null || BigInt(value.denominator) === 0n) return "—";
    const n = BigInt(value.numerator) * 100n * 10n ** BigInt(digits);
    text = placeDigits(divRound(n, BigInt(value.denominator)), digits);
  }
  return suffix ? `${text}%` : text;
}

/**
 * Formats a metric's value by the metric's unit: `元` (a value in fen) as money with
 * {@link formatMoney} (automatic unit), `%` (a share 0–1) as a percentage with {@link formatPercent},
 * and `家` / `件` as a count with the unit. Null, undefined and NaN give `"—"`.
 *
 * @param metric - the metric (see {@link metricById}), or anything with its `unit`
 * @param value - the value, as {@link metricByDivision} gives it
 * @param options - decimals (default {})
 * @param options.digits - decimal places of money and percentages; counts have none (default 2 for money, 1 for percentages)
 * @returns the value as text, or `"—"`
 * @example
 * ```ts
 * const coverage = metricById("coverage");
 * const [province] = await metricByDivision(db, coverage, {level: "省"});
 * formatMetricValue(coverage, province?.value); // → "76.6%"
 * formatMetricValue(coverage, province?.value, {digits: 2}); // → "76.63%"
 * formatMetricValue(metricById("recovery_total"), 1699397782); // → "1,699.40万元"
 * formatMetricValue(metricById("findings"), 1800); // → "1,800件"
 * ```
 */
export function formatMetricValue(
  metric: {unit: "元" | "%" | "家" | "件"},
  value: number | null | undefined,
  options: {digits?: number} = {}
): string {
  if (value == null || Number.isNaN(value)) return "—";
  switch (metric.unit) {
    case "元":
      return formatMoney(Math.round(value), options.digits === undefined ? {} : {digits: options.digits});
    case "%":
      return formatPercent(value, options);
    default:
      return formatCount(value, metric.unit);
  }
}
