// Capacity in the browser: the engine's host and memory with its trend, an admin saving a
// baseline and reading the comparison, a service's resource charts and dependencies, the
// dependency map (a box leads to its service), and the image versions sorted by a header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn, waitForService } from './browser.mjs';

/** Runs `body` with a browser of its own: each test signs in as somebody else. */
async function withBrowser(body) {
  const browser = await launch();
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

/** Reloads `path` until `locator(page)` matches, as the worker's refreshes fill the history. */
async function until(page, path, locate, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(`${PORTAL}${path}`);
    if ((await locate(page).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${path}: ${what} did not appear`);
    await page.waitForTimeout(1000);
  }
}

test('an admin reads the hosts and saves a baseline to compare with', () =>
  withBrowser(async (browser) => {
    const page = await signIn(browser.context, 'alice', '/capacity');
    await waitForService(browser.context, 'e2e/web');
    await until(page, '/capacity', (p) => p.locator('section[aria-labelledby="engine-master"] svg.chart'), 'the memory trend');
    const master = page.locator('section.engine-capacity', { hasText: 'Engine master' });
    assert.match(await master.locator('.host-facts').innerText(), /\d+ CPUs · [\d.]+ GiB memory · kernel /);
    assert.match(await master.locator('td.limits-sum').innerText(), /B \([\d.]+% of the host\)/);
    assert.match(await master.locator('td.trigger').innerText(), /not reached|reached/);
    const lady = page.locator('section.engine-capacity', { hasText: 'Engine lady' });
    assert.match(await lady.locator('td.trigger').innerText(), /unknown until the engine reports its memory/);

    await page.getByLabel('Label').fill('e2e baseline');
    await page.getByRole('button', { name: 'Save a baseline' }).click();
    await page.waitForURL(/\/capacity\?baseline=\d+#baselines$/);
    assert.match(await page.locator('#baselines h3').innerText(), /Now against 'e2e baseline'/);
    const rows = page.locator('table.baseline-compare tbody tr');
    assert.ok((await rows.count()) > 0, 'the baseline holds the running services');
    await screenshot(page, 'capacity');
  }));

test('a service shows its resources and its dependencies both ways', () =>
  withBrowser(async (browser) => {
    const page = await signIn(browser.context, 'victor', '/services');
    await waitForService(browser.context, 'e2e/web');
    const web = '/services/master/e2e%2Fweb';
    // CPU needs two samples of the same container.
    await until(page, web, (p) => p.locator('section.resources svg.chart'), 'the resource charts');
    const windows = page.locator('table.resource-windows tbody tr');
    assert.deepEqual(await windows.locator('th').allInnerTexts(), ['24 hours', '7 days', '30 days']);
    const deps = page.locator('section.dependencies');
    assert.match(await deps.locator('ul.depends-on').innerText(), /Grafana[\s\S]*via compose/);
    assert.match(await deps.locator('ul.needed-by').innerText(), /sick[\s\S]*via env/);
    assert.match(await deps.locator('.impact').innerText(), /If Web front stops, 1 running service depends on it\./);
    await screenshot(page, 'service-resources');

    await page.goto(`${PORTAL}/dependencies`);
    const map = page.locator('#deps-master ~ div svg.depmap');
    assert.equal(await map.count(), 1);
    await map.locator('a', { hasText: 'Grafana' }).click();
    await page.waitForURL(/\/services\/master\/e2e%2Fgrafana$/);
    assert.match(await page.locator('section.dependencies ul.needed-by').innerText(), /Web front/);
  }));

test('image versions sort by their headers and download as CSV', () =>
  withBrowser(async (browser) => {
    const page = await signIn(browser.context, 'victor', '/versions');
    await waitForService(browser.context, 'e2e/web');
    await page.goto(`${PORTAL}/versions`);
    const row = page.locator('table.versions tbody tr', { hasText: 'audit-test/busybox:1' });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /\b1\b[\s\S]*days/);
    await page.getByRole('link', { name: 'Services' }).last().click();
    await page.waitForURL(/\/versions\?sort=services$/);
    assert.equal(await page.locator('th[aria-sort="descending"]').innerText(), 'Services');
    const csv = await page.context().request.get(`${PORTAL}/versions.csv`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /^engine,image,tag,image_id,created,age_days,latest,/);
  }));
