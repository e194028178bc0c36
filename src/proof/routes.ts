// Koa routes of the proof of life (docs/agencies.md#proof-of-life), for the citizen's browser:
//   GET  /proof?t=…             the one-time link's page: who asks, the binding message, start or "this was not me"
//   POST /proof/claim           { t, csrf, decision: start | deny }: the link becomes this browser's (cookie)
//   GET  /proof/:id             the capture page (the sign-in page's, with the binding message, no ID field)
//   POST /proof/:id/quality | /capture | /verify | /deny, GET /proof/:id/done
// and the stream binding for /proof/:id/capture/:captureId/stream (stream-route.ts). The capture is
// the sign-in's (service.ts, stream.ts, sign-in.js), bound to the request instead of an interaction.
// Every page answers JSON to `Accept: application/json` (apps, tests). Also /demo/outbox.
import type {} from '@koa/bodyparser'; // ctx.request.body
import Router from '@koa/router';
import type { Context } from 'koa';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import { languageOf, renderProofDone, renderProofOutbox, renderProofStart, renderSignIn } from '../../views/index.ts';
import type { CaptureService } from '../capture/service.ts';
import type { StreamBinding } from '../capture/stream-route.ts';
import { acrHigh } from '../oidc/acr.ts';
import type { Csrf } from '../server/csrf.ts';
import { readMultipart } from '../server/multipart.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import type { OutboxEntry } from './notifiers.ts';
import type { ProofOfLife } from './service.ts';
import type { ProofRequest } from './store.ts';
import { startedBody } from '../capture/started.ts';

export type ProofRouteDeps = { provider: Provider; proof: ProofOfLife; capture: CaptureService; csrf: Csrf; config: Readonly<Config> };

/** The cookie binding the link to the browser that claimed it: `<request id>.<secret>` (the secret's sha256 is stored). */
export const proofCookie = 'facegate_proof';

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json' || ctx.is('application/json') === 'application/json';
const requester = (ctx: Pick<Context, 'ip' | 'get'>) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
const linkCsrf = (token: string) => `proof-link:${token}`;
const pageCsrf = (id: string) => `proof:${id}`;

/** The secret this browser holds for request `id`, if any. */
function browserOf(ctx: Pick<Context, 'cookies'>, id?: string): { id: string; secret: string } | undefined {
  const value = ctx.cookies.get(proofCookie) ?? '';
  const at = value.indexOf('.');
  if (at < 1) return undefined;
  const cookie = { id: value.slice(0, at), secret: value.slice(at + 1) };
  return id === undefined || cookie.id === id ? cookie : undefined;
}

