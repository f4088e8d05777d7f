/** Chinese-aware text helpers. */

const collator = new Intl.Collator("zh-CN");

/**
 * Compares two strings in Chinese (pinyin) order, for `Array.prototype.sort`: the order a reader
 * expects for division, institution and category names (Unicode order is not pinyin order).
 *
 * @param a - the first string
 * @param b - the second string
 * @returns negative if `a` comes first, positive if `b` does, 0 if they are equal
 * @example
 * ```ts
 * const cities = (await loadDivisions(db)).filter((d) => d.level === "市").map((d) => d.name);
 * cities.sort(compareZh); // → ["固原市", "石嘴山市", "吴忠市", "银川市", "中卫市"]
 * ["兴庆区", "西夏区", "金凤区"].sort(compareZh); // → ["金凤区", "西夏区", "兴庆区"]
 * ```
 */
export function compareZh(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * Formats a count with thousands separators and an optional unit: `formatCount(1722, "条")` → `"1,722条"`.
 * A fraction is rounded to a whole number. Null, undefined and NaN give `"—"`.
 *
 * @param value - the count
 * @param unit - text appended after the number, e.g. `"件"` or `" 家"` (default "")
 * @returns the count as text, or `"—"`
 * @example
 * ```ts
 * const [row] = await db.sql`SELECT count(*)::INTEGER AS n FROM inspections`;
 * formatCount(Number(row?.n), " 次"); // → "4,200 次"
 * formatCount(12345); // → "12,345"
 * formatCount(null, " 家"); // → "—"
 * ```
 */
export function formatCount(value: number | null | undefined, unit = ""): string {
  if (value == null || Number.isNaN(value)) return "—";
  return `${value.toLocaleString("en-US", {maximumFractionDigits: 0})}${unit}`;
}

/*
 * Display text. Names come from district files (divisions, institutions, campaigns, notes) and may hold
 * anything: markup, bidirectional controls, invisible characters, emoji, hundreds of characters. Pages
 * never parse them as HTML (text nodes, htl and Plot set text), and show them through displayText: bidi
 * controls and invisible characters are removed rather than isolated, so the characters read in the
 * order they are stored and two names that look alike are alike; a name with right-to-left letters is
 * wrapped in FSI … PDI (U+2068 … U+2069) so it cannot reorder the text around it; long text is cut with
 * an ellipsis, the full text going into a `title` (hover) by the helpers that show it.
 */

/** Bidirectional formatting characters: ALM, LRM, RLM, embeddings and overrides (LRE…RLO), isolates. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/**
 * Invisible characters: soft hyphen, Mongolian vowel separator, zero-width space and non-joiner, word
 * joiner, invisible operators, zero-width no-break space (BOM), and tag characters except inside an emoji
 * tag sequence (🏴 followed by tags, the flags of England, Scotland and Wales).
 */
const INVISIBLE =
  /[\u00AD\u180E\u200B\u200C\u2060-\u2064\uFEFF]|(?<!\u{1F3F4}[\u{E0020}-\u{E007E}]*)[\u{E0000}-\u{E007F}]/gu;
/** A zero-width joiner that does not join two emoji (👨‍👩‍👧 keeps its joiners). */
const STRAY_JOINER =
  /(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F])\u200D|\u200D(?!\p{Extended_Pictographic})/gu;
/** Control characters and line/paragraph separators, shown as a space. */
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;
/** Letters written right to left (Hebrew, Arabic, Syriac, Thaana, N'Ko … and their presentation forms). */
const RIGHT_TO_LEFT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;
/** Graphemes two columns wide: CJK, Hangul, full-width forms and emoji shown as pictures. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}]|\p{Emoji_Presentation}|\uFE0F/u;

/** The default width of {@link displayText}: 40 columns, 20 Chinese characters. */
export const DISPLAY_WIDTH = 40;

