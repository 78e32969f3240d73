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
  // Nothing but 127.0.0.1 resolves: the test provider's pages link a web font, and no test
  // traffic may leave this machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
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
  // And should anything try anyway, the browser drops it before it is sent.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' || host === 'localhost' ? route.continue() : route.abort();
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

/**
 * Signs in through the real OpenID Connect provider started by scripts/test: the portal sends
 * the browser to the provider's login form, then its consent form, then back to the portal.
 */
export async function signIn(context, login, next = '/') {
  const page = await context.newPage();
  await page.goto(`${PORTAL}${next}`);
  await page.waitForURL(/\/interaction\//);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await page.locator('button[type="submit"]').click();
  await page.waitForLoadState();
  // The provider asks for consent the first time.
  if (page.url().includes('/interaction/')) {
    await page.locator('button[type="submit"]').first().click();
  }
  await page.waitForURL((url) => url.href.startsWith(PORTAL));
  return page;
}

/** Waits until the worker's first refresh has put `key` into the inventory. */
export async function waitForService(context, key, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Through the signed-in browser context: the API needs a session like every page.
    const response = await context.request.get(`${PORTAL}/api/v1/services?per_page=500`);
    if (response.ok()) {
      const services = (await response.json()).items;
      if (services.some((s) => s.key === key)) return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`service ${key} did not appear within ${timeoutMs} ms`);
}
