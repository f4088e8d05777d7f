/**
 * The value normalizer of ./values.ts as SQL over whole columns: DuckDB macros that read a column of
 * raw cell texts (VARCHAR, NULL for an empty cell, as a CSV reader gives them) and give, per cell, the
 * same typed value or the same refusal (Chinese and English) as the JS functions, in one pass.
 *
 * Each macro answers a STRUCT `{ok, v, reason, reason_en}`:
 * - `ok = true`: `v` is the value (HUGEINT fen, BIGINT count, DOUBLE percent, BOOLEAN, DATE, VARCHAR);
 * - `ok = false`: `reason` / `reason_en` are the JS refusal, word for word;
 * - `ok IS NULL`: the cell is outside what the SQL decides, and the JS function is the answer. The
 *   ingest then parses each *distinct* such text once in JS ({@link fallbackCells}).
 *
 * What SQL decides: texts made only of characters whose NFKC form is known here (ASCII, the CJK
 * unified ideographs, the full-width forms and a few CJK punctuation marks, see {@link FAST_CLASS}).
 * DuckDB has no NFKC function; for these characters NFKC is a per-character table (a test checks every
 * one against `String.prototype.normalize`), so `translate()` does it. Anything else (compatibility
 * ideographs, ligatures, combining marks, other white space such as U+00A0) goes to JS, so the SQL
 * never has to be right about Unicode beyond that table. Numbers too long for HUGEINT, percentages in
 * the spellings only JS's `Number()` reads (`0x10`), and serials formatted as JS formats a number also
 * go to JS. Tests (test/unit/values-sql.test.ts) hold the SQL to the JS on generated cells.
 */
import {COUNT_UNIT, MISSING, NO, VAGUE, YES, type MoneyUnitName} from "./values.js";

/** Code points whose NFKC form is themselves, or the character {@link translate} maps them to. */
export const FAST_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0a],
  [0x0d, 0x0d],
  [0x20, 0x7e],
  [0xa5, 0xa5], // ¥
  [0xb7, 0xb7], // ·
  [0xd7, 0xd7], // ×
  [0x2013, 0x2014], // – —
  [0x2018, 0x2019], // ‘ ’
  [0x201c, 0x201d], // “ ”
  [0x221a, 0x221a], // √
  [0x2713, 0x2713], // ✓
  [0x2717, 0x2717], // ✗
  [0x3000, 0x3003], // ideographic space (→ space), 、。〃
  [0x3008, 0x3011], // 〈〉《》「」『』【】
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xff01, 0xff5e], // full-width ASCII (→ ASCII)
  [0xffe5, 0xffe5] // ￥ (→ ¥)
];

/** What NFKC makes of a code point in {@link FAST_RANGES}. */
export function fastNfkc(codePoint: number): string {
  if (codePoint === 0x3000) return " ";
  if (codePoint >= 0xff01 && codePoint <= 0xff5e) return String.fromCodePoint(codePoint - 0xfee0);
  if (codePoint === 0xffe5) return "\u00a5";
  return String.fromCodePoint(codePoint);
}

function hex(codePoint: number): string {
  return `\\x{${codePoint.toString(16)}}`;
}

/** The RE2 character class of {@link FAST_RANGES}. */
export const FAST_CLASS = `[${FAST_RANGES.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join("")}]`;

const FULL_WIDTH = Array.from({length: 0xff5e - 0xff01 + 1}, (_, i) => 0xff01 + i);
const TRANSLATE_FROM = `${String.fromCodePoint(...FULL_WIDTH)}\u3000\uffe5`;
const TRANSLATE_TO = `${FULL_WIDTH.map(fastNfkc).join("")} \u00a5`;

/** JS's white space (`\s`, `String.prototype.trim`), as a RE2 character class. */
export const JS_SPACE_CLASS =
  "[\\t\\n\\x{0b}\\x{0c}\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}]";

