// @vitest-environment jsdom
// A caption that names the page's division or campaign beside the filter's description
// (`银川市 · … · 2024年…行动` on the overview) never names the same place or campaign twice:
// describeFilter leaves out the city or campaign the caption already names.
import {readFileSync, readdirSync} from "node:fs";
import {join, relative, resolve} from "node:path";
import {describe, expect, it} from "vitest";
import {describeFilter, filterFromSearch, type FilterChoices, type PageFilter} from "../../src/ui/page.js";

const choices: FilterChoices = {
  campaigns: [
    {id: "ZX2024", name: "2024年打击欺诈骗保专项整治行动"},
    {id: "ZX2025", name: "2025年专项行动"}
  ],
  institutionKinds: ["村卫生室", "基层医疗机构", "零售药店", "医院", "诊所"],
  inspectionKinds: ["日常检查", "专项检查"],
  cities: [
    {code: "640100", name: "银川市"},
    {code: "640300", name: "吴忠市"}
  ],
  firstDay: "2024-05-15",
  lastDay: "2024-09-26"
};

/** The overview's caption as reports/index.md writes it: scope · filter · campaign. */
function overviewCaption(search: string): string {
  const filter: PageFilter = filterFromSearch(search);
  const names = new Map([
    ["640000", "宁夏回族自治区"],
    ["640100", "银川市"],
    ["640104", "兴庆区"],
    ["640300", "吴忠市"]
  ]);
  const scopeCode = filter.within ?? "640000";
  const campaign = choices.campaigns.find((c) => c.id === (filter.campaign ?? "ZX2024"))!;
  const scope = names.has(scopeCode) ? scopeCode : undefined;
  return `${names.get(scopeCode) ?? "全省"} · ${describeFilter(filter, choices, {scope, campaign: campaign.id})} · ${campaign.name}`;
}

describe("describeFilter beside a caption that names the scope or the campaign", () => {
  it("leaves out the city the caption already names", () => {
    expect(describeFilter({within: "640100"}, choices, {scope: "640100"})).toBe("全部数据");
    expect(
      describeFilter({from: "2024-06-01", institutionKinds: ["医院"], within: "640100"}, choices, {
        scope: "640100"
      })
    ).toBe("检查日期 2024年6月1日至今；机构类型：医院");
    // Without the choices the city is a code; it is still the scope's.
    expect(describeFilter({within: "640100"}, undefined, {scope: "640100"})).toBe("全部数据");
  });

  it("leaves out the campaign the caption already names", () => {
    expect(describeFilter({campaign: "ZX2024"}, choices, {campaign: "ZX2024"})).toBe("全部数据");
    expect(
      describeFilter({campaign: "ZX2024", within: "640100"}, choices, {scope: "640100", campaign: "ZX2024"})
    ).toBe("全部数据");
  });

  it("keeps a city or campaign that differs from the caption's, and everything without options", () => {
    expect(describeFilter({within: "640100"}, choices, {scope: "640000"})).toBe("银川市");
    expect(describeFilter({campaign: "ZX2025"}, choices, {campaign: "ZX2024"})).toBe("2025年专项行动");
    expect(describeFilter({within: "640100"}, choices, {scope: null, campaign: null})).toBe("银川市");
    expect(describeFilter({campaign: "ZX2024", within: "640100"}, choices)).toBe(
      "2024年打击欺诈骗保专项整治行动；银川市"
    );
    expect(describeFilter({}, choices, {scope: "640100", campaign: "ZX2024"})).toBe("全部数据");
  });

  it("the overview's caption names the city and the campaign once", () => {
    expect(overviewCaption("")).toBe("宁夏回族自治区 · 全部数据 · 2024年打击欺诈骗保专项整治行动");
    expect(overviewCaption("?city=640100")).toBe("银川市 · 全部数据 · 2024年打击欺诈骗保专项整治行动");
    expect(overviewCaption("?city=640100&campaign=ZX2024&kind=医院,诊所")).toBe(
      "银川市 · 机构类型：医院、诊所 · 2024年打击欺诈骗保专项整治行动"
    );
    expect(overviewCaption("?city=640104")).toBe("兴庆区 · 全部数据 · 2024年打击欺诈骗保专项整治行动");
    // A code the data does not have is not named by the caption, so the description keeps it.
    expect(overviewCaption("?city=999999")).toBe("全省 · 999999 · 2024年打击欺诈骗保专项整治行动");
  });
});

describe("report pages", () => {
  const root = resolve(import.meta.dirname, "..", "..", "reports");
  const pages = (dir: string): string[] =>
    readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() && e.name !== "sdk"
        ? pages(join(dir, e.name))
        : e.name.endsWith(".md")
          ? [join(dir, e.name)]
          : []
    );

  it("pass describeFilter the division and campaign their caption names beside it", () => {
    const captions = pages(root).flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.includes("fw-caption") && line.includes("describeFilter("))
        .map((line) => ({file: relative(root, file), line}))
    );
    expect(captions.length).toBeGreaterThan(0);
    for (const {file, line} of captions) {
      if (/\bscopeName\b|shownName\b|division\.name\b/.test(line)) expect(line, file).toMatch(/\bscope:/);
      if (/\bcampaign\.name\b/.test(line)) expect(line, file).toMatch(/\bcampaign:/);
    }
  });
});
