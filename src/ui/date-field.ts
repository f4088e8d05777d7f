/**
 * A date field that reads and writes days the Chinese way whatever the browser's language: the reader
 * types `2024-05-10` (or `2024年5月10日`, `2024/5/10`, `20240510`) and sees `2024年5月10日` beside it. A
 * native `<input type=date>` shows the day in the browser's locale (`05/10/2024` in an English browser),
 * which is why the filter bar does not use one.
 */
import * as Inputs from "@observablehq/inputs";
import {dateParts, formatDate} from "../format/date.js";

/** What {@link parseDay} makes of a typed day: an ISO day (null for an empty field), or why not. */
export type ParsedDay = {ok: true; value: string | null} | {ok: false; message: string};

/** How a day may be typed: 2024-05-10, 2024-5-10, 2024/5/10, 2024.5.10, 2024年5月10日, 20240510. */
const DAY_FORMS = [
  /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/,
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/,
  /^(\d{4})(\d{2})(\d{2})$/
];

/** The message for text that is not a day in any accepted form. */
export const DAY_FORMAT_MESSAGE = "请按“年-月-日”填写，例如 2024-05-10（也可写 2024年5月10日）";

/**
 * Reads a day as a reader types it into a date field: `2024-05-10`, `2024-5-10`, `2024/5/10`,
 * `2024.5.10`, `2024年5月10日` or `20240510` (full-width digits too, spaces ignored) give the ISO day;
 * an empty field gives null (no restriction); anything else gives the reason, in Chinese.
 *
 * @param text - what was typed
 * @returns `{ok: true, value}` with the day as `YYYY-MM-DD` (or null), or `{ok: false, message}`
 * @example
 * ```ts
 * parseDay("2024年5月10日"); // → {ok: true, value: "2024-05-10"}
 * parseDay("2024/5/10"); // → {ok: true, value: "2024-05-10"}
 * parseDay(" "); // → {ok: true, value: null}
 * parseDay("05/10/2024"); // → {ok: false, message: "请按“年-月-日”填写，例如 2024-05-10（也可写 2024年5月10日）"}
 * parseDay("2024-02-30"); // → {ok: false, message: "2024年2月没有30日"}
 * ```
 */
export function parseDay(text: string): ParsedDay {
  const compact = text.normalize("NFKC").replace(/\s+/g, "");
  if (compact === "") return {ok: true, value: null};
  const match = DAY_FORMS.map((form) => form.exec(compact)).find((m) => m !== null);
  if (!match) return {ok: false, message: DAY_FORMAT_MESSAGE};
  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  if (month < 1 || month > 12) return {ok: false, message: `没有${month}月：月份应为 1 至 12`};
  const iso = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  try {
    dateParts(iso);
  } catch {
    return {ok: false, message: `${year}年${month}月没有${day}日`};
  }
  return {ok: true, value: iso};
}

/**
 * A date field for forms and the filter bar, the same in every browser language: a text field that
 * takes `2024-05-10` (or `2024年5月10日`, `2024/5/10`, `20240510`), with the day shown under it as
 * `2024年5月10日`. Text that is not a day shows why, in Chinese, under the field (and in the browser's
 * validation bubble when the field is left), and changes nothing; an empty field means no day. Leaving
 * the field rewrites a valid day as `YYYY-MM-DD`. Its value is the ISO day or null; it fires `input`
 * on each valid change, so it works with `view()` and `Inputs.form`.
 *
 * @param options - the field
 * @param options.label - the label, e.g. `"检查日期自"`
 * @param options.value - the day to start with, `YYYY-MM-DD` (default null: empty)
 * @returns a `<div class="fw-date-field">` (Observable Inputs' text field and the day as read) whose `value` is the day (`"2024-05-10"`) or null
 * @example
 * ```ts
 * const field = dateField({label: "检查日期自", value: "2024-05-10"});
 * field.value; // → "2024-05-10"
 * field.querySelector("input")?.value; // → "2024-05-10"
 * field.querySelector("output")?.textContent; // → "2024年5月10日"
 * dateField({label: "至"}).value; // → null
 * ```
 */
export function dateField({
  label,
  value = null
}: {
  label: string;
  value?: string | null;
}): HTMLDivElement & {value: string | null} {
  let day: string | null = null;
  const shown = document.createElement("output");
  shown.className = "fw-date-shown";
  shown.setAttribute("aria-live", "polite");
  const validate = (input: HTMLInputElement): boolean => {
    const parsed = parseDay(input.value);
    input.setCustomValidity(parsed.ok ? "" : parsed.message);
    shown.classList.toggle("fw-date-invalid", !parsed.ok);
    shown.textContent = parsed.ok ? (parsed.value ? formatDate(parsed.value) : "不限") : parsed.message;
    if (parsed.ok) day = parsed.value;
    return parsed.ok;
  };
  const form = Inputs.text({
    label,
    value: value ?? "",
    placeholder: "YYYY-MM-DD",
    spellcheck: false,
    autocomplete: "off",
    validate
  }) as HTMLFormElement;
  const input = form.querySelector("input") as HTMLInputElement;
  shown.id = `${input.id}-shown`;
  shown.htmlFor.add(input.id);
  input.setAttribute("aria-describedby", shown.id);
  input.setAttribute("maxlength", "16");
  input.after(shown);
  input.addEventListener("change", () => {
    if (validate(input)) input.value = day ?? "";
    else input.reportValidity();
  });
  // Inputs' own form keeps the typed text as its value (and cannot be redefined): the field's value,
  // the ISO day, lives on a wrapper, which input events from the field bubble through.
  const field = document.createElement("div");
  field.className = "fw-date-field";
  field.append(form);
  return Object.defineProperty(field, "value", {
    get: () => day,
    set(next: string | null | undefined) {
      input.value = next ?? "";
      validate(input);
    }
  }) as HTMLDivElement & {value: string | null};
}