/** The grapheme clusters of `text` (what a reader counts as characters; 👨‍👩‍👧 is one). */
function graphemes(text: string): string[] {
  if (typeof Intl !== "undefined" && "Segmenter" in Intl)
    return Array.from(new Intl.Segmenter("zh", {granularity: "grapheme"}).segment(text), (s) => s.segment);
  return Array.from(text); // browsers before Chromium 87: code points
}

/** Columns a grapheme takes: 2 for Chinese characters and emoji, 0 for the isolates cleanText adds, 1 for the rest. */
const columns = (grapheme: string): number =>
  WIDE.test(grapheme) ? 2 : grapheme === "\u2068" || grapheme === "\u2069" ? 0 : 1;

/**
 * How wide `text` is, in columns, as {@link displayText} counts them: 2 for a Chinese character or an
 * emoji (a whole emoji sequence is one), 1 for other characters. `textWidth("银川市")` is 6.
 */
export function textWidth(text: string): number {
  let width = 0;
  for (const part of graphemes(text)) width += columns(part);
  return width;
}

/**
 * A value as plain text that is safe to show whole (in a `title`, a tooltip, an accessible name): bidi
 * controls and invisible characters removed (zero-width joiners only outside emoji), control characters
 * and runs of white space folded to one space, trimmed; text with right-to-left letters wrapped in
 * FSI … PDI so it cannot reorder what follows it. Null and undefined give `""`. Markup stays text:
 * it is shown, never parsed.
 *
 * @param value - a name or note from the data (anything; non-strings are turned into text)
 * @returns the cleaned text, whole
 * @example
 * ```ts
 * cleanText("\u202Eabc利通区"); // → "abc利通区"
 * cleanText("红\u200D寺\u200B堡\u2060区"); // → "红寺堡区"
 * cleanText("🏥原州区👨\u200D👩\u200D👧"); // → "🏥原州区👨\u200D👩\u200D👧"
 * cleanText("<img src=x onerror=alert(1)>"); // → "<img src=x onerror=alert(1)>"
 * cleanText("مستشفى 1"); // → "\u2068مستشفى 1\u2069"
 * ```
 */
export function cleanText(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value)
    .replace(BIDI_CONTROLS, "")
    .replace(INVISIBLE, "")
    .replace(STRAY_JOINER, "")
    .replace(CONTROLS, " ")
    .replace(/\s+/g, " ")
    .trim();
  return RIGHT_TO_LEFT.test(text) ? `\u2068${text}\u2069` : text;
}

/**
 * A value as pages show it in tables, chart labels, tooltips, headings and titles: {@link cleanText},
 * then cut to `max` columns (a Chinese character or an emoji counts 2, other characters 1) with `…` at
 * the end, never inside a character (emoji sequences stay whole). Show the full text, {@link cleanText},
 * on hover: `sortableTable` and `textSpan` put it in `title`, the charts in their tooltips. Null and
 * undefined give `"—"`.
 *
 * @param value - a name or note from the data
 * @param options - how much to show (default {})
 * @param options.max - the widest text shown, in columns (default 40: 20 Chinese characters)
 * @returns the text to show
 * @example
 * ```ts
 * displayText("银川市"); // → "银川市"
 * displayText("甲".repeat(300)); // → "甲".repeat(19) + "…"
 * displayText("x".repeat(300), {max: 10}); // → "xxxxxxxxx…"
 * displayText("🏥".repeat(30), {max: 10}); // → "🏥🏥🏥🏥…"
 * displayText("\u202Eabc"); // → "abc"
 * displayText(null); // → "—"
 * ```
 */
export function displayText(value: unknown, {max = DISPLAY_WIDTH}: {max?: number} = {}): string {
  if (value === null || value === undefined) return "—";
  const text = cleanText(value);
  if (textWidth(text) <= max) return text;
  const parts = graphemes(text);
  const isolated = text.startsWith("\u2068");
  let shown = "";
  let used = 0;
  for (const part of isolated ? parts.slice(1, -1) : parts) {
    if (used + columns(part) > max - 1) break;
    shown += part;
    used += columns(part);
  }
  return isolated ? `\u2068${shown}…\u2069` : `${shown}…`;
}
