// CaseBridge LOCAL DEVELOPMENT OIDC / OAuth2 provider (node-oidc-provider 9.x).
//
// NOT FOR PRODUCTION: in-memory storage, devInteractions login (any password), well-known demo
// client secrets. Run it through ./oidc.sh (start|stop|status); see that file for the environment.
//
//   issuer            http://127.0.0.1:${OIDC_PORT}  (OIDC_PORT default 9400, bound to 127.0.0.1 only)
//   resources         urn:casebridge:{case,referral,scoring,notification}-api -> RS256 JWT access tokens,
//                     aud = case-api | referral-api | scoring-api | notification-api, TTL 900 s
//   extra claims      org_id, office_id (absent for organisation-bound partners), country, roles
//   signing keys      $VAR_DIR/oidc/jwks.json, created on first start, reused afterwards
//   cookie keys       $VAR_DIR/oidc/cookie-keys.json, likewise
//
// Storage is the library's in-memory adapter: sessions, grants, authorization codes and refresh
// tokens are lost on restart; JWT access tokens stay valid (same keys, verified offline).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as querystring from 'node:querystring';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.OIDC_PORT || 9400);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const VAR_DIR = path.resolve(process.env.VAR_DIR || path.join(HERE, '..', '..', '..', 'var'));
const STATE_DIR = path.join(VAR_DIR, 'oidc');
const ACCESS_TOKEN_TTL = 900;

// Local-development default: every confidential client's secret is `<client_id>-localdev-secret`.
// Override with OIDC_CLIENT_SECRETS_FILE=/path/to/secrets.json holding {"<client_id>": "<secret>"}.
export const DEMO_SECRET_SUFFIX = '-localdev-secret';

// ---------------------------------------------------------------------------------------------
// Resource servers (contract: other code depends on these exact values)
// ---------------------------------------------------------------------------------------------
const RESOURCES = {
  'urn:casebridge:case-api': {
    audience: 'case-api',
    scope: 'cases:read cases:write cases:admin cases.sensitive:read consents:write audit:read',
  },
  'urn:casebridge:referral-api': {
    audience: 'referral-api',
    scope: 'referrals:read referrals:send referrals:respond directory:read directory:write audit:read',
  },
  'urn:casebridge:scoring-api': {
    audience: 'scoring-api',
    scope: 'surveys:read surveys:submit scores:read aggregates:read instruments:write audit:read',
  },
  'urn:casebridge:notification-api': {
    audience: 'notification-api',
    scope: 'inbox:read inbox:write subscriptions:read subscriptions:write audit:read',
  },
};
const API_SCOPES = [...new Set(Object.values(RESOURCES).flatMap((r) => r.scope.split(' ')))];
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

// ---------------------------------------------------------------------------------------------
// Demo identities (identities.json): offices, organisations, clients, accounts
// ---------------------------------------------------------------------------------------------
const IDENTITIES = JSON.parse(fs.readFileSync(path.join(HERE, 'identities.json'), 'utf8'));

function orgClaims(ref, where) {
  if (ref.office) {
    const office = IDENTITIES.offices[ref.office];
    if (!office) throw new Error(`${where}: unknown office ${ref.office}`);
    return { org_id: office.org_id, office_id: office.office_id, country: office.country };
  }
  const org = IDENTITIES.organisations[ref.organisation];
  if (!org) throw new Error(`${where}: unknown organisation ${ref.organisation}`);
  return { org_id: org.org_id, country: org.country }; // organisation-bound: no office_id
}

