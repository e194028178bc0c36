// Koa routes of the sign-in interaction (docs/capture-api.md): the page and its JSON form, the
// quality preview, capture start, frame submission, the no-JavaScript form, consent and abort.
// Protocol state stays in oidc-provider (interactionDetails / interactionResult).
import type {} from '@koa/bodyparser'; // ctx.request.body
import Router from '@koa/router';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { renderConsent, renderSignIn, claimLabels, languageOf, type Feedback } from '../../views/index.ts';
import type { Audit } from '../audit/log.ts';
import { recordConsent } from '../audit/consents.ts';
import { floorOf, levelOf, requiredAcr, type Acr } from '../oidc/acr.ts';
import { entitledClaims, scopeClaims } from '../oidc/accounts.ts';
import { canonicalDetail, detailsOf, type AuthorizationDetail } from '../oidc/authorization-details.ts';
import { claimsNamedIn, grantKey, requestedVerifiedClaims } from '../oidc/verified-claims.ts';
import type { Csrf } from '../server/csrf.ts';
import { readMultipart } from '../server/multipart.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import type { CaptureService } from './service.ts';
import { startedBody } from './started.ts';

export type InteractionDeps = { provider: Provider; capture: CaptureService; csrf: Csrf; config: Readonly<Config>; audit: Audit };
type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json' || ctx.is('application/json') === 'application/json';

