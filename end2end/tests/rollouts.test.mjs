// The accounting rollout in the browser: an admin scores a candidate and records the decision,
// the decision item turns verified and the dashboard shows the readiness; a viewer only reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

test('an admin scores, decides, and the dashboard shows the readiness', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'alice', '/rollouts');
    await page.locator('a', { hasText: 'Accounting system' }).click();
    await page.waitForURL(/\/rollouts\/\d+$/);
    const rolloutUrl = page.url();

    const score = page.locator('form[action$="/scores"]');
    await score.getByLabel('Candidate').selectOption({ label: 'ERPNext' });
    await score.getByLabel('Criterion').selectOption({ label: 'OIDC/SSO support' });
    await score.getByLabel('Score (0–10)').fill('9');
    await score.getByLabel('Why').fill('native OpenID Connect login');
    await score.getByRole('button', { name: 'Record score' }).click();
    await page.waitForURL((url) => url.href.startsWith(rolloutUrl));
    const matrix = await page.locator('table.matrix').innerText();
    assert.match(matrix, /9\/10/);
    assert.match(matrix, /13\.5/, 'ERPNext: 9 × 15% = 13.5 points');

    const decide = page.locator('form[action$="/decision"]');
    await decide.getByLabel('Chosen candidate').selectOption({ label: 'ERPNext' });
    await decide.getByLabel('Rationale').fill('SSO and a lighter footprint');
    await decide.getByRole('button', { name: 'Record decision' }).click();
    await page.waitForURL((url) => url.href.startsWith(rolloutUrl));
    assert.match(await page.locator('section[aria-labelledby="decision-h"]').innerText(), /ERPNext/);
    const decisionRow = page.locator('table.checklist tr', { hasText: 'Evaluate the options' });
    assert.match(await decisionRow.innerText(), /verified/);
    assert.match(await decisionRow.innerText(), /ERPNext chosen by/);
    await screenshot(page, 'rollout');

    await page.goto(`${PORTAL}/`);
    const card = await page.locator('section.card', { hasText: 'Accounting system rollout' }).innerText();
    assert.match(card, /verified \(\d+ of 12\): not ready/);
    assert.match(card, /Chosen: ERPNext/);
  } finally {
    await browser.close();
  }
});

test('a viewer reads the tracker without any form', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'victor', '/rollouts');
    await page.locator('a', { hasText: 'Accounting system' }).click();
    await page.waitForURL(/\/rollouts\/\d+$/);
    assert.equal(await page.locator('table.matrix').count(), 1);
    assert.equal(await page.locator('table.checklist').count(), 1);
    assert.equal(await page.locator('main form').count(), 0, 'no form at all for a viewer');
  } finally {
    await browser.close();
  }
});
