/**
 * Cumulative coverage over the campaign: one line per division (cut off every Friday), the campaign's
 * phases as bands (动员部署 → 自查自纠 → 集中整治 → 全面总结), the schedule's expected coverage as a
 * dashed line and the 80% / 100% deadlines as rules. Readable in grayscale: each line has its own
 * marker shape, shown in the legend.
 */
import {Plot} from "./plot.js";
import {formatDate} from "../format/date.js";
import {formatPercent} from "../format/percent.js";
import {cleanText, displayText} from "../format/text.js";
import {campaignPhases, coverageTargetAt, type Campaign} from "../metrics/campaign.js";
import {chartFigure} from "./figure.js";
import {LABEL_WIDTH} from "./ranked-bars.js";

export interface CoverageProgressOptions {
  /** The campaign whose phases, deadlines and schedule are drawn. Required. */
  campaign: Campaign;
  /** One point per division and Friday: the division's name, the Friday (YYYY-MM-DD), coverage 0–1. */
  series: readonly {name: string; week_ending: string; coverage: number | null}[];
  /** Chart width in pixels. Default 640. */
  width?: number;
  /** Default 360. */
  height?: number;
  /** The chart's title (also its accessible name). */
  title?: string;
  /** The chart id set as `data-fw-chart`. Default `"coverage-progress"`. */
  id?: string;
  document?: Document;
}

const utc = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

/**
 * Cumulative inspection coverage over a campaign: one line per division from the weekly figures
 * (cut off every Friday, see {@link weeklyProgress}), the campaign's phases as bands, the schedule's
 * expected coverage as a dashed line and the coverage deadlines as rules. Each line has its own
 * marker shape, so it reads in grayscale too; the text alternative gives each line's latest coverage.
 * Division names are shown as {@link displayText} shows them: cleaned of bidi controls and invisible
 * characters, cut with `…` in the legend beyond 24 columns (the whole name in the swatch's `title`) and
 * in the tooltips beyond 40.
 *
 * @param options - what to draw and how
 * @param options.campaign - the campaign whose phases, deadlines and schedule are drawn (see {@link pickCampaign})
 * @param options.series - one point per division and Friday: `{name, week_ending, coverage}`, coverage 0–1 (null is skipped)
 * @param options.width - the chart's width in pixels (default 640)
 * @param options.height - the chart's height in pixels (default 360)
 * @param options.title - the chart's title, shown above it and used as its accessible name (default none: the accessible name is 累计检查覆盖率)
 * @param options.id - the chart's `data-fw-chart` id (default "coverage-progress")
 * @param options.document - the document to create nodes in (default the page's `document`)
 * @returns a `<figure class="fw-chart" data-fw-chart>` with the title and the chart
 * @example
 * ```ts
 * const campaign = pickCampaign(await loadCampaigns(db));
 * const weeks = await weeklyProgress(db, {level: "省", from: campaign.start_date, to: "2024-09-27"});
 * const series = weeks.map((r) => ({name: "全区", week_ending: r.week_ending, coverage: r.coverage}));
 * const chart = coverageProgress({campaign, series, id: "province-coverage"});
 * const description = chart.querySelector("svg")?.getAttribute("aria-description") ?? "";
 * description.includes("截至2024年9月27日：全区 76.6%"); // → true
 * // In a page: display(resize((width) => coverageProgress({width, campaign, series})));
 * ```
 */
