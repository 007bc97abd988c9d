import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { Config } from '../../src/process/config.js';
import { createTestDeps, truncateAll } from './deps.js';
import { exited, freePort, spawnApi, spawnWorker, waitForApi } from './processes.js';

/** Debian's chromium, driven by playwright-core (`.ci/run` installs it). */
const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether a browser test must be skipped: only when chromium is missing outside CI (in CI it must
 * run). Says so on the console, naming `what`.
 */
export function browserMissing(what: string): boolean {
  const skip = !existsSync(CHROMIUM) && !process.env.CI;
  if (skip) console.warn(`${what} browser test SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium); it always runs when CI is set`);
  return skip;
}

/** Headless chromium without its background traffic (updates, sync), which would muddy the checks of what a page requests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What a page is tested against: a real API and worker process, on a truncated database, and chromium. */
export type BrowserStack = { base: string; browser: Browser; close(): Promise<void> };

export async function startBrowserStack(config: Config): Promise<BrowserStack> {
  const deps = await createTestDeps('api', config);
  await truncateAll(deps);
  await deps.close();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const children = [spawnApi(config, port), spawnWorker(config)];
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => exited(child)));
  };
  try {
    [browser] = await Promise.all([launchChromium(), waitForApi(base)]);
    return { base, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}
