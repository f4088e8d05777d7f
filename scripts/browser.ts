/**
 * Headless Debian Chromium through playwright-core. Playwright cannot download its own browser here,
 * so Chromium must come from the system; when it is missing we fail at once and say how to install it.
 */
import {existsSync} from "node:fs";
import {chromium, type Browser} from "playwright-core";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(
  (p): p is string => !!p
);

export const CHROMIUM_MISSING =
  "找不到 Chromium：浏览器测试需要系统 Chromium 和中文字体。请运行：\n" +
  "  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk\n" +
  "（或设置 CHROMIUM_PATH 指向 Chromium 可执行文件）";

/** The first Chromium found among `candidates`; throws {@link CHROMIUM_MISSING} if none exists. */
export function findChromium(candidates: readonly string[] = CANDIDATES): string {
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(CHROMIUM_MISSING);
  return path;
}

/** Flags that keep Chromium from reaching anything on its own (see PLATFORM-NOTES). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-domain-reliability",
  "--metrics-recording-only",
  "--no-pings"
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS});
}