// Claims put into every access token (extraTokenClaims), keyed by client_id / account id.
const CLIENT_CLAIMS = new Map();
for (const [id, c] of Object.entries(IDENTITIES.clients)) {
  CLIENT_CLAIMS.set(id, { ...orgClaims(c, `client ${id}`), roles: [...c.roles] });
}
const ACCOUNTS = new Map();
for (const [id, a] of Object.entries(IDENTITIES.accounts)) {
  ACCOUNTS.set(id, {
    tokenClaims: { ...orgClaims(a, `account ${id}`), roles: [...a.roles] },
    profile: {
      name: `${a.given_name} ${a.family_name}`,
      given_name: a.given_name,
      family_name: a.family_name,
      preferred_username: id,
      email: `${id}@${orgClaims(a, id).org_id}.example`,
      email_verified: true,
    },
  });
}

function loadSecrets() {
  const file = process.env.OIDC_CLIENT_SECRETS_FILE;
  if (!file) return {};
  const secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [id, secret] of Object.entries(secrets)) {
    if (!CLIENT_CLAIMS.has(id)) throw new Error(`OIDC_CLIENT_SECRETS_FILE: unknown client_id ${id}`);
    if (typeof secret !== 'string' || secret.length < 8) throw new Error(`OIDC_CLIENT_SECRETS_FILE: secret for ${id} must be a string of >= 8 chars`);
  }
  console.log(`oidc: client secrets overridden from ${file} for: ${Object.keys(secrets).join(', ') || '(none)'}`);
  return secrets;
}
const SECRETS = loadSecrets();

const clients = [
  ...Object.entries(IDENTITIES.clients).map(([id, c]) => ({
    client_id: id,
    client_secret: SECRETS[id] ?? `${id}${DEMO_SECRET_SUFFIX}`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    // client_secret_post is accepted too: the library treats basic and post as one method family.
    token_endpoint_auth_method: 'client_secret_basic',
    scope: c.scope ?? API_SCOPES.join(' '),
  })),
  {
    // Field case workers' mobile app: public native client, authorization code + PKCE (S256).
    client_id: 'casebridge-mobile',
    client_name: 'CaseBridge mobile (local dev)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1:8765/callback', 'casebridge://oauth/callback'],
    scope: [...OIDC_SCOPES, ...API_SCOPES].join(' '),
  },
];
const CLIENT_SCOPES = new Map(clients.map((c) => [c.client_id, new Set(c.scope.split(' '))]));

// ---------------------------------------------------------------------------------------------
// Keys: generated once into $VAR_DIR/oidc, reused on restart. Never committed.
// ---------------------------------------------------------------------------------------------
function writeOnce(file, content) {
  // 'wx' = fail if it exists: two racing first starts cannot clobber each other's keys.
  try {
    fs.writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if (err.code === 'EEXIST') return false;
    throw err;
  }
}

function loadOrCreateJwks() {
  const file = path.join(STATE_DIR, 'jwks.json');
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    // RFC 7638 thumbprint as kid
    const kid = crypto.createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest('base64url');
    if (writeOnce(file, `${JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] }, null, 2)}\n`)) {
      console.log(`oidc: generated RS256 signing key ${kid} into ${file}`);
    }
  }
  const jwks = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(jwks.keys) || !jwks.keys.some((k) => k.kty === 'RSA' && k.d)) {
    throw new Error(`${file} holds no private RSA key`);
  }
  return jwks;
}

function loadOrCreateCookieKeys() {
  const file = path.join(STATE_DIR, 'cookie-keys.json');
  if (!fs.existsSync(file)) {
    writeOnce(file, `${JSON.stringify([crypto.randomBytes(32).toString('base64url')])}\n`);
  }
  const keys = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(keys) || !keys.length) throw new Error(`${file} must be a non-empty JSON array`);
  return keys;
}

fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
const jwks = loadOrCreateJwks();
const cookieKeys = loadOrCreateCookieKeys();

// ---------------------------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------------------------
const ttlFromResource = (fallback) => (ctx, token) => token.resourceServer?.accessTokenTTL || fallback;

