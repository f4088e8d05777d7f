import {createHash} from "node:crypto";
import {createConnection, createServer, type AddressInfo, type Server} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {startLink} from "../../bench/link.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server that answers every line it reads with `size` bytes of a pattern seeded by the line. */
async function patternServer(size: number): Promise<number> {
  const server = createServer((socket) => {
    socket.once("data", (line) => {
      const seed = line.toString().trim().charCodeAt(0);
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; ++i) body[i] = (seed + i * 7) % 251;
      socket.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

function fetchThrough(port: number, seed: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({host: "127.0.0.1", port}, () => socket.write(`${seed}\n`));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}

const digest = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("bench link emulator", () => {
  it("carries every byte in order on concurrent connections", async () => {
    const size = 700_000;
    const target = await patternServer(size);
    const link = await startLink({host: "127.0.0.1", port: target}, {bytesPerSecond: 20_000_000, rttMs: 2});
    servers.push(link.server);
    const [a, b, direct] = await Promise.all([
      fetchThrough(link.port, "a"),
      fetchThrough(link.port, "b"),
      fetchThrough(target, "a")
    ]);
    expect(a.length).toBe(size);
    expect(b.length).toBe(size);
    expect(digest(a)).toBe(digest(direct));
    expect(digest(a)).not.toBe(digest(b));
  });

  it("shares one rate among connections: the bytes cannot arrive sooner than the link carries them", async () => {
    const size = 500_000;
    const target = await patternServer(size);
    const bytesPerSecond = 5_000_000;
    const link = await startLink({host: "127.0.0.1", port: target}, {bytesPerSecond, rttMs: 2});
    servers.push(link.server);
    const start = performance.now();
    await Promise.all([fetchThrough(link.port, "a"), fetchThrough(link.port, "b")]);
    // A lower bound only (a slow machine is slower still): 1 MB at 5 MB/s is at least 200 ms.
    expect(performance.now() - start).toBeGreaterThanOrEqual(((2 * size) / bytesPerSecond) * 1000 - 5);
  });
});
