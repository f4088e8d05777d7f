/**
 * Exact parsing of money as districts write it: `12,946.92`, `182.69万元`, `１２，９４６．９２`, `0.5亿元`.
 * The result is integer fen (BigInt); the decimal text is never turned into a float.
 * Vague amounts (约/余/多/近/左右) are refused with a reason, never taken as exact.
 */

export type AmountResult =
  {ok: true; fen: bigint; unit: "元" | "万元" | "亿元"} | {ok: false; reason: string};

const UNIT_FEN = {元: 100n, 万元: 1_000_000n, 亿元: 10_000_000_000n} as const;
const VAGUE = /[约余多近]|左右|以上|以下/;
const NUMBER = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses an amount. `defaultUnit` applies when the text has no unit of its own (e.g. a column
 * headed `金额（万元）`). Blank text is an error, never zero.
 */
export function parseAmount(text: string, defaultUnit: keyof typeof UNIT_FEN = "元"): AmountResult {
  const normalized = text.normalize("NFKC").replace(/\s+/g, "");
  if (normalized === "" || normalized === "-" || normalized === "—" || normalized === "无") {
    return {ok: false, reason: "金额为空"};
  }
  if (VAGUE.test(normalized)) return {ok: false, reason: `金额不精确（含"约/余/多/近"等）：${text}`};
  let unit: keyof typeof UNIT_FEN = defaultUnit;
  let body = normalized;
  for (const candidate of ["亿元", "万元", "元"] as const) {
    if (body.endsWith(candidate)) {
      unit = candidate;
      body = body.slice(0, -candidate.length);
      break;
    }
  }
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(body)) body = body.replaceAll(",", "");
  const match = NUMBER.exec(body);
  if (!match) return {ok: false, reason: `不是有效金额：${text}`};
  const [, sign, whole = "0", fraction = ""] = match;
  const factor = UNIT_FEN[unit];
  const fractionDigits = BigInt(fraction.length);
  const scaled = BigInt(whole + fraction) * factor;
  const divisor = 10n ** fractionDigits;
  if (scaled % divisor !== 0n) return {ok: false, reason: `金额精度超过分：${text}`};
  const fen = scaled / divisor;
  return {ok: true, fen: sign === "-" ? -fen : fen, unit};
}
