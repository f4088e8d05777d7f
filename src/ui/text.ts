/** Names from the data in a page: cleaned, cut to a width, the full text on hover. */
import {cleanText, displayText, DISPLAY_WIDTH} from "../format/text.js";

/**
 * Sets `element`'s text to {@link displayText} of `value` and, when that is cut, its `title` to the
 * full text ({@link cleanText}), so hovering shows the whole name. Text is set as text, never as HTML.
 *
 * @param element - the element to fill (its children are replaced)
 * @param value - a name or note from the data
 * @param max - the widest text shown, in columns (a Chinese character counts 2); Infinity: never cut
 * @returns `element`
 */
export function setDisplayText<E extends HTMLElement>(element: E, value: unknown, max = DISPLAY_WIDTH): E {
  const shown = displayText(value, {max});
  element.textContent = shown;
  const full = cleanText(value);
  if (shown !== full && full !== "") element.title = full;
  else element.removeAttribute("title");
  return element;
}

/**
 * A name from the data as a `<span class="fw-text">` for page text, headings and hand-written tables:
 * cleaned and cut like {@link displayText}, with the full text in `title` (hover) when it was cut.
 * Markup in the name is shown as text, never parsed.
 *
 * @param value - a name or note from the data (null shows `—`)
 * @param options - how much to show (default {})
 * @param options.max - the widest text shown, in columns, a Chinese character counting 2 (default 40)
 * @param options.document - the document to create the node in (default the page's `document`)
 * @returns a `<span class="fw-text">`, with `title` when the text was cut
 * @example
 * ```ts
 * textSpan("银川市").outerHTML; // → '<span class="fw-text">银川市</span>'
 * const long = textSpan("<b>" + "长".repeat(50) + "</b>", {max: 12});
 * long.textContent; // → "<b>长长长长…"
 * long.title; // → "<b>" + "长".repeat(50) + "</b>"
 * textSpan("\u202Eabc").textContent; // → "abc"
 * // In a page: # ${textSpan(division.name)}
 * ```
 */
export function textSpan(
  value: unknown,
  {max = DISPLAY_WIDTH, document: doc = document}: {max?: number; document?: Document} = {}
): HTMLSpanElement {
  const span = doc.createElement("span");
  span.className = "fw-text";
  return setDisplayText(span, value, max);
}
