// A real OpenID Connect provider for the tests: the certified `oidc-provider` package, configured
// like the Authelia client of this portal (authorization code + PKCE S256, client_secret_basic,
// scopes openid profile email groups, profile/email/groups served from UserInfo only, opaque
// UUID subjects). Its built-in login and consent pages are what the browser fills in. Like
// Authelia, it offers no RP-initiated logout: no end_session_endpoint, so the sign-out the
// browser suite tests is the one users get.
// Usage: node oidc/provider.mjs PORT REDIRECT_URI   (listens on 127.0.0.1 only)
import { createHash } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: provider.mjs PORT REDIRECT_URI');
  process.exit(2);
}

// Test users: one per role, and one in no portal group. Any password is accepted.
const USERS = {
  alice: { name: 'Alice Admin', email: 'alice@quietly.online', groups: ['audit-admins'] },
  erin: { name: 'Erin Editor', email: 'erin@quietly.online', groups: ['audit-editors'] },
  victor: { name: 'Victor Viewer', email: 'victor@quietly.online', groups: ['audit-viewers'] },
  nora: { name: 'Nora Nobody', email: 'nora@quietly.online', groups: ['staff'] },
};

// Like Authelia, the subject is an opaque UUID, not the username: pairwise subjects derived
// from the account, so the portal must identify people by issuer + sub and show the username.
function opaqueSubject(accountId, sector) {
  const h = createHash('sha256').update(`${sector}:${accountId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function account(id) {
  const user = USERS[id];
  if (!user) return undefined;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        preferred_username: id,
        name: user.name,
        email: user.email,
        email_verified: true,
        groups: user.groups,
      };
    },
  };
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'audit-portal',
    client_secret: 'test-client-secret-not-for-production',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    subject_type: 'pairwise',
  }],
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: async (_ctx, accountId, client) => opaqueSubject(accountId, client.sectorIdentifier),
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  findAccount: (_ctx, id) => account(id),
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  cookies: { keys: ['audit-portal-test-cookie-key'] },
});
provider.proxy = false;
provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
