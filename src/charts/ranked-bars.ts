/**
 * Ranked horizontal bars: one bar per item, largest first, value labels at the bar ends.
 * Shaped like Framework's chart components: `rankedBars(data, {width, ...options})`.
 */
import * as Plot from "@observablehq/plot";
import {compareZh} from "../format/text.js";
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

/** Returns a `<figure data-fw-chart>`; with no data, a figure saying so (`data-fw-empty`). */
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
    .map((d) => ({label: label(d), value: value(d)}))
    .filter((d) => Number.isFinite(d.value))
    .sort((a, b) => b.value - a.value || compareZh(a.label, b.label));
  if (rows.length === 0) {
    figure.dataset.fwEmpty = "true";
    const empty = doc.createElement("p");
    empty.className = "fw-empty";
    empty.textContent = "暂无数据";
    figure.append(empty);
    return figure;
  }
  const longest = Math.max(...rows.map((d) => d.label.length));
  const plot = Plot.plot({
    document: doc,
    width,
    height: Math.max(80, rows.length * 28 + 40),
    marginLeft: Math.min(200, 16 + longest * 14),
    marginRight: 90,
    ariaLabel: title,
    ariaDescription: rows.map((d) => `${d.label}：${format(d.value)}`).join("；"),
    x: {label: xLabel ?? null, grid: true, tickFormat: (v: number) => tickFormat(v)},
    y: {label: null, domain: rows.map((d) => d.label)},
    marks: [
      Plot.barX(rows, {x: "value", y: "label", fill: fill ?? "var(--theme-foreground-focus)", tip: false}),
      Plot.text(rows, {
        x: "value",
        y: "label",
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
