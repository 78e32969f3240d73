// Notifications: an admin sends a test message from the settings page and sees it delivered;
// the receiver (scripts/lib/notify-standin.py, standing in for ntfy and a webhook on 127.0.0.1)
// checks the webhook's signature, and the unreachable engine of the suite arrives by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

const STANDIN = process.env.NOTIFY_STANDIN_URL;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

async function received() {
  const res = await fetch(`${STANDIN}/received`);
  assert.equal(res.status, 200);
  return res.json();
}

test('an admin sends a test notification from the settings page', async () => {
  const page = await signIn(browser.context, 'alice', '/settings/notifications');
  const channels = page.locator('tr[data-channel]');
  assert.deepEqual(await channels.evaluateAll((rows) => rows.map((r) => r.dataset.channel)), ['ntfy', 'webhook']);
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /e2e-hook-secret|e2e-topic/, 'secrets and topics are never shown');

  await page.getByRole('button', { name: 'Send a test to webhook' }).click();
  assert.match(await page.getByRole('status').innerText(), /Test message sent to webhook\./);
  const row = page.locator('tr[data-delivery]').first();
  assert.match(await row.innerText(), /test[\s\S]*sent/);
  await screenshot(page, 'notifications');

  const hook = (await received()).filter((r) => r.path === '/hook' && r.body.kind === 'test');
  assert.equal(hook.length, 1);
  const { headers, raw } = hook[0];
  const expected = createHmac('sha256', 'e2e-hook-secret')
    .update(`${headers['x-audit-portal-timestamp']}.${raw}`)
    .digest('hex');
  assert.equal(headers['x-audit-portal-signature'], `sha256=${expected}`);
  assert.equal(hook[0].body.title, 'Audit Portal: test message');
});

test('the unreachable engine is sent to ntfy once, by the worker', async () => {
  const deadline = Date.now() + 45_000;
  let published = [];
  while (Date.now() < deadline) {
    published = (await received()).filter(
      (r) => r.path === '/' && r.body.topic === 'e2e-topic' && r.body.title === 'Engine lady is unreachable',
    );
    if (published.length > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(published.length, 1, 'sent once');
  assert.equal(published[0].body.priority, 4);
  assert.equal(published[0].body.click, `${PORTAL}/engines`);
  // Later refreshes see the same condition and send nothing more.
  await new Promise((r) => setTimeout(r, 12_000));
  const again = (await received()).filter((r) => r.path === '/' && r.body.title === 'Engine lady is unreachable');
  assert.equal(again.length, 1, 'no duplicate while the engine stays down');
});
