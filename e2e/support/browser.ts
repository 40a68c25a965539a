// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.PALISADE_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** Outside CI a missing browser skips the suite; in CI it fails it (.ci/run installs Chromium). */
export const skipBrowserTests = !hasChromium && !process.env.CI;
export const skipReason = `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set PALISADE_CHROMIUM`;

export function launchChromium(): Promise<Browser> {
  // launch() gives every run a fresh temporary profile (user-data-dir), removed on close
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
