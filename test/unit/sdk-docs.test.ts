/**
 * SDK reference: every value export of `src/index.ts` is documented, and its examples run.
 *
 * THE CONVENTION (JSDoc on the declaration the export resolves to; English text, Chinese data):
 *
 * 1. A summary: the first paragraph of the comment, before any tag.
 * 2. `@param name - text` for every parameter, in parameter order (a destructured parameter is
 *    matched by position; call it `options`). An optional parameter (`?` or `= value`) states its
 *    default in its text as `(default X)`, e.g. `@param digits - decimals shown (default 1)`.
 * 3. An options object — a parameter named `options`/`opts`, a destructured `{…}` parameter, or
 *    one whose type is an object type with only optional properties (types named `…Filter`, e.g.
 *    `MetricFilter`, `PageFilter`, are filters documented on their own interface, not options) —
 *    gets one tag per option, dotted: `@param options.unit - fixed unit (default "auto")`. Every
 *    optional option states `(default X)` (X a JS literal or a short phrase: `(default all)`,
 *    `(default the data's as-of date)`); a required option needs no default. Nested keys are not
 *    required (`options.filter` is one option).
 * 4. `@returns text` for a function (not for a constant or a class).
 * 5. At least one `@example`. The code may be fenced with ```ts … ``` or not. It runs as the body of
 *    an async function (top-level `await` is fine) whose scope has every SDK value export by name and
 *    `db`, a `FundwatchDatabase` (`db.sql`, `db.query`, `db.tables()`) over native DuckDB holding the
 *    default data (cities 640100 银川市 … 640500 中卫市, as of 2024-09-27, campaign ZX2024), and
 *    `data`, the same tables as plain objects (`MetricData & RecoveryData & ReconcileData`: what the
 *    JS references such as `metricReference` read; `data.calendar` is the holiday calendar's rows). Imports are not needed (and not allowed).
 * 6. Checks: a line `expression; // → literal` (the `;` is optional), or `const x = expression; // → literal`,
 *    asserts that its value (write `await` for a promise) deep-equals (`toEqual`) the JS
 *    literal on the same line. Write exact values as the code computes them; round in code
 *    (`Math.round`, `.toFixed`) rather than in the comment. Every runnable example has at least one check.
 * 7. An example that can only run in a browser starts with the line `// 仅浏览器`; it is type-checked
 *    but not run, and the test lists it. DOM-building helpers run: the browser globals Node lacks
 *    (`document`, `Node`, `HTMLElement`, `location` = http://localhost/districts, `history` …) are jsdom's.
 * 8. Every example is also type-checked (strict, as tsconfig.json) against `src/index.ts`, with
 *    `declare const db: FundwatchDatabase` and `declare const data: …` as above.
 */
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {JSDOM} from "jsdom";
import {tsImport} from "tsx/esm/api";
import ts from "typescript";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {openNativeDb} from "../../bench/native.js";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {buildCube, METRICS} from "../../src/metrics/index.js";
import {DEFAULT_SOURCE, inputDirectory} from "../../loaders/fundwatch-db.js";
import {ingest} from "../../loaders/ingest.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {REEXPORTED_LIBRARIES, sdkDocs, type SdkDoc} from "../../scripts/sdk-docs.js";
import {bigintToNumber, type Row} from "../../src/duckdb/convert.js";
import type * as Sdk from "../../src/index.js";
import type {FundwatchDatabase, ReconcileData, RecoveryData, SqlQuery} from "../../src/index.js";

/**
 * The SDK as pages get it, loaded in beforeAll through Node's own loader (tsx): `src/duckdb/client.ts`
 * calls `import.meta.resolve`, which vitest's module runner does not provide.
 */
let sdk: typeof Sdk;

