#!/usr/bin/env node
// A small, real OpenID Connect provider for Gatehouse's tests ("Sign in with SSO").
//
// It is the `oidc-provider` package configured with one confidential client,
// a handful of test users, a minimal login page and a few test controls.
//
// Usage:
//   node end2end/oidc/provider.mjs [--port N] [--issuer URL] [--exit-with-stdin]
//     --client-id ID --client-secret SECRET --redirect-uri URI [--redirect-uri URI2 ...]
//
// --port 0 (the default) picks a free port. It listens on 127.0.0.1 only. The
// issuer defaults to http://127.0.0.1:{port} (no trailing slash). Once listening
// it prints one line, `READY {issuer}`, to stdout and nothing else there.
// --exit-with-stdin makes it exit when its stdin closes (use it when the parent
// holds a pipe to it); without that flag stdin is left alone. SIGTERM/SIGINT exit.
//
// Login: GET /interaction/:uid shows the form, POST /interaction/:uid/login checks
// it. Consent is granted automatically.
//
// Test controls (POST, JSON body, answer 204):
//   /__test/users   {sub, email, email_verified, name, password}  add or replace a user
//   /__test/tamper  {mode}  none | bad_signature | wrong_audience | wrong_issuer |
//                   expired | wrong_nonce — alters the id_token of the following
//                   token responses; userinfo_other_sub — the UserInfo answers name
//                   another subject than the id_token; until set back to none
//   /__test/rotate  new signing key (new kid); the old one leaves /jwks. Keys are fixed
//                   per Provider instance, so this builds a new one, and what the old one
//                   kept in memory (sessions, pending logins, unredeemed codes) is gone:
//                   users sign in again afterwards, and a login that is half-way through
//                   a rotation is not supported.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';

// stdout carries only the READY line. oidc-provider prints notices with
// console.info, so send those to stderr, and drop its two warnings that are
// expected here (in-memory store, Node.js version).
console.log = console.info = (...args) => console.error(...args);
const quietWarnings = ['in-memory adapter is used', 'Unsupported runtime'];
const warn = console.warn;
console.warn = (...args) => {
  const text = String(args[0]);
  if (!quietWarnings.some((part) => text.includes(part))) warn(...args);
};
// Imported after the console is set up, since it warns at import time.
const { default: Provider } = await import('oidc-provider');

// ---------------------------------------------------------------- options

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  console.error(`provider.mjs: ${err.message}`);
  process.exit(2);
}

for (const name of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!options[name]) {
    console.error(`provider.mjs: --${name} is required`);
    process.exit(2);
  }
}
const port = Number(options.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`provider.mjs: bad --port ${options.port}`);
  process.exit(2);
}

// ---------------------------------------------------------------- state

const SCOPE = 'openid email profile';

// Test users, by sub.
const users = new Map();
function putUser({ sub, email, email_verified = false, name, password }) {
  users.set(sub, { sub, email, email_verified: Boolean(email_verified), name, password });
}
putUser({ sub: 'ada-0001', email: 'ada@idp.test', email_verified: true, name: 'Ada Lovelace', password: 'ada-password' });
putUser({ sub: 'eve-0002', email: 'eve@idp.test', email_verified: false, name: 'Eve Unverified', password: 'eve-password' });

let tamperMode = 'none';
const TAMPER_MODES = new Set(['none', 'bad_signature', 'wrong_audience', 'wrong_issuer', 'expired', 'wrong_nonce',
  'userinfo_other_sub']);

// Cookie signing keys, the same for every Provider instance.
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// A key that is never published: id tokens signed with it must be refused.
const strangerKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: crypto.randomBytes(12).toString('base64url'),
    use: 'sig',
    alg: 'RS256',
  };
  return { privateKey, jwk };
}

// ---------------------------------------------------------------- the provider

function createProvider(issuer, signingKey) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: options['client-id'],
      client_secret: options['client-secret'],
      redirect_uris: options['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingKey.jwk] },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true }, // 9.x knows only S256
    scopes: SCOPE.split(' '),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // conformIdTokenClaims stays at its default (true): for the code flow the ID token
    // carries only `sub`, and email, email_verified and name are read from UserInfo, as
    // with many real providers.
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (ctx, sub) => {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, email: user.email, email_verified: user.email_verified, name: user.name }),
      };
    },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Sign-in error</h1>${Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`).join('')}`);
    },
  });

  // Alters the id_token of token responses, or the UserInfo answer, as /__test/tamper asked.
  provider.use(async (ctx, next) => {
    await next();
    if (tamperMode === 'none') return;
    if (tamperMode === 'userinfo_other_sub') {
      if (ctx.oidc?.route === 'userinfo' && ctx.body && typeof ctx.body === 'object') {
        ctx.body = { ...ctx.body, sub: 'someone-else' };
      }
      return;
    }
    if (ctx.oidc?.route !== 'token' && ctx.path !== '/token') return;
    if (!ctx.body || typeof ctx.body.id_token !== 'string') return;
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, signingKey.privateKey) };
  });

  // Koa builds a request handler on each call of callback(): build it once.
  return { provider, handle: provider.callback() };
}

