import fc from "fast-check";
import {describe, expect, it} from "vitest";
import {
  excelSerialToIso,
  isMissing,
  normalizeHeader,
  parseAmountFen,
  parseBool,
  parseCount,
  parseDate,
  parsePercent,
  type Cell,
  type Parsed
} from "../../src/parse/values.js";
import {fenText, fenWanText} from "../../scripts/gen-data.js";

function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

describe("parseAmountFen(cell, unit)", () => {
  it("reads the forms districts write, exactly", () => {
    expect(value(parseAmountFen("12,946.92元"))).toBe(1_294_692n);
    expect(value(parseAmountFen("24253.33"))).toBe(2_425_333n);
    expect(value(parseAmountFen("1.8万元"))).toBe(1_800_000n);
    expect(value(parseAmountFen("182.69万"))).toBe(182_690_000n);
    expect(value(parseAmountFen("0.35亿"))).toBe(3_500_000_000n);
    expect(value(parseAmountFen("１２，９４６．９２"))).toBe(1_294_692n);
    expect(value(parseAmountFen("￥2,114.50"))).toBe(211_450n);
    expect(value(parseAmountFen(12946.92))).toBe(1_294_692n);
    expect(value(parseAmountFen("35", "万元"))).toBe(35_000_000n);
    expect(value(parseAmountFen(1.294692, "万元"))).toBe(1_294_692n);
  });
  it("never turns a blank into zero", () => {
    for (const blank of ["", " ", "-", "—", "无", null, undefined] as Cell[])
      expect(parseAmountFen(blank)).toMatchObject({ok: false, reason: "金额为空"});
  });
  it("refuses vague, malformed and sub-fen amounts, and Excel errors", () => {
    for (const bad of [
      "约1.8万",
      "9千多",
      "2031余",
      "近50万元",
      "10万元左右",
      "abc",
      "1,23.4",
      "1.234元",
      "1e5"
    ]) {
      expect(parseAmountFen(bad).ok, bad).toBe(false);
    }
    expect(parseAmountFen({error: "#REF!"})).toMatchObject({ok: false, reason: "单元格错误：#REF!"});
    expect(parseAmountFen("1.234元")).toMatchObject({ok: false, reason_en: expect.stringContaining("fen")});
  });
  it("round-trips any amount written in 元, 万元, full width or grouped by thousands (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({min: 0n, max: 10n ** 14n}), (fen) => {
        const yuan = fenText(fen);
        expect(value(parseAmountFen(yuan))).toBe(fen);
        expect(value(parseAmountFen(`${fenWanText(fen)}万元`))).toBe(fen);
        expect(value(parseAmountFen(fenWanText(fen), "万元"))).toBe(fen);
        const grouped = yuan.replace(/\B(?=(\d{3})+(?!\d))(?=[^.]*\.)/g, ",");
        expect(value(parseAmountFen(grouped))).toBe(fen);
        const fullWidth = yuan.replace(/[0-9.]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
        expect(value(parseAmountFen(fullWidth))).toBe(fen);
      })
    );
  });
});

