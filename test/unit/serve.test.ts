import {mkdtemp, mkdir, rm, writeFile} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {CSP} from "../../scripts/csp.js";
import {isImmutable, startServer} from "../../scripts/serve.js";

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-serve-"));
  await mkdir(join(dir, "_node", "x"), {recursive: true});
  await writeFile(join(dir, "index.html"), "<p>总览</p>");
  await writeFile(join(dir, "about.html"), "<p>数据说明</p>");
  await writeFile(join(dir, "_node", "x", "a.0123abcd.wasm"), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  await writeFile(join(tmpdir(), "fundwatch-secret.txt"), "secret");
  ({server, url: base} = await startServer({root: dir}));
});
afterAll(async () => {
  server.close();
  await rm(dir, {recursive: true, force: true});
});

describe("startServer({root})", () => {
  it("listens on loopback only", () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
  it("serves clean URLs, HTML uncached", async () => {
    const response = await fetch(new URL("about", base));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("<p>数据说明</p>");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await (await fetch(base)).text()).toBe("<p>总览</p>");
  });
  it("serves .wasm as application/wasm, hashed assets immutable, and honours ranges", async () => {
    const url = new URL("_node/x/a.0123abcd.wasm", base);
    const whole = await fetch(url);
    expect(whole.headers.get("content-type")).toBe("application/wasm");
    expect(whole.headers.get("cache-control")).toContain("immutable");
    const part = await fetch(url, {headers: {Range: "bytes=1-3"}});
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 1-3/8");
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe("asm");
    expect((await fetch(url, {headers: {Range: "bytes=99-"}})).status).toBe(416);
  });
  it("keeps version-pinned node imports (unhashed wasm) for a year, nothing else unhashed", () => {
    expect(isImmutable("/_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm")).toBe(true);
    expect(isImmutable("/_node/d3@7.9.2/index.c8f1bfbe.js")).toBe(true);
    expect(isImmutable("/_import/sdk/index.f36c50f7.js")).toBe(true);
    expect(isImmutable("/_node/x/a.wasm")).toBe(false);
    expect(isImmutable("/_file/data/fundwatch.duckdb")).toBe(false);
    expect(isImmutable("/briefing.json")).toBe(false);
  });
  it("answers a revalidation of an unchanged file with 304 and no body", async () => {
    const first = await fetch(new URL("about", base));
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^W\/"/);
    const again = await fetch(new URL("about", base), {headers: {"If-None-Match": etag ?? ""}});
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const other = await fetch(new URL("about", base), {headers: {"If-None-Match": 'W/"0-0"'}});
    expect(other.status).toBe(200);
  });
  it("sends the site's Content-Security-Policy, nosniff and no-referrer with every answer", async () => {
    const wasm = new URL("_node/x/a.0123abcd.wasm", base);
    const etag = (await fetch(new URL("about", base))).headers.get("etag") ?? "";
    const answers = [
      await fetch(base),
      await fetch(new URL("about", base)),
      await fetch(wasm),
      await fetch(wasm, {headers: {Range: "bytes=1-3"}}),
      await fetch(wasm, {headers: {Range: "bytes=99-"}}),
      await fetch(new URL("about", base), {headers: {"If-None-Match": etag}}),
      await fetch(new URL("nope", base)),
      await fetch(base, {method: "POST"})
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 206, 416, 304, 404, 405]);
    for (const answer of answers) {
      expect(answer.headers.get("content-security-policy")).toBe(CSP);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });
  it("answers 404 for missing files and paths that climb out of the root", async () => {
    expect((await fetch(new URL("nope", base))).status).toBe(404);
    expect((await fetch(new URL("%2e%2e/fundwatch-secret.txt", base))).status).toBe(404);
    expect((await fetch(`${base}..%2f..%2ffundwatch-secret.txt`)).status).toBe(404);
  });
});
