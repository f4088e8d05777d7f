/**
 * Ranked horizontal bars: one bar per item, largest first, value labels at the bar ends.
 * Shaped like Framework's chart components: `rankedBars(data, {width, ...options})`.
 */
import {Plot} from "./plot.js";
import {cleanText, compareZh, displayText, textWidth} from "../format/text.js";
import {chartFigure} from "./figure.js";

export interface RankedBarsOptions<T> {
  /** The bar's label (y axis). Required. */
  label: (d: T) => string;
  /** The bar's length (x axis), a finite number. Required. */
  value: (d: T) => number;
  /** Formats a value for the bar-end label and the tooltip. Default: the number as is. */
  format?: (value: number) => string;
  /** Formats axis ticks. Default: `format`. */
  tickFormat?: (value: number) => string;
  /** Chart width in pixels. Default 640. */
  width?: number;
  /** The chart's title (also its accessible name). Default none. */
  title?: string;
  /** The x-axis label. Default none. */
  xLabel?: string;
  /** Bar colour. Default `"var(--theme-foreground-focus)"`. */
  fill?: string;
  /** The chart id set as `data-fw-chart`, for tests and audits. Default `"ranked-bars"`. */
  id?: string;
  /** The document to create nodes in (for server-side rendering and tests). Default `window.document`. */
  document?: Document;
}

/** The widest bar label, in columns (a Chinese character counts 2): longer names are cut with `…`. */
export const LABEL_WIDTH = 24;

/**
 * Ranked horizontal bars: one bar per row, largest first (ties in pinyin order), each labelled with
 * its formatted value at the bar's end; the chart's text alternative lists every bar. Rows whose
 * value is not a finite number are left out; with no rows left, the figure says 暂无数据
 * (`data-fw-empty`). Labels are shown as {@link displayText} shows names: cleaned of bidi controls and
 * invisible characters, cut with `…` beyond 24 columns (12 Chinese characters); each bar's tooltip
 * (`<title>`) gives the whole label and its value. Bars are told apart by position, so two labels
 * that read alike still get a bar each. In a page, wrap it in `resize((width) => rankedBars(rows, {width, …}))`.
 *
 * @param data - the rows, one per bar
 * @param options - what to draw and how
 * @param options.label - the bar's label (y axis), from a row
 * @param options.value - the bar's length (x axis), from a row
 * @param options.format - formats a value for the bar-end label and the text alternative (default String)
 * @param options.tickFormat - formats the x-axis ticks (default `format`)
 * @param options.width - the chart's width in pixels (default 640)
 * @param options.title - the chart's title, shown above it and used as its accessible name (default none)
 * @param options.xLabel - the x-axis label (default none)
 * @param options.fill - the bars' colour (default "var(--theme-foreground-focus)")
 * @param options.id - the chart's `data-fw-chart` id, for tests and audits (default "ranked-bars")
 * @param options.document - the document to create nodes in, for server-side rendering and tests (default the page's `document`)
 * @returns a `<figure class="fw-chart" data-fw-chart>` with the title and the chart
 * @example
 * ```ts
 * const names = new Map((await loadDivisions(db)).map((d) => [d.code, d.name]));
 * const rows = await metricByDivision(db, "recovery_total", {level: "市"});
 * const chart = rankedBars(rows, {title: "各地市追回金额", label: (d) => names.get(d.code) ?? d.code,
 *   value: (d) => d.numerator, format: (v) => formatMoney(Math.round(v))});
 * chart.querySelector("svg")?.getAttribute("aria-description")?.split("；")[0]; // → "银川市：656.86万元"
 * // In a page: display(resize((width) => rankedBars(rows, {width, label, value, format})));
 * ```
 */
export function rankedBars<T>(data: readonly T[], options: RankedBarsOptions<T>): HTMLElement {
  const {
    label,
    value,
    format = String,
    tickFormat = format,
    width = 640,
    title,
    xLabel,
    fill,
    id = "ranked-bars"
  } = options;
  const doc = options.document ?? document;
  const figure = chartFigure(doc, id, title);
  const rows = data
    .map((d) => ({label: cleanText(label(d)), value: value(d)}))
    .filter((d) => Number.isFinite(d.value))
    .sort((a, b) => b.value - a.value || compareZh(a.label, b.label))
    .map((d, i) => ({...d, i, shown: displayText(d.label, {max: LABEL_WIDTH})}));
  if (rows.length === 0) {
    figure.dataset.fwEmpty = "true";
    const empty = doc.createElement("p");
    empty.className = "fw-empty";
    empty.textContent = "暂无数据";
    figure.append(empty);
    return figure;
  }
  // About 7 px a column at Plot's 10 px font (14 px a Chinese character).
  const longest = Math.max(...rows.map((d) => textWidth(d.shown)));
  const plot = Plot.plot({
    document: doc,
    width,
    height: Math.max(80, rows.length * 28 + 40),
    marginLeft: Math.min(200, 16 + longest * 7),
    marginRight: 90,
    ariaLabel: title,
    ariaDescription: rows.map((d) => `${d.label}：${format(d.value)}`).join("；"),
    x: {label: xLabel ?? null, grid: true, tickFormat: (v: number) => tickFormat(v)},
    // One band per bar (its position), named by its shown label: equal labels still get a bar each.
    y: {label: null, domain: rows.map((d) => d.i), tickFormat: (i: number) => rows[i]?.shown ?? ""},
    marks: [
      Plot.barX(rows, {
        x: "value",
        y: "i",
        fill: fill ?? "var(--theme-foreground-focus)",
        tip: false,
        title: (d: {label: string; value: number}) => `${d.label}：${format(d.value)}`
      }),
      Plot.text(rows, {
        x: "value",
        y: "i",
        text: (d: {value: number}) => format(d.value),
        dx: 4,
        textAnchor: "start"
      }),
      Plot.ruleX([0])
    ]
  });
  figure.append(plot);
  return figure;
}
