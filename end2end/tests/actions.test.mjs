// The action plan in the browser: an editor gives an action an owner and a due date, sees them on
// the plan, and downloads ACTION_PLAN_TODO.md, which lists every open action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PORTAL, launch, screenshot, signIn, waitForService } from './browser.mjs';

test('an editor assigns an action and downloads the action plan', async () => {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, 'erin', '/actions');
    await waitForService(browser.context, 'e2e/norestart');
    // The worker opens actions at the refresh after the service appears.
    const row = page.locator('table.action-plan tr', { hasText: 'No restart policy: norestart' });
    const deadline = Date.now() + 60_000;
    while ((await row.count()) === 0 && Date.now() < deadline) {
      await page.waitForTimeout(500);
      await page.goto(`${PORTAL}/actions`);
    }
    assert.equal(await row.count(), 1, 'the norestart service has its action');
    assert.match(await row.locator('td.num').innerText(), /^\+\d+\.\d\d$/);

    await row.locator('summary').click();
    await row.getByLabel('Owner').fill('Erin');
    await row.getByLabel('Due date').fill('2030-01-31');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/actions#action-\d+$/);
    const saved = page.locator('table.action-plan tr', { hasText: 'No restart policy: norestart' });
    assert.match(await saved.innerText(), /Erin/);
    assert.match(await saved.innerText(), /2030-01-31/);
    await screenshot(page, 'action-plan-editor');

    // The download is the same plan as a Markdown checklist: every open action once. The worker
    // may open an action between reading the page and downloading (the fleet's findings settle
    // over the first refreshes), so a page and a download that disagree are read again.
    let openRows = -1;
    let markdown = '';
    let items = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await page.goto(`${PORTAL}/actions`);
      openRows = await page.locator('section[aria-labelledby="open-h"] table.action-plan tbody tr').count();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download ACTION_PLAN_TODO.md' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'ACTION_PLAN_TODO.md');
      markdown = readFileSync(await download.path(), 'utf8');
      items = markdown.split('\n').filter((l) => l.startsWith('- [ ] '));
      if (items.length === openRows) break;
      await page.waitForTimeout(2_000);
    }
    assert.match(markdown, /^# Action plan/);
    assert.equal(items.length, openRows, 'one checklist item per open action');
    assert.ok(
      items.some((l) => l.includes('No restart policy: norestart') && l.includes('owner Erin') && l.includes('due 2030-01-31')),
      markdown,
    );
  } finally {
    await browser.close();
  }
});
