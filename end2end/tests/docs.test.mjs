// Documentation coverage in the browser: figures and the server-drawn chart, an editor claims a
// service and sees the claim, a viewer has no claim form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

test('an editor sees coverage with its chart and claims the top undocumented service', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'erin', '/docs');
    assert.equal(await page.locator('h1').innerText(), 'Documentation');
    const chart = page.locator('svg[aria-label="Documentation coverage"]');
    assert.equal(await chart.count(), 1, 'the chart is an inline SVG drawn by the server');
    assert.match(await chart.innerHTML(), /% of running services/);
    assert.match(await page.locator('main').innerText(), /running services/);

    const firstRow = page.locator('#undoc-h + p + .table-wrap tbody tr').first();
    const name = (await firstRow.locator('th a').innerText()).trim();
    await firstRow.getByLabel('Due').fill('2099-01-31');
    await firstRow.getByRole('button', { name: 'Claim' }).click();
    await page.waitForURL(`${PORTAL}/docs`);
    const claimed = page.locator('#undoc-h + p + .table-wrap tbody tr', { hasText: name });
    assert.match(await claimed.innerText(), /Claimed by Erin Editor/);
    assert.match(await claimed.innerText(), /due 2099-01-31/);
    await screenshot(page, 'docs');
  } finally {
    await browser.close();
  }
});

test('a viewer reads coverage but cannot claim', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'victor', '/docs');
    assert.equal(await page.getByRole('button', { name: 'Claim' }).count(), 0);
    assert.equal(await page.locator('form[action="/docs/claim"]').count(), 0);
  } finally {
    await browser.close();
  }
});

test('a doc renders with its checklist, and raw HTML in it is neutralised', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'victor', '/docs/web');
    assert.equal(await page.locator('main > h1').innerText(), 'Web front');
    assert.equal(await page.locator('h1').count(), 1, "one h1: the doc's headings sit below it");
    assert.match(await page.locator('table').first().innerText(), /Template sections\s+pass/);
    assert.equal(await page.locator('article.doc-body script').count(), 0);
    await screenshot(page, 'doc-web');
  } finally {
    await browser.close();
  }
});
