import {describe, expect, it} from "vitest";
import {parseAmount} from "../../src/parse/amount.js";

function fen(text: string, unit?: "元" | "万元" | "亿元"): bigint {
  const result = parseAmount(text, unit);
  if (!result.ok) throw new Error(result.reason);
  return result.fen;
}

describe("parseAmount(text, defaultUnit)", () => {
  it("parses yuan with cents exactly", () => {
    expect(fen("24253.33")).toBe(2_425_333n);
    expect(fen("12,946.92")).toBe(1_294_692n);
    expect(fen("2114.5元")).toBe(211_450n);
  });
  it("scales 万元 and 亿元 to fen without floats", () => {
    expect(fen("182.69万元")).toBe(182_690_000n);
    expect(fen("1.8万元")).toBe(1_800_000n);
    expect(fen("5189.52万元")).toBe(5_189_520_000n);
    expect(fen("0.5亿元")).toBe(5_000_000_000n);
    expect(fen("35", "万元")).toBe(35_000_000n);
  });
  it("normalizes full-width digits and separators (NFKC)", () => {
    expect(fen("１２，９４６．９２")).toBe(1_294_692n);
    expect(fen(" 11 万元 ")).toBe(11_000_000n);
  });
  it("never turns a blank into zero", () => {
    for (const blank of ["", "  ", "-", "—", "无"])
      expect(parseAmount(blank)).toEqual({ok: false, reason: "金额为空"});
  });
  it("refuses vague amounts instead of guessing", () => {
    for (const vague of ["约1.8万", "9千多", "2031余", "近50万元", "10万元左右"]) {
      const result = parseAmount(vague);
      expect(result.ok).toBe(false);
    }
  });
  it("refuses malformed numbers and sub-fen precision", () => {
    expect(parseAmount("abc")).toMatchObject({ok: false});
    expect(parseAmount("1,23.4")).toMatchObject({ok: false});
    expect(parseAmount("1.234元")).toMatchObject({ok: false, reason: expect.stringMatching(/精度/)});
    expect(fen("1.2345万元")).toBe(1_234_500n);
  });
  it("keeps the sign", () => {
    expect(fen("-12.5")).toBe(-1250n);
  });
});