const provider = new Provider(ISSUER, {
  clients,
  jwks,
  cookies: { keys: cookieKeys },
  scopes: [...OIDC_SCOPES, ...API_SCOPES],
  responseTypes: ['code'], // authorization code only (no implicit / hybrid)
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  pkce: { required: () => true }, // S256 is the only method this library version offers
  features: {
    devInteractions: { enabled: true }, // development only: built-in login/consent pages
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource on a client_credentials request: refuse (an audience-less token is useless to
      // every CaseBridge API). Authorization requests may omit it (plain OIDC login).
      // With oneOf (several granted resources at a code/refresh exchange) keep the library's
      // default: return them, which makes the request fail and asks for an explicit resource.
      defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        if (ctx.oidc.route === 'token' && ctx.oidc.params.grant_type === 'client_credentials') {
          throw new errors.InvalidTarget('the resource parameter is required for client_credentials');
        }
        return undefined;
      },
      // Code / refresh exchanges may omit `resource` when exactly one was granted.
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resourceIndicator, client) {
        const rs = RESOURCES[resourceIndicator];
        if (!rs) throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
        // Only the scopes this client may hold; a resource it may hold none of is refused.
        const allowed = CLIENT_SCOPES.get(client.clientId) ?? new Set();
        const scope = rs.scope.split(' ').filter((s) => allowed.has(s)).join(' ');
        if (!scope) throw new errors.InvalidTarget(`resource ${resourceIndicator} is not allowed for client ${client.clientId}`);
        return {
          scope,
          audience: rs.audience,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // token.kind is 'ClientCredentials' (token.clientId set) or 'AccessToken' (token.accountId set).
  // Returned claims never overwrite the standard ones (sub, aud, scope, client_id, ...).
  extraTokenClaims(ctx, token) {
    if (token.accountId) {
      const account = ACCOUNTS.get(token.accountId);
      return account ? structuredClone(account.tokenClaims) : undefined;
    }
    const claims = CLIENT_CLAIMS.get(token.clientId);
    return claims ? structuredClone(claims) : undefined;
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS.get(id);
    if (!account) return undefined; // unknown accounts never get a session, let alone a token
    return {
      accountId: id,
      async claims() { return { sub: id, ...account.profile }; },
    };
  },
  ttl: {
    AccessToken: ttlFromResource(ACCESS_TOKEN_TTL),
    ClientCredentials: ttlFromResource(ACCESS_TOKEN_TTL),
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  clientBasedCORS: () => false,
});

// devInteractions accepts any login name. Reject names that are not demo accounts before the
// library's own handler runs: the authorization request then ends with error=access_denied at the
// client's redirect_uri. The body is parsed here and handed on as an already-read body (the
// library falls back to ctx.req.body and logs a one-time notice about it).
const INTERACTION_PATH = /^\/interaction\/[^/]+$/;
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !INTERACTION_PATH.test(ctx.path) || !ctx.is('application/x-www-form-urlencoded')) {
    return next();
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > 56 * 1024) ctx.throw(413, 'request entity too large');
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  ctx.req.body = raw;
  const form = querystring.parse(raw);
  if (form.prompt === 'login' && !ACCOUNTS.has(String(form.login ?? ''))) {
    console.log(`oidc: login rejected for unknown account ${JSON.stringify(String(form.login ?? ''))}`);
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'unknown account',
    }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return undefined;
  }
  return next();
});

provider.on('server_error', (ctx, err) => console.error('oidc: server_error', err));
provider.on('grant.error', (ctx, err) => console.log(`oidc: grant.error ${err.error ?? err.name}: ${err.error_description ?? err.message}`));
provider.on('authorization.error', (ctx, err) => console.log(`oidc: authorization.error ${err.error ?? err.name}: ${err.error_description ?? err.message}`));

const server = provider.listen(PORT, HOST);
server.on('listening', () => {
  console.log(`oidc: listening on ${ISSUER} (pid ${process.pid}, state ${STATE_DIR}, ${Math.round(process.uptime() * 1000)} ms after launch)`);
});
server.on('error', (err) => {
  console.error(`oidc: cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`oidc: ${sig} received, shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
