// The grade in the browser: the server-drawn chart with labelled axes, an admin records a
// Backup/DR assessment and sees the grade move, a viewer sees no form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

test('an admin records an assessment and the grade moves', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'alice', '/grades');
    const chart = page.locator('svg[aria-label="Production-readiness grade"]');
    assert.equal(await chart.count(), 1);
    const axes = await chart.innerHTML();
    assert.match(axes, /points out of 100/);
    assert.match(axes, /date \(UTC\)/);
    const before = await page.locator('.grade-summary .big').innerText();
    const backupRow = page.locator('tr', { has: page.locator('th', { hasText: 'Backup/DR' }) }).first();
    assert.match(await backupRow.innerText(), /never assessed/);

    const form = page.locator('form[action="/grades/assess"]');
    await form.getByLabel('Category').selectOption('Backup/DR');
    await form.getByLabel('Score (0–100)').fill('95');
    await form.getByLabel('Evidence date').fill(new Date().toISOString().slice(0, 10));
    await form.getByLabel('What was checked').fill('restored last night\'s dump into a scratch database');
    await form.getByRole('button', { name: 'Record assessment' }).click();
    await page.waitForURL(`${PORTAL}/grades`);
    const after = await page.locator('.grade-summary .big').innerText();
    assert.notEqual(after, before, `the total moved (${before} → ${after})`);
    assert.match(await backupRow.innerText(), /restored last night's dump/);
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
