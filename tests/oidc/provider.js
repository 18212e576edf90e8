// A real, certified OpenID provider (panva/oidc-provider) for the single sign-on tests.
//
//   node provider.js PORT ACCOUNTS_JSON [ISSUER]
//
// Listens on 127.0.0.1:PORT with one confidential client, "challenge-test", whose redirect
// URI is the app's /oidc/callback. Its own login and consent pages (the provider's
// development interactions) take any login name as the subject; the claims of each subject
// are read from ACCOUNTS_JSON at every sign-in, so a test can set them before it signs in.
// ISSUER (default http://127.0.0.1:PORT) lets a test announce another issuer than the address.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, accountsFile, issuerArg] = process.argv.slice(2);
const issuer = issuerArg || `http://127.0.0.1:${port}`;

const configuration = {
  clients: [{
    client_id: 'challenge-test',
    client_secret: 'test-secret',
    redirect_uris: ['http://testserver/oidc/callback'],
    post_logout_redirect_uris: ['http://testserver/'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }, {
    client_id: 'other-client',
    client_secret: 'other-secret',
    redirect_uris: ['http://other.example/callback'],
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
    const claims = accounts[id] || {};
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  cookies: { keys: ['test-cookie-key'] },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
