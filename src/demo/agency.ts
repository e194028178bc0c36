// The demo agency: a relying party inside the gateway process (development), registered on start
// with a fresh key, that signs a citizen in through the real protocol (openid-client: PAR, PKCE,
// DPoP, private_key_jwt) and shows the verified ID token, in the language the gateway's pages use
// (languageOf). Talks to the provider only over HTTP.
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { exportJWK, generateKeyPair, decodeProtectedHeader, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { languageOf, renderDemoError, renderDemoHome, renderDemoResult } from '../../views/index.ts';
import type { Db } from '../db/knex.ts';
import { acrHigh, acrSubstantial } from '../oidc/acr.ts';
import { buildAgencyMetadata, upsertClient } from '../oidc/clients.ts';

export const demoClientId = 'demo-pension-office';
type Pending = { verifier: string; nonce: string; acr: string; dpop: CryptoKeyPair; expires: number };

/** Registers the demo agency (fresh key each start) and returns its routes under /demo. */
export async function createDemoAgency({ db, issuer }: { db: Db; issuer: string }): Promise<Router> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: `demo-${randomBytes(4).toString('hex')}` };
  const redirectUri = `${issuer}/demo/callback`;
  await upsertClient(db, buildAgencyMetadata({
    clientId: demoClientId, name: 'Demo pension office', redirectUris: [redirectUri],
    jwks: { keys: [jwk] }, scopes: ['openid', 'profile', 'national_id'],
  }));
  let configuration: Promise<client.Configuration> | undefined;
  const discover = () => (configuration ??= client.discovery(new URL(issuer), demoClientId, {
    id_token_signed_response_alg: 'PS256',
  }, client.PrivateKeyJwt(privateKey as CryptoKey, { [client.modifyAssertion]: (h) => { h.kid = jwk.kid; } }), {
    execute: issuer.startsWith('http://') ? [client.allowInsecureRequests, client.enableNonRepudiationChecks] : [client.enableNonRepudiationChecks],
  }).catch((err) => { configuration = undefined; throw err; }));
  // Pending sign-ins by state; a demo for one process, so memory is enough (bounded, 10 minutes).
  const pending = new Map<string, Pending>();

  const router = new Router({ prefix: '/demo' });
  router.get('/', (ctx) => {
    ctx.type = 'html';
    ctx.body = renderDemoHome({
      issuer, clientId: demoClientId, lang: languageOf(ctx),
      levels: [{ level: 'substantial', href: '/demo/login?level=substantial' }, { level: 'high', href: '/demo/login?level=high' }],
      enrollHint: './bin/facegate registry add --national-id YOURID123 --given-name Ada --family-name Lovelace --birthdate 1990-12-10 --photo my-photo.jpg',
      enrollUrl: '/demo/enroll',
    });
  });

  router.get('/login', async (ctx) => {
    const config = await discover();
    const now = Date.now();
    for (const [k, v] of pending) if (v.expires < now || pending.size > 1000) pending.delete(k);
    const state = client.randomState();
    const p: Pending = {
      verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce(),
      acr: ctx.query.level === 'high' ? acrHigh : acrSubstantial,
      dpop: await client.randomDPoPKeyPair('ES256'), expires: now + 600_000,
    };
    pending.set(state, p);
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri, scope: 'openid profile national_id', state, nonce: p.nonce, acr_values: p.acr,
      code_challenge: await client.calculatePKCECodeChallenge(p.verifier), code_challenge_method: 'S256',
    }, { DPoP: client.getDPoPHandle(config, p.dpop) });
    ctx.cookies.set('demo_state', state, { httpOnly: true, sameSite: 'lax', maxAge: 600_000 });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const state = ctx.cookies.get('demo_state');
    const p = state ? pending.get(state) : undefined;
    const lang = languageOf(ctx);
    ctx.type = 'html';
    if (!state || !p) {
      ctx.status = 400;
      ctx.body = renderDemoError({ error: 'unknown_state', lang });
      return;
    }
    pending.delete(state);
    if (ctx.query.error) {
      ctx.status = 400;
      ctx.body = renderDemoError({ error: String(ctx.query.error), description: ctx.query.error_description ? String(ctx.query.error_description) : undefined, lang });
      return;
    }
    const config = await discover();
    const DPoP = client.getDPoPHandle(config, p.dpop);
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(ctx.href), {
        pkceCodeVerifier: p.verifier, expectedNonce: p.nonce, expectedState: state, idTokenExpected: true,
      }, undefined, { DPoP });
      const claims = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
      ctx.body = renderDemoResult({
        claims: { ...claims }, userinfo: { ...userinfo }, idTokenHeader: decodeProtectedHeader(tokens.id_token!), lang,
        validation: [
          { check: 'signature' }, { check: 'claims' },
          { check: 'acr', values: { requested: p.acr, received: String(claims.acr) } },
          { check: 'grant' }, { check: 'userinfo', values: { tokenType: tokens.token_type } },
        ],
      });
    } catch (err) {
      ctx.status = 400;
      ctx.body = renderDemoError({ error: (err as { code?: string }).code ?? 'sign_in_failed', description: (err as Error).message, lang });
    }
  });
  return router;
}
