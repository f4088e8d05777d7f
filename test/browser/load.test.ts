// A release swap under load: a real nginx serves release A of a fixture site under /reports/fund/
// while wrk requests every file and page of it (2 threads, 16 connections, 10 s); in the middle
// deploy/install.sh installs release B. No request may fail, and B must really be served afterwards.
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {formatLoadTable, parseLuaCounts, parseWrkOutput, runLoad, type LoadResult} from "../../bench/load.js";
import {writeFixtureSite} from "../support/release-fixture.js";

let dir: string;
let result: LoadResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-load-test-"));
  await writeFixtureSite(join(dir, "site"), "A");
  result = await runLoad({
    site: join(dir, "site"),
    durationSeconds: 10,
    threads: 2,
    connections: 16,
    log: () => {}
  });
  console.error(formatLoadTable(result));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe("a release swap under load (nginx + wrk)", () => {
  it("serves every request: no socket error, no non-2xx response", () => {
    expect(result.problems).toEqual([]);
    expect(result.wrk.socketErrors).toEqual({connect: 0, read: 0, write: 0, timeout: 0});
    expect(result.lua.non2xx).toBe(0);
    expect(result.wrk.non2xxText).toBe(0);
    expect(result.lua.statuses).toEqual({"2xx": result.lua.responses});
    expect(result.nginxErrors).toEqual([]);
  });

  it("counts the same requests in Lua as wrk does, with gzip on some", () => {
    expect(result.lua.responses).toBeGreaterThan(1000);
    // wrk's total may include requests cut off when the time ran out.
    expect(Math.abs(result.wrk.requests - result.lua.responses)).toBeLessThanOrEqual(
      result.config.connections
    );
    expect(result.wrk.requestsPerSecond).toBeGreaterThan(0);
    expect(result.wrk.latencyMs.p99).toBeGreaterThanOrEqual(result.wrk.latencyMs.p50);
    expect(result.lua.gzip).toBeGreaterThan(0);
    expect(result.lua.gzip).toBeLessThan(result.lua.responses);
  });

  it("swapped during the load: A served before, B after, current at B at the end", () => {
    expect(result.swap.startedSeconds).toBeGreaterThan(1);
    expect(result.swap.finishedSeconds).toBeLessThan(result.wrk.durationSeconds);
    expect(result.swap.currentAtEnd).toBe(`releases/${result.releases.b}`);
    expect(result.lua.lastModified.a).toBeGreaterThan(0);
    expect(result.lua.lastModified.b).toBeGreaterThan(0);
    // "other": responses without Last-Modified (deploy/nginx rewrites 404.html with sub_filter, which drops it).
    const served = result.swap.servedFrom!;
    expect(served.aBeforeSwap).toBeGreaterThan(0);
    expect(served.bAfterSwap).toBeGreaterThan(0);
    expect(served.bBeforeSwap).toBe(0);
    expect(result.swap.changedPageIsB).toBe(true);
    expect(result.swap.oldDataFileStatus).toBe(200);
  });

  it("renders the figures as a markdown table", () => {
    const table = formatLoadTable(result).split("\n");
    expect(table).toHaveLength(3);
    expect(table[0]).toContain("请求/秒 req/s");
    expect(table[2]).toContain("| 0/0/0/0 | 0 |");
  });
});

describe("a swap that breaks URLs (negative control)", () => {
  it("counts the failed requests and reports them", async () => {
    const broken = await runLoad({
      site: join(dir, "site"),
      durationSeconds: 4,
      swapAtSeconds: 1,
      threads: 1,
      connections: 4,
      removeFromB: ["retired.html"],
      log: () => {}
    });
    expect(broken.lua.non2xx).toBeGreaterThan(0);
    expect(broken.lua.statuses["4xx"]).toBe(broken.lua.non2xx);
    expect(broken.wrk.non2xxText).toBe(broken.lua.non2xx);
    expect(broken.problems.join("\n")).toMatch(/非 2xx 响应 \d+ 个.*404 .*retired/);
  });
});

describe("parsing wrk's output", () => {
  const text = `Running 10s test @ http://127.0.0.1:8080
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    4.10ms  90.21ms   95.12%
    Req/Sec    10.01k     1.20k   12.00k    70.00%
  Latency Distribution
     50%  412.00us
     75%    1.01ms
     90%    3.20ms
     99%   21.50ms
  199123 requests in 10.01s, 1.50GB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 12
Requests/sec:  19892.41
Transfer/sec:    153.45MB
FUNDWATCH_THREAD responses=100000 non2xx=5 gzip=10 lm_a=60000 lm_b=40000 lm_other=0 1xx=0 2xx=99995 3xx=0 4xx=5 5xx=0
FUNDWATCH_THREAD responses=99123 non2xx=7 gzip=11 lm_a=59123 lm_b=40000 lm_other=0 1xx=0 2xx=99116 3xx=0 4xx=0 5xx=7
`;
  it("reads throughput, latency percentiles, socket errors and non-2xx", () => {
    const wrk = parseWrkOutput(text);
    expect(wrk.requests).toBe(199123);
    expect(wrk.durationSeconds).toBeCloseTo(10.01);
    expect(wrk.requestsPerSecond).toBe(19892.41);
    expect(wrk.latencyMs).toEqual({p50: 0.412, p75: 1.01, p90: 3.2, p99: 21.5, max: 90.21});
    expect(wrk.socketErrors).toEqual({connect: 0, read: 2, write: 0, timeout: 7});
    expect(wrk.non2xxText).toBe(12);
  });
  it("sums the Lua hooks' counts over threads", () => {
    expect(parseLuaCounts(text)).toEqual({
      responses: 199123,
      non2xx: 12,
      statuses: {"2xx": 199111, "4xx": 5, "5xx": 7},
      gzip: 21,
      lastModified: {a: 119123, b: 80000, other: 0}
    });
  });
});
