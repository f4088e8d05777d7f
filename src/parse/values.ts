/**
 * The Chinese-aware value normalizer: turns cells as districts type them into typed values, or a
 * reason (Chinese and English) why not. Text is NFKC-normalized first, so full-width digits and
 * punctuation (`１２，９４６．９２`) read like half-width ones. Nothing here guesses: a blank is missing,
 * never zero; a vague amount (约/余/多) is refused; an unknown name is refused, never fuzzy-matched.
 */

/** A normalized value, or why the raw value was refused. */
export type Parsed<T> = {ok: true; value: T} | {ok: false; reason: string; reason_en: string};

/** A cell as read from a CSV or XLSX file. */
export type Cell = string | number | boolean | Date | null | undefined | {error: string};

export type MoneyUnitName = "元" | "万元" | "亿元";
export const FEN_PER: Record<MoneyUnitName, bigint> = {元: 100n, 万元: 1_000_000n, 亿元: 10_000_000_000n};

export function ok<T>(value: T): Parsed<T> {
  return {ok: true, value};
}
export function fail<T = never>(reason: string, reason_en: string): Parsed<T> {
  return {ok: false, reason, reason_en};
}

/** NFKC, trimmed, inner runs of white space folded to one space. */
export function normalizeText(raw: string): string {
  // Printable ASCII without spaces is already normal; district files repeat the same texts, so cache the rest.
  if (PLAIN_ASCII.test(raw)) return raw;
  let text = normalized.get(raw);
  if (text === undefined) {
    text = raw.normalize("NFKC").replace(/\s+/g, " ").trim();
    if (normalized.size >= 50_000) normalized.clear();
    normalized.set(raw, text);
  }
  return text;
}
const PLAIN_ASCII = /^[\x21-\x7e]*$/;
const normalized = new Map<string, string>();

/** The texts that mean "no value" (after {@link normalizeText}). */
export const MISSING = new Set([
  "",
  "-",
  "--",
  "—",
  "——",
  "–",
  "/",
  "无",
  "空",
  "null",
  "NULL",
  "N/A",
  "n/a",
  "#N/A"
]);

/** Whether a cell means "no value": empty, or a dash, 无, / and the like. */
export function isMissing(cell: Cell): boolean {
  if (cell === null || cell === undefined) return true;
  if (typeof cell === "string") return MISSING.has(normalizeText(cell));
  return false;
}

/** An Excel error or a formula with no cached value, as a refusal. */
function cellError(cell: Cell): Parsed<never> | undefined {
  if (cell !== null && typeof cell === "object" && !(cell instanceof Date)) {
    return fail(`单元格错误：${cell.error}`, `cell error: ${cell.error}`);
  }
  return undefined;
}

/** Text of a cell for error messages and text columns. */
export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return "";
  if (cell instanceof Date)
    return Number.isNaN(cell.getTime()) ? "Invalid Date" : cell.toISOString().slice(0, 10);
  if (typeof cell === "object") return cell.error;
  return String(cell);
}

/** A non-empty text value. */
export function parseText(cell: Cell): Parsed<string> {
  const error = cellError(cell);
  if (error) return error;
  if (isMissing(cell)) return fail("不能为空", "must not be blank");
  return ok(normalizeText(cellText(cell)));
}

/** Words that make an amount or count vague (约, 余, 左右 …). */
export const VAGUE = /[约余多近超逾]|左右|以上|以下|上下|来/;

/** Decimal text → scaled BigInt, or undefined if not a plain decimal. `1,234.5` (grouped by 3) is accepted. */
function decimalToScaled(text: string, factor: bigint): {value: bigint; exact: boolean} | undefined {
  let body = text;
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(body)) body = body.replaceAll(",", "");
  const match = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(body);
  if (!match) return undefined;
  const [, sign = "", whole = "0", fraction = ""] = match;
  const scaled = BigInt(whole + fraction) * factor;
  const divisor = 10n ** BigInt(fraction.length);
  const value = scaled / divisor;
  return {value: sign === "-" ? -value : value, exact: scaled % divisor === 0n};
}

/** `1.5e-7`, `1E+17`: a decimal in scientific notation (mantissa and power of ten). */
const EXPONENT = /^([+-]?)(\d+)(?:\.(\d*))?e([+-]?\d+)$/i;

/**
 * A number in scientific notation written out as a plain decimal, digit for digit (no float
 * arithmetic): `1.5e-7` → `0.00000015`, `1e+21` → `1000000000000000000000`. Other text is returned as is.
 */
