import { chromium } from 'playwright-core';
const base = 'http://127.0.0.1:3311';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await page.goto(`${base}/auth/login`);
await page.getByRole('button', { name: /Sign in as demo admin/ }).click();
for (const [path, name] of [['/phases/1', 'phase1'], ['/rollouts/1', 'rollout'], ['/grades', 'grades'], ['/', 'dashboard'], ['/phases', 'phases']]) {
  await page.goto(`${base}${path}`);
  await page.screenshot({ path: `/tmp/dev/${name}.png`, fullPage: true });
}
await browser.close();