export function coverageProgress(options: CoverageProgressOptions): HTMLElement {
  const {campaign, width = 640, height = 360, title, id = "coverage-progress"} = options;
  const doc = options.document ?? document;
  const figure = chartFigure(doc, id, title);
  const points = options.series
    .filter((d) => d.coverage !== null)
    .map((d) => ({
      name: cleanText(d.name),
      day: utc(d.week_ending),
      week: d.week_ending,
      coverage: (d.coverage ?? 0) * 100
    }));
  const fridays = [...new Set(options.series.map((d) => d.week_ending))].sort();
  const schedule = fridays.map((d) => ({day: utc(d), expected: coverageTargetAt(campaign, d).expected}));
  const bands = campaignPhases(campaign).map((p, i) => ({
    name: p.name,
    x1: utc(p.start),
    x2: new Date(utc(p.end).getTime() + 86_399_000),
    i
  }));
  const deadlines = [
    {day: utc(campaign.coverage_deadline_1), target: campaign.coverage_target_1},
    {day: utc(campaign.coverage_deadline_2), target: campaign.coverage_target_2}
  ].map((d) => ({...d, label: `${formatDate(d.day.toISOString().slice(0, 10))}前 ${d.target}%`}));
  const last = new Map<string, (typeof points)[number]>();
  for (const p of points) if ((last.get(p.name)?.week ?? "") <= p.week) last.set(p.name, p);
  const names = [...last.keys()];
  const description = [...last.values()]
    .map((p) => `${p.name} ${formatPercent(p.coverage / 100)}`)
    .join("；");
  const lastWeek = fridays.at(-1);
  const chart = Plot.plot({
    document: doc,
    width,
    height,
    ariaLabel: title ?? "累计检查覆盖率",
    ariaDescription:
      `从${formatDate(campaign.start_date)}起每周五的累计检查覆盖率` +
      (lastWeek ? `，截至${formatDate(lastWeek)}：${description}` : "：暂无数据") +
      `。虚线为进度目标；${deadlines.map((d) => d.label).join("、")}。`,
    x: {
      type: "utc",
      domain: [utc(campaign.start_date), utc(campaign.end_date)],
      tickFormat: (d: Date) => `${d.getUTCMonth() + 1}月`,
      label: null
    },
    y: {domain: [0, 100], grid: true, label: "覆盖率（%）", tickFormat: (v: number) => `${v}%`},
    // One legend of coloured marker shapes (Plot merges the two scales bound to the same channel).
    color: {domain: names, scheme: "Dark2"},
    symbol: {legend: names.length > 1, domain: names, tickFormat: legendName},
    marks: [
      Plot.rectX(bands, {
        x1: "x1",
        x2: "x2",
        y1: 0,
        y2: 100,
        fill: (d: {i: number}) => (d.i % 2 ? "#000" : "#888"),
        fillOpacity: 0.06
      }),
      Plot.text(bands, {
        x: (d: {x1: Date; x2: Date}) => new Date((d.x1.getTime() + d.x2.getTime()) / 2),
        y: 100,
        text: "name",
        dy: 8,
        fontSize: 11,
        fill: "currentColor"
      }),
      Plot.ruleX(deadlines, {x: "day", stroke: "currentColor", strokeOpacity: 0.6}),
      Plot.text(deadlines, {
        x: "day",
        y: "target",
        text: "label",
        textAnchor: "end",
        dx: -4,
        dy: -6,
        fontSize: 11
      }),
      Plot.lineY(schedule, {x: "day", y: "expected", stroke: "currentColor", strokeDasharray: "4 3"}),
      Plot.lineY(points, {x: "day", y: "coverage", z: "name", stroke: "name"}),
      Plot.dot(points, {
        x: "day",
        y: "coverage",
        stroke: "name",
        symbol: "name",
        r: 3,
        tip: true,
        title: (d: {name: string; week: string; coverage: number}) =>
          `${displayText(d.name)} ${formatDate(d.week)}：${formatPercent(d.coverage / 100)}`
      })
    ]
  });
  // The legend shows names cut to LABEL_WIDTH; hovering a cut one shows it whole.
  // Plot draws one swatch per name, in the order of the domain.
  Array.from(chart.querySelectorAll<HTMLElement>("[class$='-swatch']")).forEach((swatch, i) => {
    const name = names[i];
    if (name !== undefined && legendName(name) !== name) swatch.title = name;
  });
  figure.append(chart);
  return figure;
}

/** A division's name as the legend shows it. */
const legendName = (name: string): string => displayText(name, {max: LABEL_WIDTH});