export function expandExponent(text: string): string {
  const match = EXPONENT.exec(text);
  if (!match) return text;
  const [, sign = "", whole = "", fraction = "", power = "0"] = match;
  // Beyond any double (and any amount): left as is, so it is refused as not a number.
  if (Math.abs(Number(power)) > 400) return text;
  const digits = whole + fraction;
  const point = whole.length + Number(power);
  const padded = point <= 0 ? "0".repeat(1 - point) + digits : digits.padEnd(point, "0");
  const at = point <= 0 ? 1 : point;
  const body = `${padded.slice(0, at)}.${padded.slice(at)}`.replace(/\.?0*$/, "").replace(/^0+(?=\d)/, "");
  return sign === "-" && body !== "0" ? `-${body}` : body;
}

/** A JS number's shortest decimal text, never in scientific notation (`1e-7` → `0.0000001`). */
function numberText(value: number): string {
  return Number.isFinite(value) ? expandExponent(String(value)) : String(value);
}

/**
 * An amount of money → integer fen. Accepts `12,946.92`, `12,946.92元`, `1.8万元`, `182.69万`, `0.35亿`,
 * full-width forms, and numbers from spreadsheets. `unit` is the column's unit (from a header such as
 * `金额（万元）`) for values that carry none. Refuses blanks, vague amounts and sub-fen precision.
 */
export function parseAmountFen(cell: Cell, unit: MoneyUnitName = "元"): Parsed<bigint> {
  const error = cellError(cell);
  if (error) return error;
  if (isMissing(cell)) return fail("金额为空", "amount is blank");
  if (typeof cell === "boolean" || cell instanceof Date)
    return fail(`不是金额：${cellText(cell)}`, "not an amount");
  const raw = typeof cell === "number" ? numberText(cell) : cellText(cell);
  const text = normalizeText(raw)
    .replace(/\s/g, "")
    .replace(/^[¥￥]/, "")
    .replace(/^人民币/, "");
  if (VAGUE.test(text)) return fail(`金额不精确（含"约/余/多/近"等）：${raw}`, `vague amount: ${raw}`);
  let resolved = unit;
  let body = text;
  for (const [suffix, u] of [
    ["亿元", "亿元"],
    ["万元", "万元"],
    ["亿", "亿元"],
    ["万", "万元"],
    ["元", "元"]
  ] as const) {
    if (body.endsWith(suffix)) {
      resolved = u;
      body = body.slice(0, -suffix.length);
      break;
    }
  }
  if (typeof cell !== "number" && EXPONENT.test(body))
    return fail(
      `金额是科学计数法：${raw}（Excel 以科学计数法显示或导出时可能已丢掉后面的位数），请填写完整的数字`,
      `amount in scientific notation (digits may be lost): ${raw}`
    );
  const scaled = decimalToScaled(body, FEN_PER[resolved]);
  if (!scaled) return fail(`不是有效金额：${raw}`, `not a valid amount: ${raw}`);
  if (!scaled.exact) return fail(`金额精度超过分：${raw}`, `amount finer than a fen: ${raw}`);
  return ok(scaled.value);
}

/** The unit word a count may end with (`1722条`). */
export const COUNT_UNIT = /(家次|人次|家|条|份|个|次|人|件|起|张)$/;

/** A whole count (家, 条, 份 ...): `1,722`, `１７２２`, `1722条`. Refuses negatives, fractions and blanks. */
export function parseCount(cell: Cell): Parsed<number> {
  const error = cellError(cell);
  if (error) return error;
  if (isMissing(cell)) return fail("数量为空", "count is blank");
  if (typeof cell === "number") {
    if (Number.isInteger(cell) && cell >= 0 && Number.isSafeInteger(cell)) return ok(cell);
    return fail(`数量应为非负整数：${cell}`, `count must be a non-negative integer: ${cell}`);
  }
  const raw = cellText(cell);
  const text = normalizeText(raw).replace(/\s/g, "").replace(COUNT_UNIT, "");
  if (VAGUE.test(text)) return fail(`数量不精确：${raw}`, `vague count: ${raw}`);
  const scaled = decimalToScaled(text, 1n);
  if (!scaled || !scaled.exact || text.includes("."))
    return fail(`数量应为整数：${raw}`, `count must be a whole number: ${raw}`);
  if (scaled.value < 0n) return fail(`数量不能为负：${raw}`, `count must not be negative: ${raw}`);
  if (scaled.value > BigInt(Number.MAX_SAFE_INTEGER))
    return fail(`数量过大：${raw}`, `count too large: ${raw}`);
  return ok(Number(scaled.value));
}

/** A percentage: `80%`, `80`, `0.8` (read as 0.8%, not 80%), `５％`. Returns percent points (80 for 80%). */
export function parsePercent(cell: Cell): Parsed<number> {
  const error = cellError(cell);
  if (error) return error;
  if (isMissing(cell)) return fail("百分比为空", "percentage is blank");
  const raw = cellText(cell);
  const text = normalizeText(raw).replace(/\s/g, "").replace(/%$/, "");
  const value = Number(text);
  if (text === "" || !Number.isFinite(value))
    return fail(`不是有效百分比：${raw}`, `not a valid percentage: ${raw}`);
  if (value < 0 || value > 100)
    return fail(`百分比应在 0 到 100 之间：${raw}`, `percentage out of 0..100: ${raw}`);
  return ok(value);
}