/** A SQL string literal of a constant (the macros and the schema's SQL are built from constants only, never from data). */
export function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The JS normalizer's word lists and patterns (./values.ts), as SQL. */
const MISSING_SQL = [...MISSING].map(sqlText).join(", ");
const VAGUE_RE = sqlText(VAGUE.source);
const COUNT_UNIT_RE = sqlText(COUNT_UNIT.source);
const YES_SQL = [...YES].map(sqlText).join(", ");
const NO_SQL = [...NO].map(sqlText).join(", ");

/** Powers of ten per money unit: fen per unit = 10^scale. */
/**
 * A plain ASCII id as a RE2 pattern (letters, digits, `_ . -`, at least one digit): NFKC leaves it as it
 * is, it has no white space to trim, and no missing-value marker (null, N/A, - …) has a digit.
 */
export const PLAIN_ID = "[0-9A-Za-z_.-]*[0-9][0-9A-Za-z_.-]*";

export const UNIT_SCALE: Record<MoneyUnitName, number> = {元: 2, 万元: 6, 亿元: 10};

/** A result STRUCT of each value type, for `ok`, `fail` and "ask JS". */
function results(suffix: string, type: string): string {
  return `
CREATE OR REPLACE TEMP MACRO fw_ok_${suffix}(v) AS {'ok': true, 'v': CAST(v AS ${type}), 'reason': CAST(NULL AS VARCHAR), 'reason_en': CAST(NULL AS VARCHAR)};
CREATE OR REPLACE TEMP MACRO fw_fail_${suffix}(r, e) AS {'ok': false, 'v': CAST(NULL AS ${type}), 'reason': CAST(r AS VARCHAR), 'reason_en': CAST(e AS VARCHAR)};
CREATE OR REPLACE TEMP MACRO fw_js_${suffix}() AS {'ok': CAST(NULL AS BOOLEAN), 'v': CAST(NULL AS ${type}), 'reason': CAST(NULL AS VARCHAR), 'reason_en': CAST(NULL AS VARCHAR)};`;
}

/**
 * `body` with `name` bound to `value`, computed once per row (DuckDB expands macros textually, so a
 * value passed on and used several times would otherwise be computed, and bound, that many times).
 */
export function letSql(value: string, name: string, body: string): string {
  return `list_transform([${value}], lambda ${name}: ${body})[1]`;
}

/**
 * The macros, to run once per connection (`conn.run(VALUE_MACROS)`). Arguments are raw cell texts
 * (`x`, NULL for an empty cell); `scale` is the column's money unit as a power of ten ({@link UNIT_SCALE}).
 */