async function tamper(idToken, realKey) {
  const header = decodeProtectedHeader(idToken); // alg, kid, typ are kept
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = realKey;
  switch (tamperMode) {
    case 'bad_signature': key = strangerKey; break;
    case 'wrong_audience': claims.aud = 'someone-else'; break;
    case 'wrong_issuer': claims.iss = 'http://evil.example'; break;
    case 'expired': claims.exp = now - 600; claims.iat = now - 1200; break;
    case 'wrong_nonce': claims.nonce = 'not-the-nonce'; break;
    default: return idToken;
  }
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

// ---------------------------------------------------------------- pages

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: sans-serif; background: #f4f4f6; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
  label { display: block; margin-top: 1rem; }
  input { width: 100%; box-sizing: border-box; padding: .4rem; margin-top: .25rem; }
  button { margin-top: 1.25rem; padding: .5rem 1rem; }
  .error { color: #a00; }
</style>
</head>
<body><main>${body}</main></body>
</html>
`;
}

function loginPage(uid, { email = '', error } = {}) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('Test identity provider', `
<h1>Test identity provider</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${action}/login">
  <label for="login">Email</label>
  <input id="login" name="login" type="email" value="${escapeHtml(email)}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password">
  <button type="submit">Sign in</button>
</form>
<form method="post" action="${action}/abort">
  <button type="submit">Cancel</button>
</form>`);
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------- interactions

// A grant for everything the authorization request asked for (consent is automatic).
async function grantFor(provider, details, accountId) {
  const { params, prompt } = details;
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  grant ||= new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope || SCOPE);
  if (params.claims) {
    const { id_token: idToken = {}, userinfo = {} } = JSON.parse(params.claims);
    grant.addOIDCClaims([...Object.keys(idToken), ...Object.keys(userinfo)]);
  }
  if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details?.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function handleInteraction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page('Sign-in error', '<p>This sign-in page has expired. Start again.</p>'));
    return;
  }

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') {
      send(res, 200, loginPage(uid, { email: details.params.login_hint || '' }));
      return;
    }
    // Consent (login already done): granted without asking.
    const grantId = await grantFor(provider, details, details.session.accountId);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (req.method === 'POST' && action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const email = form.get('login') || '';
    const password = form.get('password') || '';
    const user = [...users.values()].find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
    if (!user || user.password !== password) {
      send(res, 200, loginPage(uid, { email, error: 'Wrong email or password.' }));
      return;
    }
    // Login and consent in one step.
    const grantId = await grantFor(provider, details, user.sub);
    await provider.interactionFinished(req, res, {
      login: { accountId: user.sub },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (req.method === 'POST' && action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  send(res, 405, page('Not allowed', '<p>Method not allowed.</p>'));
}

// ---------------------------------------------------------------- test controls

async function handleTestControl(req, res, name) {
  if (req.method !== 'POST') {
    send(res, 405, 'POST only\n', 'text/plain');
    return;
  }
  const text = await readBody(req);
  const body = text ? JSON.parse(text) : {};
  switch (name) {
    case 'users':
      if (typeof body.sub !== 'string' || typeof body.email !== 'string' || typeof body.password !== 'string') {
        send(res, 400, 'sub, email and password are required\n', 'text/plain');
        return;
      }
      putUser(body);
      break;
    case 'tamper':
      if (!TAMPER_MODES.has(body.mode)) {
        send(res, 400, `mode must be one of ${[...TAMPER_MODES].join(', ')}\n`, 'text/plain');
        return;
      }
      tamperMode = body.mode;
      break;
    case 'rotate':
      current = createProvider(issuer, newSigningKey());
      break;
    default:
      send(res, 404, 'unknown test control\n', 'text/plain');
      return;
  }
  res.statusCode = 204;
  res.end();
}

// ---------------------------------------------------------------- server

let issuer;
let current; // { provider, handle } in use; replaced by /__test/rotate

const server = http.createServer(async (req, res) => {
  const { provider, handle } = current;
  const { pathname } = new URL(req.url, 'http://localhost');
  try {
    let match;
    if ((match = pathname.match(/^\/__test\/([a-z]+)$/))) {
      await handleTestControl(req, res, match[1]);
    } else if ((match = pathname.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/))) {
      await handleInteraction(provider, req, res, decodeURIComponent(match[1]), match[2]);
    } else {
      handle(req, res);
    }
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = err.status || err.statusCode || (err instanceof SyntaxError ? 400 : 500);
    if (status >= 500) console.error(err);
    send(res, status, page('Sign-in error', `<h1>Sign-in error</h1><p>${escapeHtml(err.error_description || err.message)}</p>`));
  }
});

server.listen(port, '127.0.0.1', () => {
  issuer = options.issuer || `http://127.0.0.1:${server.address().port}`;
  current = createProvider(issuer, newSigningKey());
  process.stdout.write(`READY ${issuer}\n`);
});

server.on('error', (err) => {
  console.error(`provider.mjs: ${err.message}`);
  process.exit(1);
});

// ---------------------------------------------------------------- lifetime

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (options['exit-with-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
