import {JSDOM} from "jsdom";
import {describe, expect, it} from "vitest";
import {sortableTable} from "../../src/ui/table.js";

const {document} = new JSDOM("<!DOCTYPE html><body></body>").window;
const rows = [
  {code: "640104", name: "兴庆区", fen: 300, note: "<img src=x onerror=alert(1)>"},
  {code: "640105", name: "西夏区", fen: null, note: "a"},
  {code: "640106", name: "金凤区", fen: 1200, note: "b"}
];
const table = (href?: (r: (typeof rows)[number]) => string | null) =>
  sortableTable(rows, {
    document,
    caption: "测试",
    key: (r) => r.code,
    columns: [
      {label: "县区", value: (r) => r.name, ...(href ? {href} : {})},
      {label: "金额", value: (r) => r.fen, metric: "amount_fen"},
      {label: "说明", value: (r) => r.note}
    ]
  });
const column = (t: HTMLTableElement, i: number) =>
  Array.from(t.tBodies[0]!.rows, (tr) => tr.cells[i]!.textContent);

describe("sortableTable", () => {
  it("sorts by a header button: numbers largest first, missing values always last, then ascending", () => {
    const t = table();
    const [, amount] = Array.from(t.querySelectorAll("th button")) as HTMLButtonElement[];
    amount!.click();
    expect(column(t, 0)).toEqual(["金凤区", "兴庆区", "西夏区"]);
    expect(t.tHead!.rows[0]!.cells[1]!.getAttribute("aria-sort")).toBe("descending");
    amount!.click();
    expect(column(t, 0)).toEqual(["兴庆区", "金凤区", "西夏区"]);
    expect(t.tHead!.rows[0]!.cells[1]!.getAttribute("aria-sort")).toBe("ascending");
    expect(t.tHead!.rows[0]!.cells[0]!.getAttribute("aria-sort")).toBe("none");
  });
  it("sorts text in pinyin order", () => {
    const t = table();
    (t.querySelector("th button") as HTMLButtonElement).click();
    expect(column(t, 0)).toEqual(["金凤区", "西夏区", "兴庆区"]);
  });
  it("headers are buttons (keyboard operable) and cells carry their raw value and unit", () => {
    const t = table();
    expect(t.querySelectorAll("th[scope=col] > button[type=button]")).toHaveLength(3);
    const cell = t.querySelector("td[data-metric=amount_fen][data-unit='640106']") as HTMLElement;
    expect(cell.dataset.value).toBe("1200");
    expect(
      t.querySelector("td[data-metric=amount_fen][data-unit='640105']")!.getAttribute("data-value")
    ).toBe("");
  });
  it("renders data as text, never as HTML", () => {
    const t = table();
    expect(t.querySelector("img")).toBeNull();
    expect(column(t, 2)).toContain("<img src=x onerror=alert(1)>");
  });
  it("links cells to site addresses only", () => {
    const t = table((r) =>
      r.code === "640104" ? "javascript:alert(1)" : r.code === "640105" ? "//evil.example/" : `./${r.code}`
    );
    const links = Array.from(t.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["./640106"]);
    expect(column(t, 0)).toEqual(["兴庆区", "西夏区", "金凤区"]);
  });
});
