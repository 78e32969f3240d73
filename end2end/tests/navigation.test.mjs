// Every page of the navigation, in a browser with JavaScript off: real content, a screenshot each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn, waitForService } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
  const page = await signIn(browser.context, 'victor');
  await page.close();
  await waitForService(browser.context, 'e2e/web');
});
after(async () => browser?.close());

const PAGES = [
  ['dashboard', '/', 'Dashboard'],
  ['services', '/services', 'Services'],
  ['engines', '/engines', 'Docker engines'],
  ['docs', '/docs', 'Documentation'],
  ['grades', '/grades', 'Grades'],
  ['phases', '/phases', 'Phases'],
  ['rollouts', '/rollouts', 'Rollouts'],
  ['routes', '/routes', 'Routes'],
  ['actions', '/actions', 'Action plan'],
  ['capacity', '/capacity', 'Capacity'],
  ['dependencies', '/dependencies', 'Dependency map'],
  ['versions', '/versions', 'Image versions'],
];

for (const [name, path, heading] of PAGES) {
  test(`${name} page renders`, async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${PORTAL}${path}`);
    assert.equal(response.status(), 200);
    assert.equal(await page.locator('h1').first().innerText(), heading);
    assert.equal(await page.locator('nav[aria-label="Sections"] a').count(), 9);
    await screenshot(page, name);
    await page.close();
  });
}

test('the navigation marks the current section and links work', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/`);
  await page.getByRole('link', { name: 'Services', exact: true }).first().click();
  await page.waitForURL(`${PORTAL}/services`);
  assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), 'Services');
  await page.close();
});

test('the dashboard counts the live inventory and names the dead engine', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${PORTAL}/`);
  const text = await page.locator('main').innerText();
  assert.match(text, /\d+ containers on 2 engines/);
  assert.match(text, /1 engine\(s\) down or stale/);
  await page.close();
});

test('unknown pages answer 404 with a way back', async () => {
  const page = await browser.context.newPage();
  const response = await page.goto(`${PORTAL}/nowhere`);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await screenshot(page, 'not-found');
  await page.close();
});
