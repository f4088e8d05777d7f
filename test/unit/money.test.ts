import {describe, expect, it} from "vitest";
import {autoMoneyUnit, fenToYuan, formatMoney, toFen} from "../../src/format/money.js";

describe("formatMoney(fen, options)", () => {
  it("picks 元 below 1万元, 万元 below 1亿元, 亿元 above", () => {
    expect(formatMoney(995_200)).toBe("9,952.00元");
    expect(formatMoney(3_851_322)).toBe("3.85万元");
    expect(formatMoney(236_261_347)).toBe("236.26万元");
    expect(formatMoney(51_895_200_00)).toBe("5,189.52万元");
    expect(formatMoney(123_456_789_000n)).toBe("12.35亿元");
  });
  it("shows cents exactly in 元", () => {
    expect(formatMoney(3_851_322, {unit: "元"})).toBe("38,513.22元");
    expect(formatMoney(1, {unit: "元"})).toBe("0.01元");
    expect(formatMoney(211_450, {unit: "元"})).toBe("2,114.50元");
  });
  it("rounds half away from zero, on integers only", () => {
    expect(formatMoney(5_000, {unit: "万元"})).toBe("0.01万元");
    expect(formatMoney(4_999, {unit: "万元"})).toBe("0.00万元");
    expect(formatMoney(-5_000, {unit: "万元"})).toBe("-0.01万元");
    expect(formatMoney(182_690_000, {unit: "万元", digits: 0})).toBe("183万元");
  });
  it("accepts BigInt beyond 2^53 without losing a fen", () => {
    expect(formatMoney(9_007_199_254_740_993n, {unit: "元"})).toBe("90,071,992,547,409.93元");
  });
  it("can drop the unit suffix", () => {
    expect(formatMoney(110_000_00, {unit: "万元", suffix: false})).toBe("11.00");
  });
  it("shows a dash for null and undefined", () => {
    expect(formatMoney(null)).toBe("—");
    expect(formatMoney(undefined)).toBe("—");
  });
  it("refuses fractions of a fen, which mean a float sum upstream", () => {
    expect(() => formatMoney(0.1 + 0.2)).toThrow(/整数分/);
    expect(() => toFen(Number.NaN)).toThrow(/有限/);
    expect(() => toFen(2 ** 60)).toThrow(/安全整数/);
    expect(() => formatMoney(100, {digits: 9})).toThrow(/digits/);
  });
});

describe("autoMoneyUnit and fenToYuan", () => {
  it("uses the absolute value", () => {
    expect(autoMoneyUnit(-2_000_000)).toBe("万元");
    expect(autoMoneyUnit(999_999)).toBe("元");
    expect(autoMoneyUnit(10_000_000_000n)).toBe("亿元");
  });
  it("converts fen to yuan for chart scales", () => {
    expect(fenToYuan(3_851_322)).toBe(38_513.22);
  });
});