export const VALUE_MACROS = `
${results("h", "HUGEINT")}
${results("i", "BIGINT")}
${results("d", "DOUBLE")}
${results("b", "BOOLEAN")}
${results("t", "VARCHAR")}
${results("dt", "DATE")}
-- Whether SQL decides this text (every character in the NFKC table).
CREATE OR REPLACE TEMP MACRO fw_fast(x) AS regexp_full_match(x, ${sqlText(FAST_CLASS + "*")});
-- normalizeText: NFKC (by the table), runs of white space to one space, trimmed.
-- (translate() is slow, so only texts with a full-width character or white space to fold go through it.)
CREATE OR REPLACE TEMP MACRO fw_norm(x) AS CASE
  WHEN regexp_matches(x, '[\\x{3000}\\x{ff01}-\\x{ff5e}\\x{ffe5}\\t\\n\\r]|  |^ | $')
  THEN trim(regexp_replace(translate(x, ${sqlText(TRANSLATE_FROM)}, ${sqlText(TRANSLATE_TO)}), '[\\t\\n\\r ]+', ' ', 'g'))
  ELSE x END;
-- isMissing, of a normalized text.
CREATE OR REPLACE TEMP MACRO fw_is_missing(n) AS n IN (${MISSING_SQL});
-- isMissing of a raw cell as far as SQL decides it (a text outside the NFKC table counts as there).
CREATE OR REPLACE TEMP MACRO fw_cell_missing(x) AS (x IS NULL OR (fw_fast(x) AND fw_is_missing(fw_norm(x))));
-- The normalized text with every white space removed (after fw_norm only spaces are left).
CREATE OR REPLACE TEMP MACRO fw_squash(n) AS replace(n, ' ', '');
-- 1,234.5 (grouped by three) without its commas; other texts as they are.
CREATE OR REPLACE TEMP MACRO fw_ungroup(b) AS
  CASE WHEN regexp_full_match(b, '[+-]?\\d{1,3}(,\\d{3})+(\\.\\d+)?') THEN replace(b, ',', '') ELSE b END;
CREATE OR REPLACE TEMP MACRO fw_decimal(b) AS regexp_extract(b, '^([+-]?)(\\d+)(?:\\.(\\d+))?$', ['sign', 'whole', 'frac']);
-- The cases every parser starts with: no cell, a text SQL does not decide, a missing marker.
CREATE OR REPLACE TEMP MACRO fw_parse(x, blank, ask_js, read) AS CASE
  WHEN x IS NULL THEN blank WHEN NOT fw_fast(x) THEN ask_js ELSE read END;

-- parseText.
CREATE OR REPLACE TEMP MACRO fw_text(x) AS fw_parse(x, fw_fail_t('不能为空', 'must not be blank'), fw_js_t(),
  ${letSql("fw_norm(x)", "fw_n", "CASE WHEN fw_is_missing(fw_n) THEN fw_fail_t('不能为空', 'must not be blank') ELSE fw_ok_t(fw_n) END")});

-- parseAmountFen.
CREATE OR REPLACE TEMP MACRO fw_amount_digits(x, d, s) AS ${letSql(
  "ltrim(d.whole || rpad(left(d.frac, s), s, '0'), '0')",
  "fw_g",
  `CASE
  WHEN d.whole = '' THEN fw_fail_h('不是有效金额：' || x, 'not a valid amount: ' || x)
  WHEN length(fw_g) > 37 THEN fw_js_h()
  WHEN NOT regexp_full_match(substr(d.frac, s + 1), '0*') THEN fw_fail_h('金额精度超过分：' || x, 'amount finer than a fen: ' || x)
  WHEN d.sign = '-' THEN fw_ok_h(-CAST(CASE WHEN fw_g = '' THEN '0' ELSE fw_g END AS HUGEINT))
  ELSE fw_ok_h(CAST(CASE WHEN fw_g = '' THEN '0' ELSE fw_g END AS HUGEINT)) END`
)};
CREATE OR REPLACE TEMP MACRO fw_amount_body(x, p, scale) AS CASE
  WHEN regexp_full_match(p.b, '[+-]?\\d+(?:\\.\\d*)?[eE][+-]?\\d+') THEN fw_fail_h(
    '金额是科学计数法：' || x || '（Excel 以科学计数法显示或导出时可能已丢掉后面的位数），请填写完整的数字',
    'amount in scientific notation (digits may be lost): ' || x)
  ELSE ${letSql(
    "fw_decimal(fw_ungroup(p.b))",
    "fw_d",
    "fw_amount_digits(x, fw_d, CASE WHEN p.u IN ('亿元', '亿') THEN 10 WHEN p.u IN ('万元', '万') THEN 6 WHEN p.u = '元' THEN 2 ELSE scale END)"
  )} END;
CREATE OR REPLACE TEMP MACRO fw_amount(x, scale) AS fw_parse(x, fw_fail_h('金额为空', 'amount is blank'), fw_js_h(),
  ${letSql(
    "fw_norm(x)",
    "fw_n",
    `CASE WHEN fw_is_missing(fw_n) THEN fw_fail_h('金额为空', 'amount is blank')
    ELSE ${letSql(
      "regexp_replace(regexp_replace(fw_squash(fw_n), '^\\x{a5}', ''), '^人民币', '')",
      "fw_t",
      `CASE WHEN regexp_matches(fw_t, ${VAGUE_RE}) THEN fw_fail_h('金额不精确（含"约/余/多/近"等）：' || x, 'vague amount: ' || x)
      ELSE ${letSql("regexp_extract(fw_t, '^(.*?)(亿元|万元|亿|万|元)?$', ['b', 'u'])", "fw_p", "fw_amount_body(x, fw_p, scale)")} END`
    )} END`
  )});

-- parseCount.
CREATE OR REPLACE TEMP MACRO fw_count_value(x, d) AS ${letSql(
  "ltrim(d.whole, '0')",
  "fw_w",
  `CASE
  WHEN d.whole = '' THEN fw_fail_i('数量应为整数：' || x, 'count must be a whole number: ' || x)
  WHEN d.sign = '-' AND fw_w <> '' THEN fw_fail_i('数量不能为负：' || x, 'count must not be negative: ' || x)
  WHEN length(fw_w) > 16 OR (length(fw_w) = 16 AND fw_w > '9007199254740991') THEN fw_fail_i('数量过大：' || x, 'count too large: ' || x)
  ELSE fw_ok_i(CAST(CASE WHEN fw_w = '' THEN '0' ELSE fw_w END AS BIGINT)) END`
)};
CREATE OR REPLACE TEMP MACRO fw_count(x) AS fw_parse(x, fw_fail_i('数量为空', 'count is blank'), fw_js_i(),
  ${letSql(
    "fw_norm(x)",
    "fw_n",
    `CASE WHEN fw_is_missing(fw_n) THEN fw_fail_i('数量为空', 'count is blank')
    ELSE ${letSql(
      `regexp_replace(fw_squash(fw_n), ${COUNT_UNIT_RE}, '')`,
      "fw_t",
      `CASE WHEN regexp_matches(fw_t, ${VAGUE_RE}) THEN fw_fail_i('数量不精确：' || x, 'vague count: ' || x)
      ELSE fw_count_value(x, fw_decimal(CASE WHEN regexp_full_match(fw_ungroup(fw_t), '[+-]?\\d+') THEN fw_ungroup(fw_t) ELSE '' END)) END`
    )} END`
  )});

-- parsePercent: JS's Number() on the squashed text without one trailing %.
CREATE OR REPLACE TEMP MACRO fw_percent_value(x, v) AS CASE
  WHEN v IS NULL OR isinf(v) OR isnan(v) THEN fw_fail_d('不是有效百分比：' || x, 'not a valid percentage: ' || x)
  WHEN v < 0 OR v > 100 THEN fw_fail_d('百分比应在 0 到 100 之间：' || x, 'percentage out of 0..100: ' || x)
  ELSE fw_ok_d(v) END;
CREATE OR REPLACE TEMP MACRO fw_percent(x) AS fw_parse(x, fw_fail_d('百分比为空', 'percentage is blank'), fw_js_d(),
  ${letSql(
    "fw_norm(x)",
    "fw_n",
    `CASE WHEN fw_is_missing(fw_n) THEN fw_fail_d('百分比为空', 'percentage is blank')
    ELSE ${letSql(
      "regexp_replace(fw_squash(fw_n), '%$', '')",
      "fw_t",
      `CASE
      WHEN regexp_full_match(fw_t, '[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?') THEN fw_percent_value(x, TRY_CAST(fw_t AS DOUBLE))
      WHEN regexp_full_match(fw_t, '(?i)[+-]?(infinity|0[xob].*)') THEN fw_js_d()
      ELSE fw_fail_d('不是有效百分比：' || x, 'not a valid percentage: ' || x) END`
    )} END`
  )});

-- parseBool.
CREATE OR REPLACE TEMP MACRO fw_bool(x) AS fw_parse(x, fw_fail_b('是/否为空', 'yes/no is blank'), fw_js_b(),
  ${letSql(
    "fw_norm(x)",
    "fw_n",
    `CASE
    WHEN lower(fw_n) IN (${YES_SQL}) THEN fw_ok_b(true)
    WHEN lower(fw_n) IN (${NO_SQL}) THEN fw_ok_b(false)
    WHEN fw_is_missing(fw_n) THEN fw_fail_b('是/否为空', 'yes/no is blank')
    ELSE fw_fail_b('应为"是"或"否"：' || x, 'expected yes or no: ' || x) END`
  )});

-- parseDate (isoDate and excelSerialToIso): y, m, d as written, read as numbers.
CREATE OR REPLACE TEMP MACRO fw_iso_date(y, m, d) AS CASE
  WHEN y < 1800 OR y > 2200 THEN fw_fail_dt(
    printf('日期的年份超出范围：%d年%d月%d日', y, m, d), printf('year out of range: %d-%d-%d', y, m, d))
  WHEN m < 1 OR m > 12 OR d < 1 THEN fw_fail_dt(
    printf('不存在的日期：%d年%d月%d日', y, m, d), printf('impossible date: %d-%d-%d', y, m, d))
  WHEN d > day(last_day(make_date(y, m, 1))) THEN fw_fail_dt(
    printf('不存在的日期：%d年%d月%d日', y, m, d), printf('impossible date: %d-%d-%d', y, m, d))
  ELSE fw_ok_dt(make_date(y, m, d)) END;
-- An Excel serial day from 10000 on (the SQL reads no smaller one: see fw_date_t).
CREATE OR REPLACE TEMP MACRO fw_serial_date(day, date1904) AS CASE
  WHEN date1904 THEN fw_ok_dt(DATE '1904-01-01' + day)
  ELSE fw_ok_dt(DATE '1899-12-30' + day) END;
CREATE OR REPLACE TEMP MACRO fw_date_t(x, t, date1904) AS ${letSql(
  `CASE
  WHEN regexp_full_match(t, '\\d{4}年\\d{1,2}月\\d{1,2}日?') THEN regexp_extract(t, '^(\\d{4})年(\\d{1,2})月(\\d{1,2})', ['y', 'm', 'd'])
  WHEN regexp_full_match(t, '\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}(?:T.*)?') THEN regexp_extract(t, '^(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})', ['y', 'm', 'd'])
  WHEN regexp_full_match(t, '\\d{8}') THEN regexp_extract(t, '^(\\d{4})(\\d{2})(\\d{2})$', ['y', 'm', 'd']) END`,
  "fw_ymd",
  `CASE
  WHEN fw_ymd IS NOT NULL THEN fw_iso_date(CAST(fw_ymd.y AS INTEGER), CAST(fw_ymd.m AS INTEGER), CAST(fw_ymd.d AS INTEGER))
  -- A five-digit serial (10000-99999 days); 00000-09999 written with leading zeros go to JS, whose message formats the number.
  WHEN regexp_full_match(t, '[1-9]\\d{4}(\\.\\d+)?') THEN fw_serial_date(CAST(left(t, 5) AS INTEGER), date1904)
  WHEN regexp_full_match(t, '\\d{5}(\\.\\d+)?') THEN fw_js_dt()
  ELSE fw_fail_dt('无法识别的日期：' || x, 'unrecognized date: ' || x) END`
)};
CREATE OR REPLACE TEMP MACRO fw_date(x, date1904) AS fw_parse(x, fw_fail_dt('日期为空', 'date is blank'), fw_js_dt(),
  ${letSql(
    "fw_norm(x)",
    "fw_n",
    `CASE WHEN fw_is_missing(fw_n) THEN fw_fail_dt('日期为空', 'date is blank')
    -- The common case first: YYYY-MM-DD, a real day in 1800-2200.
    WHEN regexp_full_match(fw_n, '\\d{4}-\\d{2}-\\d{2}') AND TRY_CAST(fw_n AS DATE) BETWEEN DATE '1800-01-01' AND DATE '2200-12-31'
      THEN fw_ok_dt(CAST(fw_n AS DATE))
    ELSE fw_date_t(x, fw_squash(fw_n), date1904) END`
  )});
`;