const ROOT = resolve(import.meta.dirname, "..", "..");
const BROWSER_ONLY = "// 仅浏览器";
/** `expression; // → literal` or `const x = expression; // → literal` (rule 6). */
const CHECK = /^(\s*)(?:(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*)?(.+?);?\s*\/\/\s*→\s*(.+?)\s*$/;

const docs = sdkDocs(ROOT);

interface Example {
  doc: SdkDoc;
  /** 1-based among the export's examples. */
  n: number;
  code: string;
  /** 1-based line of the first line of code in `doc.file`. */
  line: number;
  browserOnly: boolean;
}
const examples: Example[] = docs.flatMap((doc) =>
  doc.examples.map((code, i) => ({
    doc,
    n: i + 1,
    code,
    line: doc.exampleLines[i]!,
    browserOnly: code.trimStart().startsWith(BROWSER_ONLY)
  }))
);
const where = (e: Example, offset = 0) => `${e.doc.file}:${e.line + offset} (${e.doc.name} @example ${e.n})`;

describe("the SDK reference (scripts/sdk-docs.ts)", () => {
  it("lists every value export of src/index.ts except the re-exported libraries", () => {
    const names = Object.keys(sdk).filter((n) => !REEXPORTED_LIBRARIES.includes(n));
    expect(docs.map((d) => d.name).sort()).toEqual(names.sort());
  });

  it("documents every value export by the convention at the top of this file", () => {
    const problems: string[] = [];
    for (const doc of docs) {
      const at = `${doc.file}:${doc.line} ${doc.name}`;
      if (!doc.summary) problems.push(`${at}: no summary`);
      if (doc.examples.length === 0) problems.push(`${at}: no @example`);
      if (doc.kind === "function" && !doc.returns && !/\): void$/.test(doc.signature)) {
        problems.push(`${at}: no @returns`);
      }
      const topLevel = doc.params.filter((p) => !p.name.includes("."));
      doc.parameters.forEach((parameter, i) => {
        const tag = topLevel[i];
        const label = parameter.name ?? `parameter ${i + 1} ({…})`;
        if (!tag || (parameter.name !== null && tag.name !== parameter.name)) {
          problems.push(`${at}: no @param for ${label} (tags in parameter order)`);
          return;
        }
        if (parameter.optional && !/\(default\b/.test(tag.text)) {
          problems.push(`${at}: @param ${tag.name} does not state its default`);
        }
        for (const option of parameter.options ?? []) {
          const optionTag = doc.params.find((p) => p.name === `${tag.name}.${option.name}`);
          if (!optionTag) problems.push(`${at}: no @param ${tag.name}.${option.name}`);
          else if (option.optional && !/\(default\b/.test(optionTag.text)) {
            problems.push(`${at}: @param ${tag.name}.${option.name} does not state its default`);
          }
        }
      });
      if (topLevel.length > doc.parameters.length) {
        problems.push(`${at}: @param ${topLevel[doc.parameters.length]!.name} names no parameter`);
      }
    }
    for (const e of examples) {
      if (!e.browserOnly && !e.code.split("\n").some((l) => CHECK.test(l))) {
        problems.push(`${where(e)}: no \`// →\` check`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** The example as TypeScript a checker accepts: every SDK value export imported, `db` declared. */
const VALUE_NAMES = [...docs.map((d) => d.name), ...REEXPORTED_LIBRARIES];
const HEADER = [
  `import {${VALUE_NAMES.join(", ")}} from ${JSON.stringify(join(ROOT, "src", "index.js"))};`,
  `import type {FundwatchDatabase, RecoveryData, ReconcileData} from ${JSON.stringify(join(ROOT, "src", "index.js"))};`,
  "declare const db: FundwatchDatabase;",
  "declare const data: RecoveryData & ReconcileData;",
  "export async function example(): Promise<void> {"
];

describe("every @example type-checks against src/index.ts", () => {
  it("has no type errors", () => {
    const config = ts.readConfigFile(join(ROOT, "tsconfig.json"), (p) => ts.sys.readFile(p));
    const {options} = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const files = new Map(
      examples.map((e) => [
        join(ROOT, "test", "unit", ".sdk-examples", `${e.doc.name}-${e.n}.ts`),
        {e, text: [...HEADER, e.code, "}", ""].join("\n")}
      ])
    );
    const host = ts.createCompilerHost(options);
    const {getSourceFile, fileExists, readFile} = host;
    host.getSourceFile = (name, language, ...rest) => {
      const file = files.get(name);
      return file
        ? ts.createSourceFile(name, file.text, language, true)
        : getSourceFile.call(host, name, language, ...rest);
    };
    host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
    host.readFile = (name) => files.get(name)?.text ?? readFile.call(host, name);
    const program = ts.createProgram([...files.keys()], {...options, noEmit: true}, host);
    const problems: string[] = [];
    for (const [name, {e}] of files) {
      const source = program.getSourceFile(name)!;
      for (const d of [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source)
      ]) {
        const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
        problems.push(
          `${where(e, line - HEADER.length)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
        );
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);
});

/**
 * The example as a JS function body: each checked line becomes a call of `__check(line, actual,
 * expected)`, then TypeScript is stripped.
 */
function compile(e: Example): string {
  const body = e.code
    .split("\n")
    .map((line, i) => {
      const m = CHECK.exec(line);
      if (!m) return line;
      const [, indent, name, expression, literal] = m;
      return name
        ? `${indent}const ${name} = ${expression}; __check(${i}, ${name}, (${literal}));`
        : `${indent}__check(${i}, (${expression}), (${literal}));`;
    })
    .join("\n");
  const out = ts.transpileModule(`async function __example() {\n${body}\n}`, {
    compilerOptions: {target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext},
    reportDiagnostics: true
  });
  const errors = out.diagnostics ?? [];
  if (errors.length > 0) {
    throw new SyntaxError(
      `${where(e)}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`
    );
  }
  return out.outputText;
}

/** Rows as the browser client gives them: BIGINT as numbers (an error beyond 2^53), never BigInt. */
function plainRow(row: Record<string, unknown>): Row {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? bigintToNumber(v, k) : v])
  ) as Row;
}

let dir: string;
let close: () => void = () => undefined;
let db: FundwatchDatabase;
let data: RecoveryData & ReconcileData;
let dom: JSDOM;
/** The browser globals set for the examples, removed afterwards. */
const added: string[] = [];

beforeAll(async () => {
  sdk = (await tsImport(join(ROOT, "src", "index.ts"), import.meta.url)) as typeof sdk;
  // The default data, ingested and written as the site's loader does, opened by native DuckDB.
  const input = inputDirectory(ROOT);
  const result = await ingest([input], {root: input});
  const table = (name: string) => (result.tables.get(name) ?? []).map(plainRow);
  data = {
    ...Object.fromEntries(
      [
        "divisions",
        "campaigns",
        "institutions",
        "inspections",
        "findings",
        "dispositions",
        "weekly_reports"
      ].map((name) => [name, table(name)])
    ),
    calendar: result.calendar.rows
  } as unknown as typeof data;
  dir = await mkdtemp(join(tmpdir(), "fundwatch-sdk-docs-"));
  const file = join(dir, "fundwatch.duckdb");
  // As the site's loader writes it: the detail tables and the cube (src/metrics/cube.ts).
  await writeDuckDBFile(file, toTables(result, {source: DEFAULT_SOURCE, generatedAt: generationTime()}), {
    after: async (db) => (await buildCube(db, METRICS), [])
  });
  const native = await openNativeDb(file);
  close = native.close;
  const query = async (q: SqlQuery): Promise<Row[]> => {
    try {
      return (await native.db.query(q)).map(plainRow);
    } catch (error) {
      throw new sdk.QueryError(sdk.describeDuckDBError(error), q.text, q.params, error);
    }
  };
  db = {
    sql: (strings, ...values) => query(sdk.sqlQuery(strings, ...values)),
    query,
    async tables() {
      const rows = await query(
        sdk.sqlQuery`SELECT table_name FROM information_schema.tables WHERE table_catalog <> 'system' AND table_catalog <> 'temp' ORDER BY table_name`
      );
      return rows.map((row) => String(row.table_name));
    },
    bundle: "native",
    firstView: false,
    async ready() {},
    get duckdb(): never {
      throw new Error("db.duckdb: 测试中的数据库是原生 DuckDB，没有 DuckDB-WASM 实例");
    }
  };
  // DOM helpers build nodes in the global `document`, as in a page: jsdom's window provides every
  // browser global Node lacks (`window`, `document`, `Node`, `HTMLElement`, `location`, `history` …).
  dom = new JSDOM("<!DOCTYPE html><body></body>", {
    url: "http://localhost/districts",
    pretendToBeVisual: true
  });
  for (const name of Object.getOwnPropertyNames(dom.window)) {
    if (name in globalThis || name.startsWith("_")) continue;
    added.push(name);
    Object.defineProperty(globalThis, name, {
      value: (dom.window as unknown as Record<string, unknown>)[name],
      configurable: true,
      writable: true
    });
  }
}, 120_000);

afterAll(async () => {
  for (const name of added) Reflect.deleteProperty(globalThis, name);
  dom?.window.close();
  close();
  if (dir) await rm(dir, {recursive: true, force: true});
});

const browserOnly = examples.filter((e) => e.browserOnly);
describe("every @example runs on the default data, and its `// →` values hold", () => {
  it(`runs all ${examples.length} examples but ${browserOnly.length} marked ${BROWSER_ONLY}: ${
    browserOnly.map((e) => `${e.doc.name} @example ${e.n}`).join(", ") || "none"
  }`, () => {
    // The mark is the example's first line, so a reader of the docs sees it first.
    for (const e of browserOnly) expect(e.code.split("\n")[0], where(e)).toBe(BROWSER_ONLY);
  });
  for (const e of examples) {
    const title = `${e.doc.name} @example ${e.n} (${e.doc.file}:${e.line})`;
    // Browser-only examples are type-checked (below) and named by the test above; `npm test` counts a
    // skipped test as a failure, so they get no test of their own here.
    if (e.browserOnly) continue;
    it(title, async () => {
      const lines = e.code.split("\n");
      const check = (i: number, actual: unknown, expected: unknown) => {
        expect(actual, `${where(e, i)}: ${lines[i]!.trim()}`).toEqual(expected);
      };
      const scope: Record<string, unknown> = {...sdk, db, data, __check: check};
      // The compiled `async function __example` closes over the scope given as the parameters.
      const run = new Function(...Object.keys(scope), `${compile(e)}\nreturn __example();`) as (
        ...args: unknown[]
      ) => Promise<void>;
      await run(...Object.values(scope));
    });
  }
});
