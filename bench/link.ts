/**
 * A network link for the browser benchmark: a TCP proxy on 127.0.0.1 in front of the site's server
 * that carries every connection over one shared link of a given rate each way with a given round-trip
 * time, as netem would (each byte leaves after the bytes queued before it, at the link's rate, and
 * arrives half the round trip later). Used instead of DevTools' Network.emulateNetworkConditions,
 * which in Chromium 156 headless stalls responses for multiples of about 8 s in about half of all
 * cold loads and carries a 35 MB body at about 38 Mbit/s instead of 100 (reproduced by `npm run bench --
 * --throttle devtools`).
 */
import {createConnection, createServer, type AddressInfo, type Server, type Socket} from "node:net";

export interface LinkOptions {
  /** Bytes per second each way. */
  bytesPerSecond: number;
  /** Round-trip time in ms: half of it is added to each direction. */
  rttMs: number;
}

/** Bytes queued on one direction of one connection beyond which its sender is paused. */
const HIGH_WATER = 256 * 1024;

/** One direction of the link: its rate is shared by every connection sending that way. */
class Direction {
  private freeAt = 0;
  constructor(
    private readonly bytesPerMs: number,
    private readonly delayMs: number
  ) {}
  /** When a chunk of `bytes` handed over now arrives at the other end (ms, performance.now()). */
  arrival(bytes: number): number {
    const now = performance.now();
    this.freeAt = Math.max(now, this.freeAt) + bytes / this.bytesPerMs;
    return this.freeAt + this.delayMs;
  }
}

/** Carries `from`'s bytes to `to` over `direction`, in order, pausing `from` while too much is queued. */
function pipeOver(from: Socket, to: Socket, direction: Direction): void {
  const queue: {at: number; chunk: Buffer}[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const pump = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0]?.at ?? Infinity) <= now) {
      const item = queue.shift();
      if (!item) break;
      queued -= item.chunk.length;
      if (!to.destroyed) to.write(item.chunk);
    }
    if (queued < HIGH_WATER && from.isPaused()) from.resume();
    const head = queue[0];
    if (head) timer = setTimeout(pump, Math.max(0, head.at - now));
    else if (ended && !to.destroyed) to.end();
  };
  from.on("data", (chunk: Buffer) => {
    queue.push({at: direction.arrival(chunk.length), chunk});
    queued += chunk.length;
    if (queued >= HIGH_WATER) from.pause();
    if (!timer) timer = setTimeout(pump, Math.max(0, (queue[0]?.at ?? 0) - performance.now()));
  });
  from.on("end", () => {
    ended = true;
    if (!timer && queue.length === 0 && !to.destroyed) to.end();
  });
  from.on("close", () => {
    if (timer && queue.length === 0) clearTimeout(timer);
  });
}

/** Starts the link in front of `target` (host:port); resolves with its server and address. */
export async function startLink(
  target: {host: string; port: number},
  options: LinkOptions
): Promise<{server: Server; host: string; port: number}> {
  const bytesPerMs = options.bytesPerSecond / 1000;
  const down = new Direction(bytesPerMs, options.rttMs / 2);
  const up = new Direction(bytesPerMs, options.rttMs / 2);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    client.pause();
    const upstream = createConnection(target, () => client.resume());
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    pipeOver(client, upstream, up);
    pipeOver(upstream, client, down);
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroyBoth);
    upstream.on("error", destroyBoth);
    // A closed browser socket ends the server's; the server's end reaches the browser once its queue drained.
    client.on("close", () => upstream.destroy());
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const {port} = server.address() as AddressInfo;
  return {server, host: "127.0.0.1", port};
}
