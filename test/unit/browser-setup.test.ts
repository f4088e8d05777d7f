import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {CHROMIUM_MISSING, findChromium} from "../../scripts/browser.js";
import {setLang} from "../../scripts/build.js";

describe("findChromium(candidates)", () => {
  it("fails at once, saying how to install Chromium, when none is present", () => {
    expect(() => findChromium(["/nonexistent/chromium"])).toThrow(CHROMIUM_MISSING);
    expect(CHROMIUM_MISSING).toContain("apt-get install -y chromium fonts-noto-cjk");
  });
  it("returns the first candidate that exists", () => {
    expect(findChromium(["/nonexistent/chromium", process.execPath])).toBe(process.execPath);
  });
});

describe("setLang(outDir)", () => {
  it("marks every built page as zh-CN and refuses a page it cannot mark", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-lang-"));
    try {
      await writeFile(join(dir, "a.html"), "<!DOCTYPE html>\n<html>\n<head></head></html>");
      expect(await setLang(dir)).toBe(1);
      expect(await readFile(join(dir, "a.html"), "utf-8")).toContain('<html lang="zh-CN">\n');
      expect(await setLang(dir)).toBe(1);
      await writeFile(join(dir, "b.html"), "<html lang=en><head></head></html>");
      await expect(setLang(dir)).rejects.toThrow(/b\.html.*lang/);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});
