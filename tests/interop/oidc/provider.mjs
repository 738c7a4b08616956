// A real OpenID provider (oidc-provider) on loopback, for musubi's identity tests.
//
//   node provider.mjs PORT SEED
//
// Issuer http://127.0.0.1:PORT, a fresh RSA signing key on every start (so a restart is a key
// rotation), client_credentials for the clients below. With `resource=https://musubi.test/api`
// the access token is a JWT for the audience "musubi" (…/short: one that expires after 1 s);
// without a resource it is opaque, for RFC 7662 introspection by the client "musubi-hub".
//   plain       no claims beyond the standard ones   → PUBLIC
//   researcher  a GA4GH passport (ga4gh_passport_v1): ResearcherStatus, AcceptedTermsAndPolicies
//               and ControlledAccessGrants for the dataset of SEED (humandbs-drs's
//               issuer-seed.json), visas signed by this provider's key with jku = its JWKS
//   steward     roles: ["musubi-steward"]
// Prints "listening <issuer>" once it serves; exits when its standard input closes.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';

const [port, seedFile] = process.argv.slice(2);
if (!port || !seedFile) {
  console.error('usage: node provider.mjs PORT SEED');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const seed = JSON.parse(readFileSync(seedFile, 'utf8'))[0];

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const visa = (type, value, source, by) =>
  new SignJWT({ ga4gh_visa_v1: { type, value, source, by, asserted: Math.floor(Date.parse(seed.asserted) / 1000) } })
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT', jku: `${issuer}/jwks` })
    .setIssuer(issuer)
    .setSubject(seed.subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .setJti(randomUUID())
    .sign(privateKey);

const client = (id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: id === 'musubi-hub' ? 'client_secret_basic' : 'client_secret_post',
});

const resources = {
  'https://musubi.test/api': 300,
  'https://musubi.test/short': 1,
};

const provider = new Provider(issuer, {
  clients: ['plain', 'researcher', 'steward', 'musubi-hub'].map(client),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        const ttl = resources[resource];
        if (ttl === undefined) throw new errors.InvalidTarget();
        return { audience: 'musubi', scope: '', accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  extraTokenClaims: async (_ctx, token) => {
    switch (token.clientId) {
      case 'researcher':
        return {
          ga4gh_passport_v1: [
            await visa('ResearcherStatus', 'https://doi.org/10.1038/s41431-018-0219-y', 'https://ddbj.nig.ac.jp', 'so'),
            await visa('AcceptedTermsAndPolicies', 'https://humandbs.dbcls.jp/en/guidelines', 'https://ddbj.nig.ac.jp', 'self'),
            await visa('ControlledAccessGrants', seed.dataset_id, seed.dac_source, 'dac'),
          ],
        };
      case 'steward':
        return { roles: ['musubi-steward'] };
      default:
        return undefined;
    }
  },
});

// The test reads only the first line; later writes (the provider's notices) must not kill it.
process.stdout.on('error', () => {});
const server = createServer(provider.callback());
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
