// Shared setup of the browser suite: Debian's Chromium, headless, with a fresh profile, and the
// portal's address from PORTAL_URL (scripts/test starts the real binary on 127.0.0.1).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PORTAL = process.env.PORTAL_URL ?? 'http://127.0.0.1:3000';
const SCREENSHOTS = new URL('../screenshots/', import.meta.url).pathname;

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--window-size=1280,900',
];

/** Starts Chromium with a throwaway profile; `close()` removes it. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'audit-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    // Every page must work without JavaScript: the suite proves it by running with none.
    javaScriptEnabled: false,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the worker's first refresh has put `key` into the inventory. */
export async function waitForService(key, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${PORTAL}/api/services`);
    if (response.ok) {
      const services = await response.json();
      if (services.some((s) => s.key === key)) return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`service ${key} did not appear within ${timeoutMs} ms`);
}
