// Evidence instead of typed-in scores: an admin creates an API token in the browser, a backup
// script (this test, through the real API) reports its runs, and /backups, /monitoring and
// /grades show the three formerly assessed categories measured, each with its formula.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const iso = (hoursAgo) => new Date(Date.now() - hoursAgo * 3600_000).toISOString();

test('a token made in the browser reports backups that /backups and /grades show', async () => {
  const page = await signIn(browser.context, 'alice', '/settings/tokens');
  await page.getByLabel('Name').fill('e2e-backup-script');
  await page.getByLabel(/heartbeat/).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('#new-token').innerText()).trim();
  assert.match(secret, /^apt_[0-9a-f]{64}$/);
  await screenshot(page, 'token-created');

  for (const [kind, hoursAgo, minutes] of [['backup', 1, 4], ['restore_test', 2, 12]]) {
    const finished = iso(hoursAgo);
    const started = new Date(Date.parse(finished) - minutes * 60_000).toISOString();
    const res = await fetch(`${PORTAL}/api/v1/heartbeats`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ job: 'e2e-nightly', kind, ok: true, started_at: started, finished_at: finished, bytes: 52428800 }),
    });
    assert.equal(res.status, 201, await res.text());
  }
  const refused = await fetch(`${PORTAL}/api/v1/heartbeats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(refused.status, 401);

  await page.goto(`${PORTAL}/backups`);
  const job = page.locator('section[aria-label="Job e2e-nightly"]');
  assert.equal(await job.locator('h2 .badge').innerText(), 'on time');
  assert.match(await job.innerText(), /e2e-backup-script/);
  assert.match(await job.innerText(), /took 12 min against an RTO of 60 min/);
  await screenshot(page, 'backups');

  // The worker publishes the measured scores at its next refresh (a heartbeat asks for one).
  let text = '';
  for (let i = 0; i < 30; i++) {
    await page.goto(`${PORTAL}/grades`);
    text = await page.locator('tr', { has: page.locator('th', { hasText: 'Backup/DR' }) }).first().innerText();
    if (/1 of 1 services holding data/.test(text)) break;
    await page.waitForTimeout(1000);
  }
  assert.match(text, /from evidence/);
  assert.match(text, /1 of 1 services holding data/);
  for (const [category, formula] of [
    ['Monitoring', /monitoring checks passing/],
    ['Change Control', /nothing uncommitted, nothing unpushed/],
  ]) {
    const row = await page.locator('tr', { has: page.locator('th', { hasText: category }) }).first().innerText();
    assert.match(row, /from evidence/, `${category} is measured`);
    assert.match(row, formula);
  }
  await screenshot(page, 'grades-evidence');
  await page.close();
});

test('the monitoring page shows each check and the repository', async () => {
  // Still signed in from the test above.
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/monitoring`);
  assert.equal(await page.locator('h1').innerText(), 'Monitoring');
  assert.match(await page.locator('.summary-line').innerText(), /3 of 4 checks pass, from Prometheus/);
  const down = page.locator('tr[data-check="prometheus/target/node/lady:9100"]');
  assert.equal(await down.locator('.badge').innerText(), 'failing');
  assert.match(await down.innerText(), /connection refused/);
  const repo = await page.locator('section[aria-labelledby="change-h"]').innerText();
  assert.match(repo, /no upstream branch/);
  assert.match(repo, /the stack/);
  await screenshot(page, 'monitoring');
  await page.close();
});
