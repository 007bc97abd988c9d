import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