export function createProofRouter({ provider, proof, capture, csrf, config }: ProofRouteDeps): Router {
  const router = new Router({ prefix: '/proof' });
  // A lock (`locked`, `rate_limited`) says when to come back, as on the sign-in page.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const seconds = isAppError(err) ? err.details.retryAfterSeconds : undefined;
      if (!isAppError(err) || typeof seconds !== 'number' || typeof err.details.retryAt !== 'string' || !wantsJson(ctx)) throw err;
      ctx.set('Retry-After', String(seconds));
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message, retryAt: err.details.retryAt } };
    }
  });
  const secure = config.env === 'production';
  const endpoints = (id: string) => {
    const base = `/proof/${encodeURIComponent(id)}`;
    return { capture: `${base}/capture`, quality: `${base}/quality`, verify: `${base}/verify`, abort: `${base}/deny`, deny: `${base}/deny`, done: `${base}/done` };
  };
  const token = (ctx: Context) => ctx.get('x-csrf-token') || (ctx.request.body as Record<string, unknown> | undefined)?.csrf;
  const session = (ctx: Context, final = false) => proof.session(ctx.params.id, browserOf(ctx, ctx.params.id)?.secret, final);

  /** A form post is redirected (303); a JSON client gets `{ redirectTo }`. */
  function respond(ctx: Context, to: string) {
    if (wantsJson(ctx)) {
      ctx.body = { redirectTo: to };
      return;
    }
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function capturePage(ctx: Context, p: ProofRequest, feedback: Array<{ code: string; message: string }> = []) {
    const s = await proof.summary(p, provider);
    const e = endpoints(p.id);
    if (wantsJson(ctx)) {
      ctx.body = { id: p.id, client: { name: s.clientName }, bindingMessage: s.bindingMessage, acr: acrHigh, claims: s.claims, csrf: csrf.token(pageCsrf(p.id)), expiresAt: new Date(s.expiresAt).toISOString(), endpoints: e };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderSignIn({
      uid: p.id, clientName: s.clientName, acr: 'high', claims: s.claims, csrf: csrf.token(pageCsrf(p.id)), endpoints: e, feedback,
      lang: languageOf(ctx), proof: { bindingMessage: s.bindingMessage }, languagePath: `/proof/${encodeURIComponent(p.id)}`,
      phoneAction: `/proof/${encodeURIComponent(p.id)}/handoff`, // src/handoff/: "Use my phone's camera"
    });
  }

  // The link's page changes nothing but its "opened" mark: a link previewer (an SMS or mail app
  // fetching it) cannot use it up. The choice below does.
  router.get('/', async (ctx) => {
    const t = typeof ctx.query.t === 'string' ? ctx.query.t : '';
    const { proof: p, resume } = await proof.opened(t, browserOf(ctx)?.secret, requester(ctx));
    ctx.set('Cache-Control', 'no-store');
    if (resume) {
      const e = endpoints(p.id);
      if (wantsJson(ctx)) ctx.body = { redirectTo: p.state === 'pending' ? `/proof/${encodeURIComponent(p.id)}` : e.done };
      else ctx.redirect(p.state === 'pending' ? `/proof/${encodeURIComponent(p.id)}` : e.done);
      return;
    }
    const s = await proof.summary(p, provider);
    if (wantsJson(ctx)) {
      ctx.body = { client: { name: s.clientName }, bindingMessage: s.bindingMessage, acr: acrHigh, claims: s.claims, expiresAt: new Date(s.expiresAt).toISOString(), csrf: csrf.token(linkCsrf(t)), endpoints: { claim: '/proof/claim' } };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderProofStart({ ...s, action: '/proof/claim', token: t, csrf: csrf.token(linkCsrf(t)), lang: languageOf(ctx) });
  });

  router.post('/claim', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const t = typeof body.t === 'string' ? body.t : '';
    csrf.verify(linkCsrf(t), token(ctx));
    const decision = body.decision;
    if (decision !== 'start' && decision !== 'deny') throw new AppError('invalid_input', 'decision must be "start" or "deny"');
    const { proof: p, browser } = await proof.claim(t, requester(ctx));
    ctx.cookies.set(proofCookie, `${p.id}.${browser}`, {
      path: '/proof', httpOnly: true, sameSite: 'lax', secure, overwrite: true, maxAge: Math.max(1000, p.expiresAt - Date.now()),
    });
    if (decision === 'deny') {
      await proof.denied(provider, p, requester(ctx));
      return respond(ctx, endpoints(p.id).done);
    }
    respond(ctx, `/proof/${encodeURIComponent(p.id)}`);
  });

  router.get('/:id', async (ctx) => {
    await capturePage(ctx, await session(ctx));
  });

  // Previews are live guidance, as on the sign-in page (routes.ts): a few a second per request and per address.
  const previewsPerProof = new RateLimiterMemory({ points: config.capture.preview.perSignInPerSecond, duration: 1 });
  const previewsPerIp = new RateLimiterMemory({ points: config.capture.preview.perIpPerSecond, duration: 1 });
  router.post('/:id/quality', async (ctx) => {
    const p = await session(ctx);
    csrf.verify(pageCsrf(p.id), ctx.get('x-csrf-token'));
    const limited = await Promise.all([previewsPerProof.consume(p.id), previewsPerIp.consume(ctx.ip)]).then(() => false, () => true);
    if (limited) throw new AppError('preview_limited');
    const { files } = await readMultipart(ctx, 'frame', 1, config.capture.stream.maxFrameBytes);
    if (files.length !== 1) throw new AppError('too_few_frames', 'send one image in a part named "frame"');
    ctx.body = await capture.preview(files[0]);
  });

  // The capture is started for the citizen the agency named: nothing typed, always at high.
  router.post('/:id/capture', async (ctx) => {
    const p = await session(ctx);
    csrf.verify(pageCsrf(p.id), token(ctx));
    const started = await capture.start({
      interactionUid: p.id, clientId: p.clientId, nationalId: await proof.nationalIdOf(p), acr: acrHigh, purpose: 'proof_of_life', ...requester(ctx),
    });
    ctx.status = 201;
    ctx.body = startedBody(started, endpoints(p.id).capture, config.capture.stream.maxFrames);
  });

  // The page without JavaScript: as on the sign-in page, a photo upload cannot show presence.
  router.post('/:id/verify', async (ctx) => {
    const p = await session(ctx);
    const { fields } = await readMultipart(ctx, 'frame', 16, config.capture.stream.maxFrameBytes, { discardFiles: true });
    csrf.verify(pageCsrf(p.id), fields.csrf);
    const err = new AppError('camera_required');
    ctx.status = err.status;
    await capturePage(ctx, p, [{ code: err.code, message: err.message }]);
  });

  router.post('/:id/deny', async (ctx) => {
    const p = await session(ctx);
    csrf.verify(pageCsrf(p.id), token(ctx));
    await proof.denied(provider, p, requester(ctx));
    respond(ctx, endpoints(p.id).done);
  });

  router.get('/:id/done', async (ctx) => {
    const p = await session(ctx, true);
    if (p.state !== 'verified' && p.state !== 'denied') return capturePage(ctx, await session(ctx));
    const { clientName } = await proof.summary(p, provider);
    if (wantsJson(ctx)) {
      ctx.body = { state: p.state, client: { name: clientName } };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderProofDone({ clientName, outcome: p.state, lang: languageOf(ctx) });
  });

  return router;
}

/** The capture streams of a proof of life: the claiming browser's cookie, the page's CSRF token. */
export function proofStreamBinding({ provider, proof, csrf }: Pick<ProofRouteDeps, 'provider' | 'proof' | 'csrf'>): StreamBinding {
  return {
    prefix: 'proof',
    async open(koa: Koa.Context, id: string) {
      try {
        await proof.session(id, browserOf(koa, id)?.secret);
      } catch {
        return undefined;
      }
      return {
        verifyCsrf: (t: unknown) => csrf.verify(pageCsrf(id), t),
        onVerified: (result) => proof.verified(provider, id, result.flow, { ip: koa.ip, userAgent: koa.get('user-agent') || undefined }),
      };
    },
  };
}

/** Development: /demo/outbox lists the links the outbox notifier "sent". */
export function createOutboxRouter(entries: () => readonly OutboxEntry[]): Router {
  const router = new Router({ prefix: '/demo/outbox' });
  router.get('/', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (wantsJson(ctx)) {
      ctx.body = { entries: entries() };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderProofOutbox({ entries: entries(), lang: languageOf(ctx) });
  });
  return router;
}
