// @vitest-environment jsdom
// Hostile names from district files — markup, script, a javascript: address, 300 characters,
// bidirectional overrides, zero-width characters, emoji — are shown as text, cleaned and cut, with the
// whole text on hover: the shared helper (displayText, cleanText) and every place that shows names
// (sortableTable, textSpan, the charts, the filter bar, the print header). And the date fields read and
// show days the Chinese way.
import {describe, expect, it} from "vitest";
import {coverageProgress} from "../../src/charts/coverage-progress.js";
import {LABEL_WIDTH, rankedBars} from "../../src/charts/ranked-bars.js";
import {cleanText, displayText, textWidth} from "../../src/format/text.js";
import type {Campaign} from "../../src/metrics/campaign.js";
import {dateField, DAY_FORMAT_MESSAGE, parseDay} from "../../src/ui/date-field.js";
import {describeFilter, filterBar, printHeader, type FilterChoices} from "../../src/ui/page.js";
import {sortableTable} from "../../src/ui/table.js";
import {textSpan} from "../../src/ui/text.js";

const IMG = "<img src=x onerror=alert(1)>";
const SCRIPT = "</script><script>alert(2)</script>";
const JS = "javascript:alert(3)";
/** 300 characters: a name, then 297 more. */
const LONG = "原州区" + "很长的名称".repeat(59) + "尾巴";
const RLO = "\u202Eabc";
const ZERO_WIDTH = "红\u200D寺\u200B堡\u2060区\uFEFF";
const EMOJI = "🏥原州区👨\u200D👩\u200D👧";

describe("cleanText(value): the whole text, safe to show", () => {
  it("keeps markup, script and addresses as the very same text (they are shown, never parsed)", () => {
    expect(cleanText(IMG)).toBe(IMG);
    expect(cleanText(SCRIPT)).toBe(SCRIPT);
    expect(cleanText(JS)).toBe(JS);
  });
  it("removes bidirectional controls, so characters read in the order they are stored", () => {
    expect(cleanText(RLO)).toBe("abc");
    expect(cleanText("\u202Bمن\u202C \u2067x\u2069 \u200Fy\u200E")).toBe("\u2068من x y\u2069");
  });
  it("isolates text with right-to-left letters (FSI … PDI), so it cannot reorder what follows", () => {
    expect(cleanText("مستشفى 1")).toBe("\u2068مستشفى 1\u2069");
    expect(cleanText("בית חולים")).toBe("\u2068בית חולים\u2069");
    expect(cleanText("兴庆区")).toBe("兴庆区");
  });
  it("removes zero-width and other invisible characters, but keeps the joiners of an emoji sequence", () => {
    expect(cleanText(ZERO_WIDTH)).toBe("红寺堡区");
    expect(cleanText("a\u00ADb\u180Ec\u200Cd\u2062e")).toBe("abcde");
    expect(cleanText(EMOJI)).toBe(EMOJI);
    expect(cleanText("👩🏽\u200D💻")).toBe("👩🏽\u200D💻");
    expect(cleanText("\u200D👨\u200D")).toBe("👨");
    // Tag characters hide text; only 🏴's flag sequences (here Scotland's) keep them.
    expect(cleanText("a\u{E0041}\u{E0042}b")).toBe("ab");
    const scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    expect(cleanText(scotland)).toBe(scotland);
  });
  it("folds control characters, line breaks and runs of spaces to one space, trimmed", () => {
    expect(cleanText(" a\u0000b\tc\r\n\nd\u2028e\u0085f ")).toBe("a b c d e f");
  });
  it("turns null into empty text and other values into their text", () => {
    expect(cleanText(null)).toBe("");
    expect(cleanText(undefined)).toBe("");
    expect(cleanText(640104)).toBe("640104");
  });
});

