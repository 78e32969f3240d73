// Phase sign-off in the browser: an admin imports a plan (preview first), marks deliverables
// done with evidence or binds them to a live check, signs off and reads the acceptance record; editors and viewers cannot sign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

const PLAN = `# 🧪 PHASE-31: Browser-tested phase

**Target Grade**: 90/100

## 🎯 Objectives
- Prove the sign-off works in a browser without JavaScript

## Deliverables
- [x] Plan written
- [ ] Import tested
- [ ] Evidence recorded
`;

test('an admin imports a plan, records evidence and signs off', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'alice', '/phases');
    const form = page.locator('form[action="/phases/import"]');
    await form.getByLabel('Plan (Markdown)').fill(PLAN);
    await form.getByRole('button', { name: 'Preview' }).click();
    await page.waitForLoadState();
    assert.match(await page.locator('#preview-h').innerText(), /what the importer understood/);
    const understood = await page.locator('section[aria-labelledby="preview-h"]').innerText();
    assert.match(understood, /PHASE-31/);
    assert.match(understood, /3 \(1 checked\)/);
    assert.match(understood, /Deliverables/);
    await screenshot(page, 'phase-preview');

    // The text survived the preview: import it as it is.
    await page.locator('form[action="/phases/import"]').getByRole('button', { name: 'Import this plan' }).click();
    await page.waitForURL(/\/phases\/\d+$/);
    const phaseUrl = page.url();
    assert.match(await page.locator('h1').innerText(), /PHASE-31 · .*Browser-tested phase/);

    // One deliverable is recorded by a person, with evidence...
    {
      const item = 'Import tested';
      const row = page.locator('table.deliverables tr', { hasText: item });
      const details = row.locator('details', { hasText: 'Update status and evidence' });
      await details.locator('summary').click();
      const update = details.locator('form');
      await update.getByLabel('Status').selectOption('done');
      await update.getByLabel('Evidence or reason').fill(`${item}: checked in the browser suite`);
      await update.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL((url) => url.href.startsWith(phaseUrl));
      assert.match(await page.locator('table.deliverables tr', { hasText: item }).innerText(), /done/);
    }
    // ...the other is bound to a live check, which the portal verifies at once.
    {
      const item = 'Evidence recorded';
      const row = page.locator('table.deliverables tr', { hasText: item });
      const details = row.locator('details', { hasText: 'Bind to a live check' });
      await details.locator('summary').click();
      const bind = details.locator('form').first();
      await bind.getByLabel('Check').selectOption('grade');
      await bind.getByLabel('Parameter').fill('0');
      await bind.getByRole('button', { name: 'Bind' }).click();
      await page.waitForURL((url) => url.href.startsWith(phaseUrl));
      const bound = await page.locator('table.deliverables tr', { hasText: item }).innerText();
      assert.match(bound, /Checked by the portal: the measured grade at least 0\.00/);
      assert.match(bound, /done/);
      assert.match(bound, /The measured grade is .* \(asked: at least 0\.00\)\./);
      await screenshot(page, 'deliverable-check');
    }
    assert.match(await page.locator('#claims-h').innerText(), /Claimed versus measured/);

    const sign = page.locator('form[action$="/signoff"]');
    await sign.getByLabel('Approved: proceed').check();
    await sign.getByLabel('Comment').fill('All three deliverables have evidence.');
    await sign.getByRole('button', { name: 'Sign' }).click();
    await page.waitForURL(/\/signoffs\/\d+$/);
    assert.match(await page.locator('h1').innerText(), /Acceptance record: PHASE-31/);
    const record = await page.locator('main').innerText();
    assert.match(record, /approved/);
    assert.match(record, /SHA-256/);
    await screenshot(page, 'acceptance-record');

    await page.goto(`${PORTAL}/phases`);
    assert.match(await page.locator('tr', { hasText: 'PHASE-31' }).innerText(), /signed off/);
    await page.goto(`${PORTAL}/phases/verify`);
    assert.match(await page.locator('main').innerText(), /Intact\./);
  } finally {
    await browser.close();
  }
});

test('editors and viewers see no sign-off form and cannot sign by hand', async () => {
  for (const login of ['erin', 'victor']) {
    const browser = await launch();
    try {
      const page = await signIn(browser.context, login, '/phases');
      const link = page.locator('a', { hasText: 'PHASE-31' });
      assert.equal(await link.count(), 1, 'the phase from the admin test is listed');
      await link.click();
      await page.waitForURL(/\/phases\/\d+$/);
      assert.equal(await page.locator('form[action$="/signoff"]').count(), 0, `${login} sees no sign-off form`);
      const token = await page.locator('input[name="csrf_token"]').first().getAttribute('value');
      const forged = await browser.context.request.post(`${page.url()}/signoff`, {
        form: { csrf_token: token ?? '', decision: 'rejected', reasons: 'forged' },
        headers: { Origin: PORTAL },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 403, `${login}'s sign-off is refused`);
    } finally {
      await browser.close();
    }
  }
});

test('a plan uploaded as a file is previewed, then imported from the form', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'erin', '/phases');
    const upload = page.locator('form[action="/phases/upload"]');
    await upload.getByLabel("Or upload the plan's file").setInputFiles({
      name: 'PHASE-32.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# PHASE-32 Uploaded plan\n\n## Work\n- [ ] First item\n- [x] Second item\n'),
    });
    await upload.getByRole('button', { name: 'Upload and preview' }).click();
    await page.waitForLoadState();
    const understood = await page.locator('section[aria-labelledby="preview-h"]').innerText();
    assert.match(understood, /PHASE-32/);
    assert.match(understood, /2 \(1 checked\)/);
    await page.locator('form[action="/phases/import"]').getByRole('button', { name: 'Import this plan' }).click();
    await page.waitForURL(/\/phases\/\d+$/);
    assert.match(await page.locator('h1').innerText(), /PHASE-32 · Uploaded plan/);
  } finally {
    await browser.close();
  }
});
