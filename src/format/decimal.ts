/** Exact decimal arithmetic on BigInt, shared by the money and percentage formatters. */

/** Divides with rounding half away from zero. */
export function divRound(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an * 2n + ad) / (ad * 2n);
  return negative ? -q : q;
}

/**
 * Writes an integer scaled by 10^digits as a decimal: `placeDigits(1358n, 2)` → `"13.58"`;
 * with `group`, thousands separators in the integer part (`"38,513.22"`).
 */
export function placeDigits(scaled: bigint, digits: number, {group = false}: {group?: boolean} = {}): string {
  const negative = scaled < 0n;
  const abs = (negative ? -scaled : scaled).toString().padStart(digits + 1, "0");
  const int = abs.slice(0, abs.length - digits);
  const grouped = group ? int.replace(/\B(?=(\d{3})+(?!\d))/g, ",") : int;
  return `${negative ? "-" : ""}${grouped}${digits > 0 ? `.${abs.slice(abs.length - digits)}` : ""}`;
}
