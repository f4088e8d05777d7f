// The SDK's Plot makes no <style> element (the site's Content-Security-Policy refuses those), and the
// site's style sheet carries the rules Plot would have put in them, for its default class name.
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import * as PlotLibrary from "@observablehq/plot";
import {JSDOM} from "jsdom";
import {describe, expect, it} from "vitest";
import {coverageProgress} from "../../src/charts/coverage-progress.js";
import {Plot, withoutStyleElements} from "../../src/charts/plot.js";
import {rankedBars} from "../../src/charts/ranked-bars.js";

type LegendOptions = Parameters<typeof PlotLibrary.legend>[0];

const {document} = new JSDOM("<!DOCTYPE html><body></body>").window;
/** Legend options drawn into jsdom's document (Plot reads `document`; its types do not list it for legends). */
const inDocument = (options: LegendOptions): LegendOptions => ({...options, document}) as LegendOptions;
/** A threshold ramp: a legend with its own <style>, drawn without the canvas jsdom lacks. */
const threshold = inDocument({color: {type: "threshold", domain: [0.5], range: ["#111", "#999"]}});
const data = [
  {name: "兴庆区", value: 3},
  {name: "金凤区", value: 5}
];

describe("the SDK's Plot", () => {
  it("is the one pages import from the SDK", async () => {
    // (src/index.ts itself needs Framework's import.meta.resolve: read, not imported.)
    const index = await readFile(join(import.meta.dirname, "..", "..", "src", "index.ts"), "utf-8");
    expect(index).toContain('export {Plot} from "./charts/plot.js";');
    expect(index).not.toMatch(/from "@observablehq\/plot"/);
    expect(Plot.barX).toBe(PlotLibrary.barX);
  });
  it("draws charts and legends as Plot does, without their <style> elements", () => {
    const options = {
      document,
      color: {legend: true},
      marks: [Plot.barX(data, {x: "value", y: "name", fill: "name"})]
    };
    // Plot itself puts one in the chart and one in its legend: what the policy refuses.
    expect(PlotLibrary.plot(options).querySelectorAll("style").length).toBe(2);
    const chart = Plot.plot(options);
    expect(chart.querySelectorAll("style").length).toBe(0);
    expect(chart.querySelectorAll("svg [aria-label='bar'] rect").length).toBe(2);
    expect(chart.querySelector(".plot-d6a7b5-swatches")).not.toBeNull();
    const legend = Plot.legend(threshold);
    expect(PlotLibrary.legend(threshold).querySelector("style")).not.toBeNull();
    expect(legend.querySelector("style")).toBeNull();
  });
  it("is what the SDK's chart helpers draw with", () => {
    const bars = rankedBars(data, {label: (d) => d.name, value: (d) => d.value, document});
    expect(bars.querySelector("svg")).not.toBeNull();
    expect(bars.querySelectorAll("style").length).toBe(0);
    const progress = coverageProgress({
      document,
      campaign: {
        id: "ZX2024",
        name: "专项整治",
        start_date: "2024-05-15",
        end_date: "2024-09-27",
        mobilize_by: "2024-05-31",
        self_inspect_by: "2024-06-30",
        rectify_by: "2024-08-31",
        summary_by: "2024-09-27",
        coverage_target_1: 80,
        coverage_deadline_1: "2024-08-31",
        coverage_target_2: 100,
        coverage_deadline_2: "2024-09-27",
        rereview_target: 5,
        big_case_threshold: 5_000_000,
        big_case_report_days: 2
      },
      series: [
        {name: "银川市", week_ending: "2024-05-17", coverage: 0.1},
        {name: "石嘴山市", week_ending: "2024-05-17", coverage: 0.2}
      ]
    });
    expect(progress.querySelector("svg")).not.toBeNull();
    expect(progress.querySelectorAll("style").length).toBe(0);
  });
  it("leaves a node without <style> as it is", () => {
    const div = document.createElement("div");
    div.innerHTML = "<p>文字</p>";
    expect(withoutStyleElements(div).innerHTML).toBe("<p>文字</p>");
  });
});

describe("the site's style sheet", () => {
  it("carries each rule of Plot's <style> elements for its default class name", async () => {
    const css = await readFile(join(import.meta.dirname, "..", "..", "reports", "style.css"), "utf-8");
    const compact = (text: string): string => text.replace(/\s+/g, " ").trim();
    const sheet = compact(css);
    const chart = PlotLibrary.plot({
      document,
      color: {legend: true},
      marks: [PlotLibrary.barX(data, {x: "value", fill: "name"})]
    });
    const ramp = PlotLibrary.legend(threshold);
    const columns = PlotLibrary.legend(inDocument({color: {domain: ["a", "b"]}, columns: "2"}));
    const styles = [chart, ramp, columns].flatMap((node) =>
      Array.from(node.querySelectorAll("style"), (s) => s.textContent ?? "")
    );
    expect(styles.length).toBe(4);
    for (const style of styles)
      for (const rule of style.split(/(?<=\})\s*/).filter((r) => r.trim()))
        expect(sheet, rule).toContain(compact(rule));
  });
});