describe("displayText(value, {max}): cleaned and cut to a width", () => {
  it("counts a Chinese character or an emoji as 2 columns, other characters as 1", () => {
    expect(textWidth("银川市")).toBe(6);
    expect(textWidth("abc")).toBe(3);
    expect(textWidth(EMOJI)).toBe(2 + 6 + 2); // 🏥, 原州区, and 👨‍👩‍👧 as one
    expect(textWidth("\u2068من\u2069")).toBe(2);
  });
  it("leaves text that fits as it is", () => {
    expect(displayText("宁东能源化工基地")).toBe("宁东能源化工基地");
    expect(displayText(IMG)).toBe(IMG); // 28 columns
    expect(displayText(SCRIPT)).toBe(SCRIPT); // 34 columns
    expect(displayText("甲".repeat(20))).toBe("甲".repeat(20)); // exactly 40 columns
  });
  it("cuts a long name with … at 40 columns by default, never inside a character", () => {
    // 19 characters (38 columns) and the ellipsis (1): the 20th character would make 41.
    expect(displayText(LONG)).toBe("原州区很长的名称很长的名称很长的名称很…");
    expect(textWidth(displayText(LONG))).toBe(39);
    expect(displayText("x".repeat(300))).toBe(`${"x".repeat(39)}…`);
    expect(displayText("甲".repeat(21))).toBe(`${"甲".repeat(19)}…`);
    expect(displayText(IMG, {max: 12})).toBe("<img src=x …");
    expect(displayText("🏥".repeat(30), {max: 10})).toBe("🏥🏥🏥🏥…");
    expect(displayText("👨\u200D👩\u200D👧".repeat(10), {max: 5})).toBe(
      "👨\u200D👩\u200D👧👨\u200D👩\u200D👧…"
    );
  });
  it("cleans before it measures and keeps the isolates around cut right-to-left text", () => {
    expect(displayText(RLO)).toBe("abc");
    expect(displayText(ZERO_WIDTH)).toBe("红寺堡区");
    expect(displayText(EMOJI)).toBe(EMOJI);
    expect(displayText("مستشفى الأمل الكبير", {max: 8})).toBe("\u2068مستشفى …\u2069");
  });
  it("shows null as a dash", () => {
    expect(displayText(null)).toBe("—");
    expect(displayText(undefined)).toBe("—");
  });
});

describe("textSpan(value): a name in page text", () => {
  it("is text, cut, with the whole text in title only when cut", () => {
    const span = textSpan(IMG + LONG);
    expect(span.querySelector("img")).toBeNull();
    expect(span.childNodes.length).toBe(1);
    expect(span.textContent).toBe(displayText(IMG + LONG));
    expect(span.title).toBe(IMG + LONG);
    expect(textSpan("银川市").hasAttribute("title")).toBe(false);
    expect(textSpan(RLO).outerHTML).toBe('<span class="fw-text">abc</span>');
  });
});

