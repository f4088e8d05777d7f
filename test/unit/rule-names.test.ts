// Chinese rule names (src/schema/rule-names.ts): every rule id the ingest can emit has one. The ids are
// read from the code itself (the datasets' row rules and columns, and the rule-id string literals of the
// loaders), so a new rule without a Chinese name fails here.
import {readdir, readFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import type {Column} from "../../src/schema/dataset.js";
import {DATASETS} from "../../src/schema/index.js";
import {hasRuleName, RULE_NAMES, ruleName} from "../../src/schema/rule-names.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** String literals on the scanned lines that are not rule ids: a cell outcome's state (src/schema/dataset.ts). */
const NOT_RULE_IDS = new Set<string>(["fail"]);

const CHINESE = /[\u4e00-\u9fff]/;

/**
 * The TypeScript files under loaders/ (recursively), and src/schema/dataset.ts, whose `parseCell` (the
 * ingest's per-cell step, with its SQL twin `cellSql`) sets the `required` rule.
 */
async function loaderFiles(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "loaders"), {recursive: true});
  return [
    ...entries.filter((e) => e.endsWith(".ts")).map((e) => join(ROOT, "loaders", e)),
    join(ROOT, "src", "schema", "dataset.ts")
  ];
}

/**
 * The files that pass rule ids by position (to helpers such as `reject`, `warn` and `problem`) or write
 * them as SQL literals (`'duplicate-key'`): every kebab-case literal in them counts.
 */
const BY_POSITION = new Set([
  join("loaders", "ingest.ts"),
  join("loaders", "ingest-sql.ts"),
  join("loaders", "sql-rows.ts")
]);

/**
 * The rule ids written as literals in the loaders: every string literal on a line that sets a `rule`
 * (`rule: "note-row"`, `rule: missing ? "required" : …`), and every kebab-case string or SQL literal of
 * the files in {@link BY_POSITION}.
 */
async function literalRuleIds(): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const file of await loaderFiles()) {
    const text = await readFile(file, "utf-8");
    const where = file.slice(ROOT.length + 1);
    for (const line of text.split("\n")) {
      if (!/\brule\s*:/.test(line)) continue;
      for (const [, id] of line.matchAll(/"([^"\\]*)"/g)) if (id && !NOT_RULE_IDS.has(id)) ids.set(id, where);
    }
    if (BY_POSITION.has(where)) {
      for (const [, id] of text.matchAll(/["']([a-z][a-z0-9]*(?:-[a-z0-9_]+)+)["']/g))
        if (id && !NOT_RULE_IDS.has(id)) ids.set(id, where);
    }
  }
  return ids;
}

describe("rule names", () => {
  it("every literal rule id of the loaders has a Chinese name", async () => {
    const ids = await literalRuleIds();
    // Hand-listed: rules present since the first ingest, so that the extraction itself is checked.
    for (const id of ["required", "schema", "note-row", "duplicate-key", "future-date", "unknown-division"])
      expect(ids.has(id), id).toBe(true);
    const unnamed = [...ids].filter(([id]) => !hasRuleName(id)).map(([id, file]) => `${id}（${file}）`);
    expect(unnamed, "在 src/schema/rule-names.ts 中为这些规则加上中文名").toEqual([]);
  });

  it("every dataset row rule has a Chinese name", () => {
    const unnamed = DATASETS.flatMap((ds) => ds.rules.map((r) => r.name)).filter((id) => !hasRuleName(id));
    expect(unnamed).toEqual([]);
  });

  it("a column's own check invalid-<field> is named from the dataset's header, for every column", () => {
    for (const ds of DATASETS) {
      for (const [field, col] of Object.entries(ds.columns) as [string, Column][]) {
        expect(ruleName(`invalid-${field}`, ds.name)).toBe(`「${col.header}」填写有误`);
        expect(hasRuleName(`invalid-${field}`)).toBe(true);
      }
    }
    // Without a dataset, every header of the field: 所属区划 (institutions) and 区划 (weekly_reports).
    expect(ruleName("invalid-division_code")).toBe("「所属区划」或「区划」填写有误");
    expect(ruleName("invalid-amount", "dispositions")).toBe("「处理金额」填写有误");
    expect(hasRuleName("invalid-no_such_field")).toBe(false);
    expect(ruleName("no-such-rule")).toBe("no-such-rule");
  });

  it("every fixed name is Chinese and belongs to a rule the code has (no stale entries)", async () => {
    const emitted = new Set([
      ...(await literalRuleIds()).keys(),
      ...DATASETS.flatMap((ds) => ds.rules.map((r) => r.name))
    ]);
    for (const [id, name] of Object.entries(RULE_NAMES)) {
      expect(name, id).toMatch(CHINESE);
      expect(emitted.has(id), `${id} 已不再使用`).toBe(true);
    }
  });
});
