import {JSDOM} from "jsdom";
import {describe, expect, it} from "vitest";
import {rankedBars} from "../../src/charts/ranked-bars.js";

const {document} = new JSDOM("<!DOCTYPE html><body></body>").window;
const data = [
  {name: "西夏区", fen: 2_425_333},
  {name: "金凤区", fen: 3_851_322},
  {name: "贺兰县", fen: 2_425_333},
  {name: "宁东能源化工基地", fen: 1_294_692}
];

describe("rankedBars(data, {label, value, ...})", () => {
  it("draws one bar per row, largest first, ties in pinyin order", () => {
    const figure = rankedBars(data, {label: (d) => d.name, value: (d) => d.fen, document, id: "t"});
    expect(figure.dataset.fwChart).toBe("t");
    const bars = figure.querySelectorAll("svg g[aria-label='bar'] rect");
    expect(bars.length).toBe(4);
    const ticks = Array.from(
      figure.querySelectorAll("g[aria-label='y-axis tick label'] text"),
      (t) => t.textContent
    );
    expect(ticks).toEqual(["金凤区", "贺兰县", "西夏区", "宁东能源化工基地"]);
  });
  it("labels bar ends with the formatted value and describes the chart in text", () => {
    const figure = rankedBars(data, {
      label: (d) => d.name,
      value: (d) => d.fen,
      format: (v) => `${v}分`,
      title: "各单位金额",
      document
    });
    const labels = Array.from(figure.querySelectorAll("g[aria-label='text'] text"), (t) => t.textContent);
    expect(labels).toContain("3851322分");
    expect(figure.querySelector("h3")?.textContent).toBe("各单位金额");
    expect(figure.querySelector("svg")?.getAttribute("aria-description")).toContain("金凤区：3851322分");
  });
  it("says so when there is no data, and drops non-finite values", () => {
    const figure = rankedBars([{name: "兴庆区", fen: Number.NaN}], {
      label: (d) => d.name,
      value: (d) => d.fen,
      document
    });
    expect(figure.dataset.fwEmpty).toBe("true");
    expect(figure.textContent).toContain("暂无数据");
    expect(figure.querySelector("svg")).toBeNull();
  });
});
