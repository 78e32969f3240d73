// The Services pages as a person uses them: filter by a finding, open a service, read its findings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn, waitForService } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
  const page = await signIn(browser.context, 'alice');
  await page.close();
  await waitForService(browser.context, 'e2e/public');
});
after(async () => browser?.close());

test('filter by a finding, open a service and see its findings', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/services`);
  assert.match(await page.locator('.summary-line').innerText(), /containers on 2 engines/);

  await page.getByLabel('Finding').selectOption('public_port');
  await page.getByLabel('Engine').selectOption('master');
  await page.getByLabel('Search').fill('e2e/');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/finding=public_port/);
  const rows = page.locator('table.services tbody tr');
  const names = await rows.locator('th a').allInnerTexts();
  assert.deepEqual(names, ['public'], 'only the service with a public port is listed');
  await screenshot(page, 'services-filtered');

  await rows.locator('th a').first().click();
  await page.waitForURL(/\/services\/master\/e2e%2Fpublic|\/services\/master\/e2e\/public/);
  assert.equal(await page.locator('h1').innerText().then((t) => t.split('\n')[0].trim().split(' ')[0]), 'public');
  const findings = await page.locator('ul.findings li strong').allInnerTexts();
  assert.deepEqual(findings, ['Port published on all interfaces']);
  assert.match(await page.locator('ul.findings').innerText(), /Publish on 127\.0\.0\.1 only/);
  await screenshot(page, 'service-detail');
  await page.close();
});

test('search and sort live in the query string', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/services?q=e2e/oom`);
  assert.deepEqual(await page.locator('table.services tbody th a').allInnerTexts(), ['oom']);
  await page.goto(`${PORTAL}/services?engine=master`);
  await page.getByRole('link', { name: 'Findings' }).click();
  await page.waitForURL(/sort=findings&dir=desc/);
  const first = await page.locator('table.services tbody tr').first().locator('.badge.sev-high').count();
  assert.ok(first > 0, 'the most severe service comes first');
  await page.close();
});

test('log lines from containers are shown as text, never as markup', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/services/master/e2e%2Fnoisy`);
  const samples = await page.locator('ul.log-samples').innerText();
  assert.match(samples, /<script>alert\(1\)<\/script>/, 'the sample is visible as text');
  assert.equal(await page.locator('ul.log-samples script').count(), 0);
  await page.close();
});

test('"Refresh now" is a plain form that works without JavaScript', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/services`);
  await page.getByRole('button', { name: 'Refresh now' }).click();
  await page.waitForURL(/refreshed=1/);
  assert.match(await page.locator('.notice').innerText(), /Refresh requested/);
  await page.close();
});
