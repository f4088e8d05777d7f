import {describe, expect, it} from "vitest";
import {dateParts, formatDate, formatDateTime} from "../../src/format/date.js";
import {compareZh, formatCount} from "../../src/format/text.js";

describe("formatDate(value)", () => {
  it("writes dates the Chinese way", () => {
    expect(formatDate("2024-05-10")).toBe("2024年5月10日");
    expect(formatDate("2024-10-31T00:00:00Z")).toBe("2024年10月31日");
    expect(formatDate(new Date(Date.UTC(2024, 7, 31)))).toBe("2024年8月31日");
  });
  it("rejects impossible and non-ISO dates", () => {
    expect(() => formatDate("2024-02-30")).toThrow(/不存在/);
    expect(() => formatDate("2024/5/10")).toThrow(/ISO/);
    expect(() => dateParts(new Date(Number.NaN))).toThrow(/无效/);
  });
  it("shows a dash for null", () => {
    expect(formatDate(null)).toBe("—");
  });
  it("formats date-times in Beijing time by default", () => {
    expect(formatDateTime(new Date("2026-11-23T09:06:00Z"))).toBe("2026年11月23日 17:06");
    expect(formatDateTime(new Date("2026-11-23T09:06:00Z"), {timeZone: "UTC"})).toBe("2026年11月23日 09:06");
    // Single-digit months and days are not padded (ICU 78 pads them in en-CA).
    expect(formatDateTime(new Date("2024-05-09T16:05:00Z"))).toBe("2024年5月10日 00:05");
    expect(formatDateTime(new Date("2024-01-01T01:02:00Z"), {timeZone: "UTC"})).toBe("2024年1月1日 01:02");
  });
});

describe("Chinese text helpers", () => {
  it("sorts names in pinyin order", () => {
    expect(["永宁县", "贺兰县", "灵武市", "兴庆区", "金凤区", "西夏区"].sort(compareZh)).toEqual([
      "贺兰县",
      "金凤区",
      "灵武市",
      "西夏区",
      "兴庆区",
      "永宁县"
    ]);
  });
  it("formats counts with separators and units", () => {
    expect(formatCount(1722, "条")).toBe("1,722条");
    expect(formatCount(null)).toBe("—");
  });
});