describe("sortableTable with hostile names", () => {
  const rows = [
    {code: "640104", name: IMG, fen: 1},
    {code: "640105", name: SCRIPT, fen: 2},
    {code: "640106", name: LONG, fen: 3},
    {code: "640302", name: RLO, fen: 4},
    {code: "640303", name: ZERO_WIDTH, fen: 5},
    {code: "640402", name: EMOJI, fen: 6},
    {code: "640502", name: JS, fen: 7}
  ];
  const table = sortableTable(rows, {
    caption: `${LONG}的表`,
    key: (r) => r.code,
    columns: [
      {label: "县区", value: (r) => r.name, href: (r) => `./district/${r.code}`},
      {label: "说明", value: (r) => r.name, truncate: false},
      {label: "金额", value: (r) => r.fen, metric: "amount_fen"}
    ]
  });
  const cells = (i: number) => Array.from(table.tBodies[0]!.rows, (tr) => tr.cells[i]!);
  it("shows every name as text: no element, no script, no link but the site's own", () => {
    expect(table.querySelectorAll("img, script")).toHaveLength(0);
    expect(Array.from(table.querySelectorAll("a"), (a) => a.getAttribute("href"))).toEqual(
      rows.map((r) => `./district/${r.code}`)
    );
  });
  it("cuts a long name at 40 columns with the whole name in the link's title; others keep no title", () => {
    const links = cells(0).map((td) => td.querySelector("a")!);
    expect(links.map((a) => a.textContent)).toEqual([
      IMG,
      SCRIPT,
      "原州区很长的名称很长的名称很长的名称很…",
      "abc",
      "红寺堡区",
      EMOJI,
      JS
    ]);
    expect(links.map((a) => a.getAttribute("title"))).toEqual([null, null, LONG, null, null, null, null]);
  });
  it("never cuts a column with truncate: false, but still cleans it", () => {
    expect(cells(1).map((td) => td.textContent)).toEqual([IMG, SCRIPT, LONG, "abc", "红寺堡区", EMOJI, JS]);
  });
  it("keeps the raw figures in data-value and cleans the caption", () => {
    expect(cells(2).map((td) => td.dataset.value)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect(table.caption?.textContent).toBe(`${LONG}的表`);
  });
});

describe("charts with hostile names", () => {
  it("rankedBars: labels cut at 24 columns, each bar's tooltip whole, look-alike names get a bar each", () => {
    const figure = rankedBars(
      [
        {name: LONG, v: 3},
        {name: `${LONG}二`, v: 2},
        {name: RLO, v: 1},
        {name: IMG, v: 4}
      ],
      {label: (d) => d.name, value: (d) => d.v}
    );
    expect(figure.querySelectorAll("img, script")).toHaveLength(0);
    expect(figure.querySelectorAll("g[aria-label='bar'] rect")).toHaveLength(4);
    const ticks = Array.from(
      figure.querySelectorAll("g[aria-label='y-axis tick label'] text"),
      (t) => t.textContent
    );
    const cut = "原州区很长的名称很长的…"; // 11 characters (22 columns) and the ellipsis
    expect(LABEL_WIDTH).toBe(24);
    expect(ticks).toEqual(["<img src=x onerror=aler…", cut, cut, "abc"]);
    const titles = Array.from(figure.querySelectorAll("g[aria-label='bar'] title"), (t) => t.textContent);
    expect(titles).toEqual([`${IMG}：4`, `${LONG}：3`, `${LONG}二：2`, "abc：1"]);
  });

  it("coverageProgress: the legend cuts names (whole in title), tooltips and the description are clean", () => {
    const campaign: Campaign = {
      id: "ZX2024",
      name: SCRIPT,
      start_date: "2024-05-15",
      end_date: "2024-11-30",
      mobilize_by: "2024-05-31",
      self_inspect_by: "2024-06-30",
      rectify_by: "2024-10-31",
      summary_by: "2024-11-30",
      coverage_target_1: 80,
      coverage_deadline_1: "2024-08-31",
      coverage_target_2: 100,
      coverage_deadline_2: "2024-10-31",
      rereview_target: 5,
      big_case_threshold: 5_000_000,
      big_case_report_days: 2
    };
    const figure = coverageProgress({
      campaign,
      series: [
        {name: LONG, week_ending: "2024-05-17", coverage: 0.1},
        {name: RLO, week_ending: "2024-05-17", coverage: 0.2},
        {name: EMOJI, week_ending: "2024-05-17", coverage: 0.3}
      ]
    });
    expect(figure.querySelectorAll("img, script")).toHaveLength(0);
    const swatches = Array.from(figure.querySelectorAll<HTMLElement>("[class$='-swatch']"));
    expect(swatches.map((s) => s.textContent)).toEqual(["原州区很长的名称很长的…", "abc", EMOJI]);
    expect(swatches.map((s) => s.getAttribute("title"))).toEqual([LONG, null, null]);
    expect(figure.querySelector("svg[aria-description]")?.getAttribute("aria-description")).toContain(
      `截至2024年5月17日：${LONG} 10.0%；abc 20.0%；${EMOJI} 30.0%`
    );
  });
});

describe("page pieces with hostile names", () => {
  const choices: FilterChoices = {
    campaigns: [{id: "ZX2024", name: `${SCRIPT}${LONG}`}],
    institutionKinds: ["医院", IMG],
    inspectionKinds: ["专项检查"],
    cities: [{code: "640100", name: LONG}],
    firstDay: "2024-05-15",
    lastDay: "2024-09-26"
  };
  it("the filter bar shows names cut to 32 columns, as text", () => {
    const bar = filterBar(choices, {campaign: "ZX2024", within: "640100"});
    expect(bar.querySelectorAll("img, script")).toHaveLength(0);
    const options = Array.from(bar.querySelectorAll("option"), (o) => o.textContent);
    expect(options).toContain(displayText(`${SCRIPT}${LONG}`, {max: 32}));
    expect(options).toContain("原州区很长的名称很长的名称很长…");
    expect(
      Array.from(bar.querySelectorAll("input[type=checkbox] + *, label"), (l) => l.textContent)
    ).toContain(IMG);
    expect(bar.value).toEqual({campaign: "ZX2024", within: "640100"});
  });
  it("describeFilter and printHeader cut names too", () => {
    expect(describeFilter({within: "640100"}, choices)).toBe("原州区很长的名称很长的名称很长…");
    const header = printHeader(LONG, {asOf: "2024-09-27", source: "测试", generatedAt: ""});
    expect(header.querySelector("strong")?.textContent).toBe(`医保基金监管分析 · ${displayText(LONG)}`);
  });
});

describe("date fields: the Chinese way in every browser language", () => {
  it("parseDay reads the forms readers type and says in Chinese what is wrong", () => {
    for (const text of [
      "2024-05-10",
      "2024-5-10",
      "2024/5/10",
      "2024.5.10",
      "2024年5月10日",
      "20240510",
      "２０２４－０５－１０"
    ])
      expect(parseDay(text), text).toEqual({ok: true, value: "2024-05-10"});
    expect(parseDay("")).toEqual({ok: true, value: null});
    expect(parseDay("05/10/2024")).toEqual({ok: false, message: DAY_FORMAT_MESSAGE});
    expect(parseDay("5月10日")).toEqual({ok: false, message: DAY_FORMAT_MESSAGE});
    expect(parseDay("2024-02-30")).toEqual({ok: false, message: "2024年2月没有30日"});
    expect(parseDay("2024-13-01")).toEqual({ok: false, message: "没有13月：月份应为 1 至 12"});
  });
  it("dateField shows the ISO day in the field and 2024年5月10日 under it; its value is the ISO day", () => {
    const field = dateField({label: "检查日期自", value: "2024-05-10"});
    const input = field.querySelector("input")!;
    expect(input.type).toBe("text");
    expect(input.value).toBe("2024-05-10");
    expect(field.querySelector("output")?.textContent).toBe("2024年5月10日");
    expect(field.querySelector("label")?.textContent).toBe("检查日期自");
    expect(field.value).toBe("2024-05-10");
  });
  it("dateField takes a Chinese date, fires input, and writes it back as YYYY-MM-DD when left", () => {
    const field = dateField({label: "至"});
    expect(field.value).toBeNull();
    expect(field.querySelector("output")?.textContent).toBe("不限");
    const seen: (string | null)[] = [];
    field.addEventListener("input", () => seen.push(field.value));
    const input = field.querySelector("input")!;
    input.value = "2024年6月1日";
    input.dispatchEvent(new Event("input", {bubbles: true}));
    expect(seen).toEqual(["2024-06-01"]);
    expect(field.querySelector("output")?.textContent).toBe("2024年6月1日");
    input.dispatchEvent(new Event("change", {bubbles: true}));
    expect(input.value).toBe("2024-06-01");
  });
  it("dateField keeps its day and stops the event on text that is not a day, saying why", () => {
    const field = dateField({label: "至", value: "2024-06-01"});
    const seen: unknown[] = [];
    field.addEventListener("input", () => seen.push(field.value));
    const input = field.querySelector("input")!;
    input.value = "2024-02-30";
    input.dispatchEvent(new Event("input", {bubbles: true}));
    expect(seen).toEqual([]);
    expect(field.value).toBe("2024-06-01");
    expect(field.querySelector("output")?.textContent).toBe("2024年2月没有30日");
    expect(input.validationMessage).toBe("2024年2月没有30日");
  });
  it("the filter bar's dates are these fields, and its value carries the ISO days", () => {
    const bar = filterBar(
      {campaigns: [], institutionKinds: [], inspectionKinds: [], cities: [], firstDay: null, lastDay: null},
      {from: "2024-05-10", to: "2024-06-01"}
    );
    expect(bar.querySelectorAll("input[type=date]")).toHaveLength(0);
    expect(
      Array.from(bar.querySelectorAll(".fw-date-field input"), (i) => (i as HTMLInputElement).value)
    ).toEqual(["2024-05-10", "2024-06-01"]);
    expect(Array.from(bar.querySelectorAll(".fw-date-field output"), (o) => o.textContent)).toEqual([
      "2024年5月10日",
      "2024年6月1日"
    ]);
    expect(bar.value).toEqual({from: "2024-05-10", to: "2024-06-01"});
    const input = bar.querySelector<HTMLInputElement>(".fw-date-field input")!;
    let fired = 0;
    bar.addEventListener("input", () => fired++);
    input.value = "2024/7/1";
    input.dispatchEvent(new Event("input", {bubbles: true}));
    expect(fired).toBe(1);
    expect(bar.value).toEqual({from: "2024-07-01", to: "2024-06-01"});
  });
});
