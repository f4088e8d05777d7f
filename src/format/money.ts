/**
 * Money formatting in Chinese units. Amounts are integer fen (分): 1 元 = 100 分.
 * All arithmetic is done on BigInt, so no float rounding ever reaches a shown figure.
 */
import {divRound, placeDigits} from "./decimal.js";

/** A display unit for money. `"auto"` picks 元 below 1万元, 万元 below 1亿元, else 亿元. */
export type MoneyUnit = "auto" | "元" | "万元" | "亿元";

export interface FormatMoneyOptions {
  /** Display unit. Default `"auto"`. */
  unit?: MoneyUnit;
  /** Decimal places. Default 2 (cents for 元; 0.01万元 = 100元 for 万元). */
  digits?: number;
  /** Append the unit after the number. Default `true`. */
  suffix?: boolean;
}

const FEN_PER_UNIT: Record<Exclude<MoneyUnit, "auto">, bigint> = {
  元: 100n,
  万元: 1_000_000n,
  亿元: 10_000_000_000n
};

/**
 * Converts a number of fen to BigInt, refusing anything that is not a whole number of fen
 * (a fraction of a fen means a float was summed somewhere upstream: a bug to surface, not round).
 */
export function toFen(value: number | bigint): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isFinite(value)) throw new RangeError(`金额不是有限数值: ${value}`);
  if (!Number.isInteger(value)) throw new RangeError(`金额必须是整数分: ${value}`);
  if (!Number.isSafeInteger(value)) throw new RangeError(`金额超出安全整数范围: ${value}`);
  return BigInt(value);
}

/**
 * Picks the unit `"auto"` resolves to for an amount of fen: 元 below 1万元, 万元 below 1亿元, else 亿元
 * (by absolute value). Use it to put one unit on a column or an axis, chosen from its largest amount.
 *
 * @param fen - the amount, in whole fen (a fraction of a fen throws)
 * @returns `"元"`, `"万元"` or `"亿元"`
 * @example
 * ```ts
 * const [province] = await metricByDivision(db, "recovery_total", {level: "省"});
 * autoMoneyUnit(province?.numerator ?? 0); // → "万元"
 * autoMoneyUnit(999_999); // → "元"
 * autoMoneyUnit(10_000_000_000); // → "亿元"
 * ```
 */
export function autoMoneyUnit(fen: number | bigint): Exclude<MoneyUnit, "auto"> {
  const abs = toFen(fen) < 0n ? -toFen(fen) : toFen(fen);
  if (abs >= FEN_PER_UNIT["亿元"]) return "亿元";
  if (abs >= FEN_PER_UNIT["万元"]) return "万元";
  return "元";
}

/**
 * Formats an amount of fen in 元, 万元 or 亿元, with thousands separators, e.g. `formatMoney(3851322)` →
 * `"3.85万元"`, `formatMoney(3851322, {unit: "元"})` → `"38,513.22元"`. Rounds half away from zero,
 * exactly (BigInt arithmetic). Null and undefined give `"—"`.
 *
 * @param fen - the amount, in whole fen (a fraction of a fen throws: a float was summed upstream)
 * @param options - unit, decimals and suffix (default {})
 * @param options.unit - `"元"`, `"万元"`, `"亿元"`, or `"auto"` to pick by size as {@link autoMoneyUnit} does (default "auto")
 * @param options.digits - decimal places, 0–6 (default 2)
 * @param options.suffix - append the unit after the number (default true)
 * @returns the amount as text, or `"—"`
 * @example
 * ```ts
 * const [province] = await metricByDivision(db, "recovery_total", {level: "省"});
 * formatMoney(province?.numerator); // → "1,699.40万元"
 * formatMoney(province?.numerator, {unit: "元"}); // → "16,993,977.82元"
 * formatMoney(province?.numerator, {unit: "亿元", digits: 4}); // → "0.1699亿元"
 * formatMoney(null); // → "—"
 * ```
 * @example
 * ```ts
 * // A table column in 万元 without the unit (the unit goes in the header), whole numbers only.
 * formatMoney(656855947, {unit: "万元", digits: 0, suffix: false}); // → "657"
 * ```
 */
export function formatMoney(
  fen: number | bigint | null | undefined,
  options: FormatMoneyOptions = {}
): string {
  if (fen == null) return "—";
  const {unit = "auto", digits = 2, suffix = true} = options;
  if (!Number.isInteger(digits) || digits < 0 || digits > 6)
    throw new RangeError(`invalid digits: ${digits}`);
  const value = toFen(fen);
  const resolved = unit === "auto" ? autoMoneyUnit(value) : unit;
  const scale = 10n ** BigInt(digits);
  const text = placeDigits(divRound(value * scale, FEN_PER_UNIT[resolved]), digits, {group: true});
  return suffix ? `${text}${resolved}` : text;
}

/**
 * Fen to yuan as a number, for chart scales only (never for sums: add fen, then convert).
 *
 * @param fen - the amount, in whole fen (a fraction of a fen throws)
 * @returns the amount in yuan, a float
 * @example
 * ```ts
 * const rows = await metricByDivision(db, "recovery_total", {level: "市"});
 * rows.map((r) => fenToYuan(r.numerator))[0]; // → 6568559.47
 * fenToYuan(3851322); // → 38513.22
 * ```
 */
export function fenToYuan(fen: number | bigint): number {
  return Number(toFen(fen)) / 100;
}
