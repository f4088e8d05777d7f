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
 * (`{numerator: 126, denominator: 928}`) it rounds exactly on integers. Null, undefined, NaN and a
 * zero denominator give `"—"`.
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

/** How a metric's value reads: `元` (fen) as money, `%` as a percentage, counts with their unit. */
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