describe("parseDate(cell, {date1904})", () => {
  it("reads every common spelling as the same day", () => {
    for (const cell of [
      "2024年5月10日",
      "2024/5/10",
      "2024-05-10",
      "2024.5.10",
      "20240510",
      " 2024 年 5 月 10 日 ",
      45422,
      new Date(Date.UTC(2024, 4, 10))
    ] as Cell[]) {
      expect(value(parseDate(cell)), String(cell)).toBe("2024-05-10");
    }
    expect(value(parseDate(45422 - 1462, {date1904: true}))).toBe("2024-05-10");
  });
  it("refuses impossible dates and Excel's phantom 1900-02-29", () => {
    expect(parseDate("2024年2月30日")).toMatchObject({ok: false, reason: "不存在的日期：2024年2月30日"});
    expect(parseDate("2023-02-29").ok).toBe(false);
    expect(excelSerialToIso(60).ok).toBe(false);
    expect(value(excelSerialToIso(59))).toBe("1900-02-28");
    expect(value(excelSerialToIso(61))).toBe("1900-03-01");
    expect(parseDate("下周五").ok).toBe(false);
    expect(parseDate("").ok).toBe(false);
  });
  it("agrees across spellings and date systems for any day (property)", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("1905-01-01T00:00:00Z"),
          max: new Date("2099-12-31T00:00:00Z"),
          noInvalidDate: true
        }),
        (d) => {
          const iso = d.toISOString().slice(0, 10);
          const [y, m, day] = iso.split("-").map(Number) as [number, number, number];
          const serial1900 = Math.round((Date.UTC(y, m - 1, day) - Date.UTC(1899, 11, 30)) / 86_400_000);
          const serial1904 = serial1900 - 1462;
          expect(value(parseDate(`${y}年${m}月${day}日`))).toBe(iso);
          expect(value(parseDate(`${y}/${m}/${day}`))).toBe(iso);
          expect(value(parseDate(serial1900))).toBe(iso);
          expect(value(parseDate(serial1904, {date1904: true}))).toBe(iso);
        }
      )
    );
  });
});

describe("parseCount, parsePercent, parseBool, isMissing", () => {
  it("reads counts with separators, units and full-width digits; refuses the rest", () => {
    expect(value(parseCount("1,722"))).toBe(1722);
    expect(value(parseCount("１７２２条"))).toBe(1722);
    expect(value(parseCount(91))).toBe(91);
    for (const bad of ["abc", "1.5", "-3", "9千多", "", 2.5] as Cell[])
      expect(parseCount(bad).ok, String(bad)).toBe(false);
  });
  it("keeps codes as text (0951 is not 951)", () => {
    expect(isMissing("0951")).toBe(false);
  });
  it("reads percentages in points", () => {
    expect(value(parsePercent("80%"))).toBe(80);
    expect(value(parsePercent("５％"))).toBe(5);
    expect(parsePercent("120%").ok).toBe(false);
  });
  it("reads yes/no, where 无 means no", () => {
    expect(["是", "有", "Y", "1", "√", true, 1].map((c) => value(parseBool(c as Cell)))).toEqual(
      Array(7).fill(true)
    );
    expect(["否", "无", "N", "0", "×", false, 0].map((c) => value(parseBool(c as Cell)))).toEqual(
      Array(7).fill(false)
    );
    expect(parseBool("也许").ok).toBe(false);
  });
  it("parses any non-negative integer written with separators (property)", () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: Number.MAX_SAFE_INTEGER}), (n) => {
        expect(value(parseCount(n.toLocaleString("en-US")))).toBe(n);
      })
    );
  });
  it("treats any run of white space as missing, never as zero (property)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ \t\u3000]*$/), (blank) => {
        expect(isMissing(blank)).toBe(true);
        expect(parseAmountFen(blank).ok).toBe(false);
        expect(parseCount(blank).ok).toBe(false);
      })
    );
  });
});

describe("normalizeHeader(raw)", () => {
  it("tolerates spaces, full-width brackets and unit suffixes", () => {
    expect(normalizeHeader("金额(元)")).toEqual({name: "金额", unit: "元"});
    expect(normalizeHeader("金额（万元）")).toEqual({name: "金额", unit: "万元"});
    expect(normalizeHeader(" 涉及 金额 （ 万元 ） ")).toEqual({name: "涉及金额", unit: "万元"});
    expect(normalizeHeader("追回金额【亿元】")).toEqual({name: "追回金额", unit: "亿元"});
    expect(normalizeHeader("金额(单位:元)")).toEqual({name: "金额", unit: "元"});
    expect(normalizeHeader("检查日期")).toEqual({name: "检查日期", unit: null});
    expect(normalizeHeader("元旦")).toEqual({name: "元旦", unit: null});
  });
});
