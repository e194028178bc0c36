// An agency's integration with Facegate, as an agency's engineers would write it: a small koa app
// with openid-client 6. Sign-in (PAR, PKCE S256, DPoP, private_key_jwt), an ID token and userinfo
// encrypted to the agency's own key (JWE), verified_claims asked through the claims parameter, a
// back-channel logout receiver, and proof of life started by the agency (CIBA, poll or ping).
// Standalone: it imports only openid-client, jose and koa, never the gateway's code.
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { calculateJwkThumbprint, compactDecrypt, createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';

/** The agency's key pairs as JWKs: one to sign its client assertions, one to receive encrypted tokens. */
export type AgencyKeys = { signing: JWK; encryption: JWK };

export type AgencyOptions = {
  /** The gateway's issuer URL. */
  issuer: string;
  clientId: string;
  /** This app's own base URL (its redirect URI is `${baseUrl}/callback`). */
  baseUrl: string;
  keys: AgencyKeys;
  /** Scopes asked for at sign-in (default `openid profile`). */
  scope?: string;
  /** Ask for the ID token and userinfo encrypted to `keys.encryption` (the agency must be registered for it). */
  encrypted?: boolean;
  /** The claims asked for inside verified_claims at sign-in (none: verified_claims is not asked for). */
  verifiedClaims?: string[];
};

/** Fresh keys: PS256 for signing, RSA-OAEP-256 for encryption (private JWKs, to keep in a file). */
export async function generateAgencyKeys(): Promise<AgencyKeys> {
  const sig = await generateKeyPair('PS256', { extractable: true });
  const enc = await generateKeyPair('RSA-OAEP-256', { extractable: true });
  const signing = await exportJWK(sig.privateKey);
  const encryption = await exportJWK(enc.privateKey);
  return {
    signing: { ...signing, alg: 'PS256', use: 'sig', kid: await calculateJwkThumbprint(signing) },
    encryption: { ...encryption, alg: 'RSA-OAEP-256', use: 'enc', kid: await calculateJwkThumbprint(encryption) },
  };
}

/** The public JWKS to give the gateway's operator (`facegate clients add --jwks FILE`). */
export function publicJwks(keys: AgencyKeys): { keys: JWK[] } {
  const pub = ({ kty, n, e, crv, x, y, alg, use, kid }: JWK): JWK => JSON.parse(JSON.stringify({ kty, n, e, crv, x, y, alg, use, kid })) as JWK;
  return { keys: [pub(keys.signing), pub(keys.encryption)] };
}

/** What the agency saw, kept for its pages (and its tests): sign-ins, logouts, proofs of life. */
export type AgencyRecord = {
  signIns: Array<{ sub: string; acr: unknown; claims: Record<string, unknown>; userinfo: Record<string, unknown>; encrypted: boolean; at: number }>;
  logouts: Array<{ sub?: string; sid?: string; jti?: string; at: number }>;
  proofs: Map<string, ProofOfLife>;
};
export type ProofOfLife = { id: string; mode: 'poll' | 'ping'; status: 'pending' | 'verified' | 'failed'; error?: string; claims?: Record<string, unknown>; authReqId: string };

type Pending = { verifier: string; nonce: string; dpop: client.CryptoKeyPair; expires: number };
type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>${html(title)}</title><h1>${html(title)}</h1>${body}</html>`;

/**
 * The agency's app and what it recorded. Routes: `/` (links), `/login?level=substantial|high`,
 * `/callback`, `/logout`, `POST /backchannel-logout`, `POST /proof-of-life` (CIBA, form fields
 * `login_hint`, `binding_message`, `mode`), `GET /proof-of-life/:id`, `POST /ciba-ping`.
 */
export async function createAgency(o: AgencyOptions) {
  const signingKey = await importJWK(o.keys.signing, 'PS256') as CryptoKey;
  const decryptionKey = await importJWK(o.keys.encryption, 'RSA-OAEP-256') as CryptoKey;
  const redirectUri = `${o.baseUrl}/callback`;
  const insecure = o.issuer.startsWith('http://');
  const config = await client.discovery(new URL(o.issuer), o.clientId, {
    id_token_signed_response_alg: 'PS256',
    // Encrypted: the ID token is a JWE around the signed JWT, userinfo a signed JWT in a JWE.
    ...(o.encrypted ? { id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A256GCM', userinfo_signed_response_alg: 'PS256' } : {}),
  }, client.PrivateKeyJwt(signingKey, { [client.modifyAssertion]: (h) => { h.kid = o.keys.signing.kid; } }), {
    execute: insecure ? [client.allowInsecureRequests, client.enableNonRepudiationChecks] : [client.enableNonRepudiationChecks],
  });
  if (o.encrypted) client.enableDecryptingResponses(config, ['A256GCM'], { key: decryptionKey, kid: o.keys.encryption.kid, alg: 'RSA-OAEP-256' });
  const gatewayKeys = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const record: AgencyRecord = { signIns: [], logouts: [], proofs: new Map() };
  const pending = new Map<string, Pending>();
  const claimsParameter = o.verifiedClaims?.length
    ? JSON.stringify({
      id_token: { verified_claims: { verification: { trust_framework: null }, claims: Object.fromEntries(o.verifiedClaims.map((c) => [c, null])) } },
      userinfo: { verified_claims: { verification: { trust_framework: null }, claims: Object.fromEntries(o.verifiedClaims.map((c) => [c, null])) } },
    })
    : undefined;
  let lastIdToken: string | undefined;

  /** After a verified sign-in or proof of life: the ID token's claims, and userinfo with the same DPoP key. */
  async function complete(tokens: Tokens, dpop: client.DPoPHandle) {
    const claims = tokens.claims()!;
    // The logout hint is the signed ID token: when it came encrypted (to us), its inner JWS.
    // (a string from a CIBA grant, an object from an authorization code grant).
    const decrypted = client.getDecryptedResponses(tokens) as string | client.DecryptedAuthorizationCodeResponses | undefined;
    lastIdToken = (typeof decrypted === 'string' ? decrypted : decrypted?.id_token?.token_endpoint) ?? tokens.id_token;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
    // Encrypted: both came as JWEs that openid-client decrypted with our key (it keeps the inner JWS).
    const encrypted = Boolean(client.getDecryptedResponses(tokens)) && Boolean(client.getDecryptedResponses(userinfo));
    const entry = { sub: claims.sub, acr: claims.acr, claims: { ...claims }, userinfo: { ...userinfo }, encrypted, at: Date.now() };
    record.signIns.push(entry);
    return entry;
  }

  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err as { error?: string; error_description?: string; message?: string };
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p><code>${html(e.error ?? 'error')}</code> ${html(e.error_description ?? e.message ?? '')}</p>`);
    }
  });
  app.use(async (ctx) => {
    const path = ctx.path;
    if (ctx.method === 'GET' && path === '/') {
      ctx.type = 'html';
      ctx.body = page(`Agency ${o.clientId}`, `<ul><li><a href="/login?level=substantial">Sign in (substantial)</a></li><li><a href="/login?level=high">Sign in (high)</a></li></ul>
<form method="post" action="/proof-of-life"><label>login_hint <input name="login_hint"></label> <label>binding message <input name="binding_message" value="Pension proof of life"></label> <select name="mode"><option>poll</option><option>ping</option></select> <button>Ask for a proof of life</button></form>
<p>${record.signIns.length} sign-ins, ${record.logouts.length} back-channel logouts.</p>`);
      return;
    }
    if (ctx.method === 'GET' && path === '/login') {
      const p: Pending = { verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce(), dpop: await client.randomDPoPKeyPair('ES256'), expires: Date.now() + 600_000 };
      const state = client.randomState();
      for (const [k, v] of pending) if (v.expires < Date.now()) pending.delete(k);
      pending.set(state, p);
      const acr = ctx.query.level === 'high' ? 'http://eidas.europa.eu/LoA/high' : 'http://eidas.europa.eu/LoA/substantial';
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: redirectUri, scope: o.scope ?? 'openid profile', state, nonce: p.nonce, acr_values: acr,
        code_challenge: await client.calculatePKCECodeChallenge(p.verifier), code_challenge_method: 'S256',
        ...(claimsParameter ? { claims: claimsParameter } : {}),
      }, { DPoP: client.getDPoPHandle(config, p.dpop) });
      ctx.cookies.set('agency_state', state, { httpOnly: true, sameSite: 'lax' });
      ctx.redirect(url.href);
      return;
    }
    if (ctx.method === 'GET' && path === '/callback') {
      const state = ctx.cookies.get('agency_state');
      const p = state ? pending.get(state) : undefined;
      if (!state || !p) throw new Error('unknown or expired sign-in');
      pending.delete(state);
      const dpop = client.getDPoPHandle(config, p.dpop);
      const tokens = await client.authorizationCodeGrant(config, new URL(ctx.href.replace(ctx.origin, o.baseUrl)), {
        pkceCodeVerifier: p.verifier, expectedNonce: p.nonce, expectedState: state, idTokenExpected: true,
      }, undefined, { DPoP: dpop });
      const entry = await complete(tokens, dpop);
      ctx.type = 'html';
      ctx.body = page('Signed in', `<pre>${html(JSON.stringify({ idToken: entry.claims, userinfo: entry.userinfo }, null, 2))}</pre><a href="/logout">Sign out</a>`);
      return;
    }
    if (ctx.method === 'GET' && path === '/logout') {
      ctx.redirect(client.buildEndSessionUrl(config, { ...(lastIdToken ? { id_token_hint: lastIdToken } : {}), post_logout_redirect_uri: `${o.baseUrl}/`, state: client.randomState() }).href);
      return;
    }
    if (ctx.method === 'POST' && path === '/backchannel-logout') {
      // OpenID Connect Back-Channel Logout 1.0 §2.6: a signed logout token from the issuer, for us, with the logout event.
      const body = new URLSearchParams(await readBody(ctx.req));
      // Encrypted to our key when we registered for encrypted ID tokens: a JWE around the signed token.
      let token = body.get('logout_token') ?? '';
      if (token.split('.').length === 5) token = new TextDecoder().decode((await compactDecrypt(token, decryptionKey)).plaintext);
      const { payload } = await jwtVerify(token, gatewayKeys, { issuer: config.serverMetadata().issuer, audience: o.clientId, typ: 'logout+jwt', maxTokenAge: '2m' });
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events?.['http://schemas.openid.net/event/backchannel-logout'] || payload.nonce !== undefined) { ctx.status = 400; return; }
      record.logouts.push({ sub: payload.sub, sid: payload.sid as string | undefined, jti: payload.jti, at: Date.now() });
      ctx.status = 200;
      ctx.set('Cache-Control', 'no-store');
      return;
    }
    if (ctx.method === 'POST' && path === '/proof-of-life') {
      const body = new URLSearchParams(await readBody(ctx.req));
      const mode = body.get('mode') === 'ping' ? 'ping' : 'poll';
      const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
      const id = randomUUID();
      const response = await client.initiateBackchannelAuthentication(config, {
        scope: o.scope ?? 'openid profile', acr_values: 'http://eidas.europa.eu/LoA/high',
        login_hint: body.get('login_hint') ?? '', binding_message: body.get('binding_message') ?? 'Proof of life',
        ...(mode === 'ping' ? { client_notification_token: id } : {}),
      });
      const proof: ProofOfLife = { id, mode, status: 'pending', authReqId: response.auth_req_id };
      record.proofs.set(id, proof);
      const settle = (p: Promise<Tokens>) => p
        .then(async (tokens) => { proof.claims = (await complete(tokens, dpop)).claims; proof.status = 'verified'; })
        .catch((err: { error?: string; message?: string }) => { proof.status = 'failed'; proof.error = err.error ?? err.message; });
      // Poll: openid-client waits `interval` between requests and slows down when told to.
      if (mode === 'poll') void settle(client.pollBackchannelAuthenticationGrant(config, response, undefined, { DPoP: dpop }));
      else pings.set(id, () => void settle(client.pollBackchannelAuthenticationGrant(config, { ...response, interval: 0 }, undefined, { DPoP: dpop })));
      ctx.status = 202;
      // With the gateway's `qr` notifier the one-time link comes back here, for the agency to show
      // as a QR code at its desk; with `webhook` it goes to the agency's notification URI instead.
      const link = typeof response.facegate_link === 'string' ? response.facegate_link : undefined;
      ctx.body = { id, status: proof.status, auth_req_id: response.auth_req_id, expires_in: response.expires_in, ...(link ? { link } : {}) };
      return;
    }
    const proofPath = /^\/proof-of-life\/([\w-]+)$/.exec(path);
    if (ctx.method === 'GET' && proofPath) {
      const proof = record.proofs.get(proofPath[1]);
      if (!proof) { ctx.status = 404; return; }
      ctx.body = { id: proof.id, status: proof.status, error: proof.error, claims: proof.claims };
      return;
    }
    if (ctx.method === 'POST' && path === '/ciba-ping') {
      // CIBA §10.2: the ping carries our client_notification_token as a bearer token, and the auth_req_id.
      const token = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1];
      const ping = token ? pings.get(token) : undefined;
      if (!ping) { ctx.status = 401; return; }
      pings.delete(token!);
      ping();
      ctx.status = 204;
      return;
    }
    ctx.status = 404;
  });
  const pings = new Map<string, () => void>();
  return { app, record, config, redirectUri };
}

/** The request body as text, at most 64 KiB. */
async function readBody(req: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new Error('body too large');
  }
  return text;
}
