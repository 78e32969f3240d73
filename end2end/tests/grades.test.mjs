// The grade in the browser: the server-drawn chart with labelled axes, an admin overrides a
// category and sees the grade move, a viewer sees no form. (In this suite Monitoring, Backup/DR
// and Change Control are measured from their sources, so none takes an assessment; the
// assessment form is covered by the Rust integration tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

test('an admin overrides a category and the grade moves', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'alice', '/grades');
    const chart = page.locator('svg[aria-label="Production-readiness grade"]');
    assert.equal(await chart.count(), 1);
    const axes = await chart.innerHTML();
    assert.match(axes, /points out of 100/);
    assert.match(axes, /date \(UTC\)/);
    const before = await page.locator('.grade-summary .big').innerText();
    const row = page.locator('tr', { has: page.locator('th', { hasText: 'Reliability' }) }).first();

    const form = page.locator('form[action="/grades/override"]');
    await form.getByLabel('Category').selectOption('Reliability');
    await form.getByLabel('Score (0–100)').fill('3');
    await form.getByLabel('Justification').fill('the crash loop on lady is not in the inventory yet');
    await form.getByRole('button', { name: 'Save override' }).click();
    await page.waitForURL(`${PORTAL}/grades`);
    const after = await page.locator('.grade-summary .big').innerText();
    assert.notEqual(after, before, `the total moved (${before} → ${after})`);
    assert.match(await row.innerText(), /Overridden to 3\.00 by .*crash loop on lady/);
    await screenshot(page, 'grades');
  } finally {
    await browser.close();
  }
});

test('a viewer reads the grade without any form', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'victor', '/grades');
    assert.equal(await page.locator('h1').innerText(), 'Grades');
    assert.equal(await page.locator('form[action="/grades/assess"]').count(), 0);
    assert.equal(await page.locator('form[action="/grades/override"]').count(), 0);
    await page.goto(`${PORTAL}/grades/history`);
    assert.equal(await page.locator('h1').innerText(), 'Grade history');
  } finally {
    await browser.close();
  }
});