/** The spellings of yes and of no (lower case, after {@link normalizeText}). */
export const YES = new Set(["是", "有", "y", "yes", "true", "1", "√", "✓", "发现", "已发现"]);
export const NO = new Set(["否", "无", "n", "no", "false", "0", "×", "✗", "未发现", "没有"]);

/** Yes/no: 是/否, 有/无, Y/N, 1/0, √/×. Here 无 means "no", not missing. */
export function parseBool(cell: Cell): Parsed<boolean> {
  const error = cellError(cell);
  if (error) return error;
  if (typeof cell === "boolean") return ok(cell);
  if (typeof cell === "number" && (cell === 0 || cell === 1)) return ok(cell === 1);
  const text = normalizeText(cellText(cell)).toLowerCase();
  if (YES.has(text)) return ok(true);
  if (NO.has(text)) return ok(false);
  if (text === "" || isMissing(cell)) return fail("是/否为空", "yes/no is blank");
  return fail(`应为"是"或"否"：${cellText(cell)}`, `expected yes or no: ${cellText(cell)}`);
}

/**
 * A checked calendar date. Years 1800–2200 are read (so Excel's zero dates 1899-12-30/31 reach the
 * ingest's earliest-date rule, which says what they are); others are refused here.
 */
function isoDate(year: number, month: number, day: number): Parsed<string> {
  if (year < 1800 || year > 2200)
    return fail(
      `日期的年份超出范围：${year}年${month}月${day}日`,
      `year out of range: ${year}-${month}-${day}`
    );
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return fail(`不存在的日期：${year}年${month}月${day}日`, `impossible date: ${year}-${month}-${day}`);
  }
  return ok(
    `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`
  );
}

/** Excel serial day → ISO date. 1900 system: serial 1 = 1900-01-01, with Excel's phantom 1900-02-29 (serial 60). */
export function excelSerialToIso(serial: number, date1904 = false): Parsed<string> {
  if (!Number.isFinite(serial) || serial < 1 || serial > 2_958_465)
    return fail(`不是有效的 Excel 日期序号：${serial}`, `not an Excel date serial: ${serial}`);
  const day = Math.floor(serial);
  if (!date1904 && day === 60)
    return fail(
      "Excel 日期序号 60 是不存在的 1900年2月29日",
      "Excel serial 60 is the nonexistent 1900-02-29"
    );
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, day > 60 ? 30 : 31);
  const date = new Date(epoch + day * 86_400_000);
  return ok(date.toISOString().slice(0, 10));
}

/**
 * A calendar date → `YYYY-MM-DD`. Accepts `2024年5月10日`, `2024/5/10`, `2024-05-10`, `2024.5.10`,
 * `20240510`, Excel serial numbers (in the workbook's date system) and Date cells (their UTC day).
 * Impossible dates such as `2024年2月30日` are refused.
 */
export function parseDate(cell: Cell, {date1904 = false}: {date1904?: boolean} = {}): Parsed<string> {
  const error = cellError(cell);
  if (error) return error;
  if (isMissing(cell)) return fail("日期为空", "date is blank");
  if (cell instanceof Date) {
    if (Number.isNaN(cell.getTime())) return fail("无效日期", "invalid date");
    return isoDate(cell.getUTCFullYear(), cell.getUTCMonth() + 1, cell.getUTCDate());
  }
  if (typeof cell === "number") return excelSerialToIso(cell, date1904);
  const raw = cellText(cell);
  const text = normalizeText(raw).replace(/\s/g, "");
  let match =
    /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/.exec(text) ??
    /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:T.*)?$/.exec(text);
  match ??= /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (match) return isoDate(Number(match[1]), Number(match[2]), Number(match[3]));
  if (/^\d{5}(\.\d+)?$/.test(text)) return excelSerialToIso(Number(text), date1904);
  return fail(`无法识别的日期：${raw}`, `unrecognized date: ${raw}`);
}

/** A header as people type it → its name and the money unit in its suffix, if any: `金额（万元）` → {name: "金额", unit: "万元"}. */
export function normalizeHeader(raw: string): {name: string; unit: MoneyUnitName | null} {
  const text = normalizeText(raw)
    .replace(/\s/g, "")
    .replace(/[【[]/g, "(")
    .replace(/[】\]]/g, ")");
  const match = /^(.*?)[(:：]?(?:单位[:：]?)?(元|万元|亿元)\)?$/.exec(text);
  if (match && match[1] && match[1] !== "" && /[(:：]|\)$/.test(text.slice(match[1].length))) {
    return {name: match[1].replace(/[(:：]$/, ""), unit: match[2] as MoneyUnitName};
  }
  return {name: text.replace(/\(.*?\)$/, ""), unit: null};
}
