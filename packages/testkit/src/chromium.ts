/**
 * Launches the system's Chromium through playwright-core, for browser tests and screenshots.
 * Never downloads a browser: CI images and dev boxes install Chromium with the OS package manager.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { chromium, type Browser } from "playwright-core";
import { ThroughlineError } from "@throughline/wire";

/** Chromium flags for a quiet, deterministic headless run on a small CI box. */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--headless",
  // Containers usually lack the user namespaces Chromium's sandbox needs.
  "--no-sandbox",
  "--disable-gpu",
  // No background traffic: tests watch sockets, and there is no internet anyway.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Loopback tests are about TCP transports; QUIC would only add noise.
  "--disable-quic",
]);

export interface LaunchChromiumOptions {
  /**
   * Path of the Chromium executable.
   * @default process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
   */
  readonly executablePath?: string;
  /**
   * Extra command-line flags, appended to `CHROMIUM_ARGS`.
   * @default []
   */
  readonly args?: readonly string[];
  /**
   * How long to wait for the browser to start, in ms.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

/** Defaults of `launchChromium()` (the executable path is read from the environment at call time). */
export const CHROMIUM_DEFAULTS = Object.freeze({
  executablePath: "/usr/bin/chromium",
  args: Object.freeze([] as string[]),
  timeoutMs: 30_000,
});

/**
 * Starts a headless Chromium. Close it with `browser.close()` in teardown.
 * @throws ThroughlineError TL_INVALID_OPTION when the executable is missing (with how to install it).
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? process.env.CHROMIUM_PATH ?? CHROMIUM_DEFAULTS.executablePath;
  try {
    await access(executablePath, constants.X_OK);
  } catch (cause) {
    throw new ThroughlineError(
      "TL_INVALID_OPTION",
      `no Chromium executable at ${executablePath}. Install it with \`apt-get install chromium\` ` +
        "(or point CHROMIUM_PATH at an existing Chromium); browsers are never downloaded.",
      { cause },
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? CHROMIUM_DEFAULTS.args)],
    timeout: options.timeoutMs ?? CHROMIUM_DEFAULTS.timeoutMs,
  });
}
