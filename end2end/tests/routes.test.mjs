// Routes as users reach them: the status matrix sorted by certificate expiry, and one route's
// details on its service's page. The stand-in for Traefik (scripts/lib/route-standin.py) answers
// www with a redirect to Authelia, open with a certificate expiring in 9 days, and the extra URL
// status.quietly.online with an expired one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
  const page = await signIn(browser.context, 'alice');
  await page.close();
});
after(async () => browser?.close());

/** Waits until every listed route has been probed (the worker probes every 5 s). */
async function waitForProbes(page, urls, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(`${PORTAL}/routes`);
    const rows = await Promise.all(
      urls.map((u) => page.locator(`tr[data-url="${u}"] .badge`).first().innerText().catch(() => '')),
    );
    if (rows.every((status) => status === 'ok' || status === 'failing')) return;
    if (Date.now() > deadline) throw new Error(`routes not probed in time: ${rows}`);
    await page.waitForTimeout(1000);
  }
}

test('sort the routes by certificate expiry and open a route on its service page', async () => {
  const page = await browser.context.newPage();
  const expired = 'https://status.quietly.online/';
  const expiring = 'https://open.quietly.online/';
  const guarded = 'https://www.quietly.online/';
  await waitForProbes(page, [expired, expiring, guarded]);

  await page.getByRole('link', { name: 'Certificate expiry' }).click();
  await page.waitForURL(/\/routes\?sort=cert/);
  const order = await page.locator('table.routes tbody tr').evaluateAll((rows) =>
    rows.map((r) => r.dataset.url).filter((u) => u.startsWith('https://')),
  );
  assert.deepEqual(order.slice(0, 3), [expired, expiring, guarded], 'soonest expiry first');
  const expiredRow = page.locator(`tr[data-url="${expired}"]`);
  assert.equal(await expiredRow.locator('.badge').first().innerText(), 'failing');
  assert.match(await expiredRow.innerText(), /invalid/);
  const guardedRow = page.locator(`tr[data-url="${guarded}"]`);
  assert.match(await guardedRow.innerText(), /302 → https:\/\/auth\.quietly\.online\//);
  assert.match(await guardedRow.innerText(), /enforced/);
  await screenshot(page, 'routes-by-expiry');

  await page.locator(`tr[data-url="${expiring}"] td a`).first().click();
  await page.waitForURL(/\/services\/master\/e2e(%2F|\/)noauth#route-\d+/);
  const details = page.locator('article.route');
  assert.match(await details.innerText(), /Audit Portal Demo CA/);
  assert.match(await details.innerText(), /\((8|9) days left\)/);
  // The refresh after the probe turns it into a finding on the service.
  let findings = [];
  for (let i = 0; i < 30; i++) {
    findings = await page.locator('ul.findings li strong').allInnerTexts();
    if (findings.includes('Certificate expiring')) break;
    await page.waitForTimeout(1000);
    await page.reload();
  }
  assert.ok(findings.includes('Certificate expiring'), `findings: ${findings}`);
  assert.equal(await page.locator('svg.status-bar rect').count(), 90, 'a 90-day status bar');
  await screenshot(page, 'service-route-details');
  await page.close();
});
