// Sign-in through a real OpenID Connect provider (oidc-provider, configured like Authelia),
// what each role sees and may do, "no access" for people in no portal group, and sign-out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PORTAL, launch, screenshot, signIn } from './browser.mjs';

async function as(login, body) {
  const browser = await launch();
  try {
    const page = await signIn(browser.context, login, '/services');
    await body(page, browser.context);
  } finally {
    await browser.close();
  }
}

test('an admin signs in through the provider, comes back to the page asked for, and may refresh', async () => {
  await as('alice', async (page) => {
    assert.equal(new URL(page.url()).pathname, '/services', 'back where the sign-in started');
    const header = await page.locator('.user-area').innerText();
    assert.match(header, /Alice Admin/, 'the name comes from UserInfo');
    assert.match(header, /admin/);
    assert.equal(await page.getByRole('button', { name: 'Refresh now' }).count(), 1);
    await page.goto(`${PORTAL}/audit`);
    assert.equal(await page.locator('h1').innerText(), 'Audit trail');
    assert.match(await page.locator('table').innerText(), /auth\.sign_in/);
    await screenshot(page, 'audit-trail');
  });
});

test('an editor and a viewer see no admin controls and cannot open the audit trail', async () => {
  for (const [login, role] of [['erin', 'editor'], ['victor', 'viewer']]) {
    await as(login, async (page, context) => {
      assert.match(await page.locator('.user-area').innerText(), new RegExp(role));
      assert.equal(await page.getByRole('button', { name: 'Refresh now' }).count(), 0, `${login} has no refresh button`);
      assert.equal(await page.locator('a[href="/audit"]').count(), 0);
      const response = await page.goto(`${PORTAL}/audit`);
      assert.equal(response.status(), 403);
      // A hand-made POST with the session's own valid token is still refused on the server.
      await page.goto(`${PORTAL}/services`);
      const token = await page.locator('input[name="csrf_token"]').first().getAttribute('value');
      const forged = await context.request.post(`${PORTAL}/services/refresh`, {
        form: { csrf_token: token },
        headers: { Origin: PORTAL },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 403, `${login}'s POST to an admin action is refused`);
    });
  }
});

test('someone in none of the portal groups gets a clear "no access" page', async () => {
  await as('nora', async (page) => {
    assert.equal(await page.locator('h1').innerText(), 'No access');
    assert.match(await page.locator('main').innerText(), /Your groups: staff/);
    await screenshot(page, 'no-access');
  });
});

test('sign-out ends the portal session and points to the provider\'s own sign-out', async () => {
  await as('victor', async (page, context) => {
    const before = await context.cookies(PORTAL);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // No RP-initiated logout (Authelia has none): the portal ends its own session and stays.
    await page.waitForURL(`${PORTAL}/auth/signed-out`);
    assert.equal(await page.locator('h1').innerText(), 'Signed out');
    const link = page.getByRole('link', { name: 'Sign out at the identity provider' });
    assert.equal(await link.getAttribute('href'), process.env.PROVIDER_SIGN_OUT_URL);
    const after = await context.request.get(`${PORTAL}/services`, { maxRedirects: 0 });
    assert.equal(after.status(), 303, 'the portal asks for a sign-in again');
    assert.match(after.headers().location, /^\/auth\/login/);
    // The old session cookie, replayed, is refused too: the session ended on the server.
    const replay = await launch();
    try {
      await replay.context.addCookies(before);
      const replayed = await replay.context.request.get(`${PORTAL}/services`, { maxRedirects: 0 });
      assert.equal(replayed.status(), 303, 'a copied session cookie no longer signs anyone in');
    } finally {
      await replay.close();
    }
  });
});
