// Koa routes of the citizen's space under /account (docs/support.md). Signing in: /account/login
// sends her through the gateway's own provider as the client facegate-account (openid-client:
// PAR, PKCE, DPoP, private_key_jwt; prompt=login, so a fresh face check at substantial, high while
// she has an open report), /account/callback checks the ID token, reads her national ID at
// userinfo and opens a space session. Every form posts the session's CSRF token.
import type {} from '@koa/bodyparser'; // ctx.request.body
import Router from '@koa/router';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import type { Context } from 'koa';
import * as client from 'openid-client';
import type { Config } from '../../config/schema.ts';
import { accountMessages } from '../../views/account-i18n.ts';
import { renderAccount, renderAccountSignedOut } from '../../views/account.ts';
import { fill, languageOf, messagesOf } from '../../views/index.ts';
import type { Audit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { acrHigh, acrSubstantial, levelOf, satisfies } from '../oidc/acr.ts';
import { findClient } from '../oidc/clients.ts';
import { accountClientId, accountScopes } from '../oidc/first-party.ts';
import { findCitizenByNationalId } from '../registry/citizens.ts';
import type { Csrf } from '../server/csrf.ts';
import { AppError } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import { createAccountRelyingParty, ensureAccountClient } from './client.ts';
import { createAccountService, type Requester } from './service.ts';
import { endSession, openSession, savePendingLogin, takePendingLogin, touchSession, type AccountSession } from './sessions.ts';

export type AccountDeps = { db: Db; audit: Audit; config: Readonly<Config>; sealer: Sealer; csrf: Csrf; onReport?: () => void; clock?: () => number };

const sessionCookie = 'facegate_account';
const loginCookie = 'facegate_account_login';

/** Registers the space's client (key sealed in the database) and returns its routes. */
export async function createAccountRouter(deps: AccountDeps): Promise<Router> {
  const { db, audit, config, sealer, csrf } = deps;
  const clock = deps.clock ?? Date.now;
  const issuer = config.server.issuer!;
  const key = await ensureAccountClient(db, sealer, issuer, clock);
  const discover = createAccountRelyingParty(issuer, key, config.account.internalUrl);
  const service = createAccountService({ db, audit, issuer, onReport: deps.onReport, clock });
  const limits = { idleSeconds: config.account.idleSeconds, maxSeconds: config.account.maxSeconds };
  const redirectUri = `${issuer}/account/callback`;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, path: '/account', overwrite: true, ...(config.env === 'production' ? { secure: true } : {}) };
  const requester = (ctx: Context): Requester => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
  const csrfKey = (s: AccountSession) => `account:${s.id}`;

  const router = new Router({ prefix: '/account' });
  router.use(async (ctx, next) => {
    await next();
    ctx.set('Cache-Control', 'no-store');
  });

  const current = (ctx: Context) => touchSession(db, ctx.cookies.get(sessionCookie), limits, clock());
  /** The session of a form post, its CSRF token checked; without one, back to the signed-out page. */
  async function posted(ctx: Context): Promise<{ session: AccountSession; body: Record<string, unknown> } | undefined> {
    const session = await current(ctx);
    if (!session) {
      ctx.status = 303;
      ctx.redirect('/account');
      return undefined;
    }
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    csrf.verify(csrfKey(session), body.csrf);
    return { session, body };
  }
  const done = (ctx: Context, kind: string, extra = '') => { ctx.status = 303; ctx.redirect(`/account?done=${kind}${extra}`); };

  router.get('/', async (ctx) => {
    const lang = languageOf(ctx);
    ctx.type = 'html';
    const session = await current(ctx);
    if (!session) {
      ctx.body = renderAccountSignedOut({ lang, signedOut: ctx.query.signed_out === '1' });
      return;
    }
    const before = Number(ctx.query.before);
    const paged = Number.isSafeInteger(before) && before > 0;
    const [log, consents, requests, devices, reportOpen] = await Promise.all([
      service.accessLog(session.citizenId, paged ? before : undefined), service.consents(session.citizenId),
      service.pendingRequests(session.citizenId), service.devices(session.citizenId), service.hasOpenReport(session.citizenId),
    ]);
    const t = accountMessages(lang);
    const purposes = messagesOf(lang).authorizationDetails;
    const doneKind = typeof ctx.query.done === 'string' ? ctx.query.done : undefined;
    const doneAgency = doneKind === 'revoked' && typeof ctx.query.client === 'string' ? (await findClient(db, ctx.query.client))?.client_name : undefined;
    ctx.body = renderAccount({
      lang, csrf: csrf.token(csrfKey(session)), level: levelOf(session.acr === acrHigh ? acrHigh : acrSubstantial), idleMinutes: Math.round(limits.idleSeconds / 60), reportOpen,
      ...(doneKind ? { done: { kind: doneKind, agency: doneAgency ? String(doneAgency) : undefined } } : {}),
      requests: requests.map((r) => ({ id: r.id, agencyName: r.agency.name, bindingMessage: r.bindingMessage, expiresAt: r.expiresAt, openable: r.openable })),
      log: {
        paged, ...(log.next ? { next: log.next } : {}),
        entries: log.entries.map((e) => ({
          id: e.id, at: e.at, agencyName: e.clientId === accountClientId ? t.selfName : e.agency.name, kind: e.kind,
          level: e.acr === acrHigh ? 'high' : e.acr === acrSubstantial ? 'substantial' : null, amr: e.amr, claims: e.claims, reported: e.reported,
        })),
      },
      consents: consents.map((c) => ({
        clientId: c.clientId, agencyName: c.agency.name, claims: c.claims, decidedAt: c.decidedAt,
        purposes: c.authorizationDetails.map((d) => fill(purposes[d.type] ?? d.type, Object.fromEntries(Object.entries(d).filter(([, v]) => typeof v === 'string' || typeof v === 'number')) as Record<string, string>)),
      })),
      devices: devices.map((d) => ({ id: d.id, label: d.label, kind: d.kind, createdAt: d.createdAt, lastUsedAt: d.lastUsedAt })),
    });
  });

  router.get('/login', async (ctx) => {
    const config = await discover();
    const state = client.randomState();
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const dpop = await generateKeyPair('ES256', { extractable: true });
    await savePendingLogin(db, sealer, state, {
      verifier, nonce, dpop: { privateJwk: await exportJWK(dpop.privateKey) as JsonWebKey, publicJwk: await exportJWK(dpop.publicKey) as JsonWebKey },
    }, clock());
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri, scope: accountScopes, state, nonce, acr_values: acrSubstantial, prompt: 'login',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      ui_locales: languageOf(ctx),
    }, { DPoP: client.getDPoPHandle(config, dpop as client.CryptoKeyPair) });
    ctx.cookies.set(loginCookie, state, { ...cookie, maxAge: 600_000 });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const state = ctx.cookies.get(loginCookie);
    ctx.cookies.set(loginCookie, null, cookie);
    const pending = state && ctx.query.state === state ? await takePendingLogin(db, sealer, state, clock()) : undefined;
    if (!pending) throw new AppError('account_sign_in_failed', 'this sign-in to your space was not started here, or is over: start again');
    if (ctx.query.error) throw new AppError('account_sign_in_failed', 'the sign-in did not finish: start again');
    const config = await discover();
    const DPoP = client.getDPoPHandle(config, {
      privateKey: await importJWK(pending.dpop.privateJwk as never, 'ES256') as CryptoKey, publicKey: await importJWK(pending.dpop.publicJwk as never, 'ES256') as CryptoKey,
    });
    let claims: client.IDToken;
    let nationalId: unknown;
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(`${redirectUri}${ctx.search}`), {
        pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, expectedState: state, idTokenExpected: true,
      }, undefined, { DPoP });
      claims = tokens.claims()!;
      nationalId = (await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP })).national_id;
    } catch (err) {
      throw new AppError('account_sign_in_failed', `the sign-in could not be completed (${(err as { code?: string }).code ?? 'error'}): start again`);
    }
    const citizen = typeof nationalId === 'string' ? await findCitizenByNationalId(db, nationalId) : undefined;
    // Substantial at least; high while she has an open report (the capture steps her up: this holds it).
    const acr = claims.acr;
    if (!citizen || citizen.status !== 'active' || !satisfies(acr, acrSubstantial)
      || (await service.hasOpenReport(citizen.id) && !satisfies(acr, acrHigh))) {
      throw new AppError('account_sign_in_failed', 'the sign-in did not reach the level your space needs: start again');
    }
    const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
    const { token, session } = await openSession(db, { citizenId: citizen.id, acr: String(acr), amr }, limits, clock());
    await audit({ type: 'account.signed_in', outcome: 'success', citizenId: citizen.id, ...requester(ctx), details: { acr, amr, session: session.id.slice(0, 16) } });
    ctx.cookies.set(sessionCookie, token, cookie);
    ctx.status = 303;
    ctx.redirect('/account');
  });

  router.post('/logout', async (ctx) => {
    const p = await posted(ctx);
    if (!p) return;
    await endSession(db, p.session.id);
    await audit({ type: 'account.signed_out', outcome: 'info', citizenId: p.session.citizenId, ...requester(ctx) });
    ctx.cookies.set(sessionCookie, null, cookie);
    ctx.status = 303;
    ctx.redirect('/account?signed_out=1');
  });

  router.post('/consents/revoke', async (ctx) => {
    const p = await posted(ctx);
    if (!p) return;
    const clientId = typeof p.body.clientId === 'string' ? p.body.clientId : '';
    await service.revokeConsent(p.session.citizenId, clientId, requester(ctx));
    done(ctx, 'revoked', `&client=${encodeURIComponent(clientId)}`);
  });

  router.post('/report', async (ctx) => {
    const p = await posted(ctx);
    if (!p) return;
    await service.report(p.session.citizenId, Number(p.body.eventId), p.session.id, requester(ctx));
    done(ctx, 'reported');
  });

  router.post('/requests/open', async (ctx) => {
    const p = await posted(ctx);
    if (!p) return;
    const to = await service.openRequest(p.session.citizenId, typeof p.body.id === 'string' ? p.body.id : '', requester(ctx));
    ctx.status = 303;
    ctx.redirect(to);
  });

  router.post('/devices/remove', async (ctx) => {
    const p = await posted(ctx);
    if (!p) return;
    await service.removeDevice(p.session.citizenId, typeof p.body.id === 'string' ? p.body.id : '', requester(ctx));
    done(ctx, 'removed');
  });

  return router;
}