export function createInteractionRouter({ provider, capture, csrf, config, audit }: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  // A lock (`locked`, `rate_limited`) says when to come back: Retry-After, and retryAt for JSON clients.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isAppError(err) || !retryAfter(ctx, err) || !wantsJson(ctx)) throw err;
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message, retryAt: err.details.retryAt } };
    }
  });
  // A preview frame is as small as a streamed one (a 640 px JPEG): nothing larger is buffered.
  const previewBytes = config.capture.stream.maxFrameBytes;

  /** The interaction of this request's cookie, which must be the one in the URL. */
  async function details(ctx: Context): Promise<Details> {
    let d: Details;
    try {
      d = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new AppError('interaction_not_found');
    }
    if (d.uid !== ctx.params.uid) throw new AppError('interaction_not_found');
    return d;
  }

  async function agency(d: Details): Promise<{ id: string; name: string; defaults?: readonly string[]; floor?: Acr; scopes: string[]; entitled: Set<string> }> {
    const client = await provider.Client.find(String(d.params.client_id));
    if (!client) throw new AppError('interaction_not_found');
    const granted = String(d.params.scope ?? 'openid').split(' ').filter((s) => s in scopeClaims);
    return { id: client.clientId, name: client.clientName ?? client.clientId, defaults: client.defaultAcrValues, floor: floorOf(client), scopes: granted, entitled: entitledClaims(client) };
  }

  /**
   * What the consent page asks the citizen to agree to: the claims of the scopes and those asked
   * for by name (the claims parameter) that the agency is entitled to, the claims asked for inside
   * verified_claims, and the RFC 9396 authorization details of the request.
   */
  function consentContent(d: Details, a: Awaited<ReturnType<typeof agency>>): { claims: string[]; verified: string[]; details: AuthorizationDetail[] } {
    const named = claimsNamedIn(d.params.claims).filter((name) => a.entitled.has(name));
    return {
      claims: [...new Set([...claimsFor(a.scopes), ...named])],
      verified: requestedVerifiedClaims(d.params.claims, a.entitled),
      details: detailsOf(d.params.authorization_details),
    };
  }

  // The level to verify at: the request's, never below the agency's registered floor (src/oidc/acr.ts).
  const acrFor = (d: Details, a: { defaults?: readonly string[]; floor?: Acr }): Acr => requiredAcr(d.params.acr_values as string | undefined, a.defaults, config.oidc.defaultAcr, a.floor);
  const claimsFor = (scopes: string[]) => [...new Set(scopes.flatMap((s) => [...scopeClaims[s as keyof typeof scopeClaims]]))];
  const token = (ctx: Context) => ctx.get('x-csrf-token') || (ctx.request.body as Record<string, unknown> | undefined)?.csrf;
  const endpoints = (uid: string) => ({
    capture: `/interaction/${uid}/capture`,
    verify: `/interaction/${uid}/verify`,
    quality: `/interaction/${uid}/quality`,
    abort: `/interaction/${uid}/abort`,
    consent: `/interaction/${uid}/consent`,
  });

  async function signInPage(ctx: Context, d: Details, feedback: Feedback[] = [], nationalId?: string) {
    const a = await agency(d);
    ctx.type = 'html';
    ctx.body = renderSignIn({
      uid: d.uid, clientName: a.name, acr: levelOf(acrFor(d, a)), claims: claimsFor(a.scopes),
      csrf: csrf.token(d.uid), endpoints: endpoints(d.uid), feedback, nationalId, lang: languageOf(ctx),
      phoneAction: `/interaction/${encodeURIComponent(d.uid)}/handoff`, // src/handoff/: "Use my phone's camera"
      ...(config.onboarding.enabled ? { onboardingPath: '/onboarding' } : {}), // src/onboarding/: offered once the face is refused
    });
  }

  router.get('/', async (ctx) => {
    const d = await details(ctx);
    const a = await agency(d);
    const acr = acrFor(d, a);
    const claims = claimsFor(a.scopes);
    if (wantsJson(ctx)) {
      ctx.body = { uid: d.uid, prompt: d.prompt.name, client: { name: a.name }, acr, claims, csrf: csrf.token(d.uid), endpoints: endpoints(d.uid) };
      return;
    }
    if (d.prompt.name === 'consent') {
      const asked = consentContent(d, a);
      const labelled = (names: string[]) => names.filter((name) => name !== 'auth_time' && name !== 'amr').map((name) => ({ name, label: claimLabels[name] ?? name }));
      ctx.type = 'html';
      ctx.body = renderConsent({
        uid: d.uid, clientName: a.name, acr: levelOf(acr), csrf: csrf.token(d.uid), action: endpoints(d.uid).consent, lang: languageOf(ctx),
        claims: labelled(asked.claims), verifiedClaims: labelled(asked.verified), authorizationDetails: asked.details,
      });
      return;
    }
    await signInPage(ctx, d);
  });

  // Previews are live guidance, not decisions: a few a second per sign-in and per address, and at
  // most `preview.maxInFlight` on the pool at once, so they never starve the verifications.
  const previewsPerSignIn = new RateLimiterMemory({ points: config.capture.preview.perSignInPerSecond, duration: 1 });
  const previewsPerIp = new RateLimiterMemory({ points: config.capture.preview.perIpPerSecond, duration: 1 });
  let previewsInFlight = 0;
  router.post('/quality', async (ctx) => {
    const d = await details(ctx);
    csrf.verify(d.uid, ctx.get('x-csrf-token'));
    const limited = await Promise.all([previewsPerSignIn.consume(d.uid), previewsPerIp.consume(ctx.ip)]).then(() => false, () => true);
    if (limited || previewsInFlight >= config.capture.preview.maxInFlight) throw new AppError('preview_limited');
    previewsInFlight++;
    try {
      const { files } = await readMultipart(ctx, 'frame', 1, previewBytes);
      if (files.length !== 1) throw new AppError('too_few_frames', 'send one image in a part named "frame"');
      ctx.body = await capture.preview(files[0]);
    } finally {
      previewsInFlight--;
    }
  });

  router.post('/capture', async (ctx) => {
    const d = await details(ctx);
    csrf.verify(d.uid, token(ctx));
    if (d.prompt.name !== 'login') throw new AppError('capture_closed', 'this interaction is not waiting for a sign-in');
    const a = await agency(d);
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const started = await capture.start({ interactionUid: d.uid, clientId: a.id, nationalId: body?.nationalId, acr: acrFor(d, a), ...requester(ctx) });
    // The actions are not told here: the stream's prompts reveal them one at a time.
    ctx.status = 201;
    ctx.body = startedBody(started, endpoints(d.uid).capture, config.capture.stream.maxFrames);
  });

  // Frames posted in one batch came with the client's own times and order: retired. A capture's
  // frames are streamed (stream-route.ts), stamped and prompted by the server.
  router.post('/capture/:captureId/frames', async (ctx) => {
    await details(ctx);
    throw new AppError('stream_required', undefined, { stream: `${endpoints(ctx.params.uid).capture}/${encodeURIComponent(ctx.params.captureId)}/stream` });
  });

  // The page without JavaScript: the form posts here. A photo upload cannot show that a live person
  // is present (presence is checked at every level), so the answer is always camera_required, on
  // the page, with the other ways to be served; no capture is started and nothing is stored.
  router.post('/verify', async (ctx) => {
    const d = await details(ctx);
    // A photo cannot show presence: file parts (an old page's upload) are read past, never kept.
    const { fields } = await readMultipart(ctx, 'frame', 16, previewBytes, { discardFiles: true });
    csrf.verify(d.uid, fields.csrf);
    if (d.prompt.name !== 'login') throw new AppError('capture_closed', 'this interaction is not waiting for a sign-in');
    const err = new AppError('camera_required');
    ctx.status = err.status;
    await signInPage(ctx, d, [{ code: err.code, message: err.message }], fields.nationalId);
  });

  router.post('/consent', async (ctx) => {
    const d = await details(ctx);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    csrf.verify(d.uid, token(ctx));
    if (d.prompt.name !== 'consent') throw new AppError('invalid_input', 'this interaction is not asking for consent');
    const decision = body.decision;
    if (decision !== 'allow' && decision !== 'deny') throw new AppError('invalid_input', 'decision must be "allow" or "deny"');
    const clientId = String(d.params.client_id);
    const asked = consentContent(d, await agency(d));
    let result: Parameters<Provider['interactionResult']>[2];
    if (decision === 'allow') {
      const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId: d.session!.accountId, clientId });
      const missing = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingVerifiedClaims?: string[] };
      if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
      // Each claim released inside verified_claims is agreed to by name (verified-claims.ts).
      if (missing.missingVerifiedClaims?.length) grant!.addOIDCClaims(missing.missingVerifiedClaims.map(grantKey));
      // The purposes she agreed to (RFC 9396): the code and the access token carry them (rar.ts).
      const held = new Set(detailsOf(grant!.rar ?? []).map(canonicalDetail));
      for (const detail of asked.details) if (!held.has(canonicalDetail(detail))) grant!.addRar(detail);
      result = { consent: { grantId: await grant!.save() } };
    } else {
      result = { error: 'access_denied', error_description: 'the citizen did not agree to share the details' };
    }
    const scopes = String(d.params.scope ?? 'openid').split(' ').filter((s) => s in scopeClaims);
    await recordConsent(audit, {
      citizenId: d.session?.accountId, clientId, decision, scopes, claims: [...asked.claims, ...asked.verified.map(grantKey)],
      authorizationDetails: asked.details, interactionUid: d.uid, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined,
    });
    await respondWithResult(ctx, await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
  });

  router.post('/abort', async (ctx) => {
    const d = await details(ctx);
    csrf.verify(d.uid, token(ctx));
    await audit({ type: 'interaction.aborted', outcome: 'failure', interactionUid: d.uid, clientId: String(d.params.client_id) });
    const to = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the citizen cancelled the sign-in' }, { mergeWithLastSubmission: false });
    await respondWithResult(ctx, to);
  });

  return router;
}

/** The client address (X-Forwarded-For only with server.trustProxy) and user agent of a request. */
const requester = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') });

/** Sets Retry-After for an error that carries retryAt; true when it did. */
function retryAfter(ctx: Context, err: AppError): boolean {
  const seconds = err.details.retryAfterSeconds;
  if (typeof seconds !== 'number' || typeof err.details.retryAt !== 'string') return false;
  ctx.set('Retry-After', String(seconds));
  return true;
}

/** A form post is redirected (303); a JSON client gets `{ redirectTo }`. */
async function respondWithResult(ctx: Context, redirectTo: string): Promise<void> {
  if (wantsJson(ctx)) {
    ctx.body = { redirectTo };
    return;
  }
  ctx.status = 303;
  ctx.redirect(redirectTo);
}
