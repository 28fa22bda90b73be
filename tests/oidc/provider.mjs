// A real OpenID Connect provider for csm's SSO tests: panva's oidc-provider with its
// development sign-in pages (devInteractions), bound to loopback on a free port.
//
// Configured by environment (tests/oidc/conftest.py sets it):
//   OIDC_TEST_CLIENT   JSON client metadata: client_id, client_secret, redirect_uris,
//                      post_logout_redirect_uris
//   OIDC_TEST_ACCOUNTS JSON {login: {claim: value, ...}}: the claims of each login name; a
//                      login not listed signs in with only its sub.
// Prints "listening <issuer>" on stdout once the port is open.
import http from 'node:http';

import Provider from 'oidc-provider';

const client = JSON.parse(process.env.OIDC_TEST_CLIENT);
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [client],
    cookies: { keys: ['csm-test-only-cookie-key'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(ctx, sub) {
      return { accountId: sub, async claims() { return { sub, ...(accounts[sub] || {}) }; } };
    },
    // csm is a first-party client: no consent screen, the requested scopes are granted.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.params.scope);
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
