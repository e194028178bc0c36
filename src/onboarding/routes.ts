// Koa routes of remote onboarding (docs/onboarding.md), for the citizen's browser:
//   GET  /onboarding                    the start page (what happens, her national ID)
//   POST /onboarding                    { csrf, nationalId }: a session, bound to this browser (cookie)
//   GET  /onboarding/:id                the step the session is at: document, capture, or its outcome
//   POST /onboarding/:id/document       multipart { csrf, document }: the document photo
//   POST /onboarding/:id/quality | /capture | /verify, /cancel
// and the stream binding for /onboarding/:id/capture/:captureId/stream (stream-route.ts). The capture
// is the sign-in's (service.ts, stream.ts, sign-in.js) with purpose 'onboarding'. Every page answers
// JSON to `Accept: application/json` (apps, tests).
import type {} from '@koa/bodyparser'; // ctx.request.body
import Router from '@koa/router';
import type { Context } from 'koa';
import type Koa from 'koa';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import { languageOf, codeMessage, renderOnboardingCapture, renderOnboardingDocument, renderOnboardingOutcome, renderOnboardingStart } from '../../views/index.ts';
import type { CaptureService } from '../capture/service.ts';
import type { StreamBinding } from '../capture/stream-route.ts';
import type { Db } from '../db/knex.ts';
import type { Csrf } from '../server/csrf.ts';
import { readMultipart } from '../server/multipart.ts';
import { AppError, errorCatalogue, isAppError, type ErrorCode } from '../shared/errors.ts';
import type { Onboarding } from './flow.ts';
import { loadSession, updateSession, type OnboardingSession } from './store.ts';
import type { Sealer } from '../shared/sealed.ts';
import type { Audit } from '../audit/log.ts';
import { startedBody } from '../capture/started.ts';

export type OnboardingRouteDeps = { onboarding: Onboarding; capture: CaptureService; csrf: Csrf; config: Readonly<Config>; db: Db; sealer: Sealer; audit: Audit };

/** The cookie binding a session to the browser that started it: `<session id>.<secret>` (the secret's sha256 is stored). */
export const onboardingCookie = 'facegate_onboarding';

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json' || ctx.is('application/json') === 'application/json';
const requester = (ctx: Pick<Context, 'ip' | 'get'>) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
const startCsrf = 'onboarding-start';
const pageCsrf = (id: string) => `onboarding:${id}`;
const pathOf = (id: string) => `/onboarding/${encodeURIComponent(id)}`;

function secretOf(ctx: Pick<Context, 'cookies'>, id: string): string | undefined {
  const value = ctx.cookies.get(onboardingCookie) ?? '';
  const at = value.indexOf('.');
  return at > 0 && value.slice(0, at) === id ? value.slice(at + 1) : undefined;
}

const feedbackOf = (ctx: Context, code: ErrorCode) => ({ code, message: codeMessage(languageOf(ctx), code, errorCatalogue[code].message) });

export function createOnboardingRouter({ onboarding, capture, csrf, config, db, sealer, audit }: OnboardingRouteDeps): Router {
  const router = new Router({ prefix: '/onboarding' });
  const secure = config.env === 'production';
  const endpoints = (id: string) => ({ capture: `${pathOf(id)}/capture`, quality: `${pathOf(id)}/quality`, verify: `${pathOf(id)}/verify`, document: `${pathOf(id)}/document` });
  const token = (ctx: Context) => ctx.get('x-csrf-token') || (ctx.request.body as Record<string, unknown> | undefined)?.csrf;
  const session = (ctx: Context) => onboarding.session(ctx.params.id, secretOf(ctx, ctx.params.id));

  // A lock (`rate_limited`, `locked`) says when to come back, to a JSON client as on the sign-in page.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const seconds = isAppError(err) ? err.details.retryAfterSeconds : undefined;
      if (!isAppError(err) || typeof seconds !== 'number' || !wantsJson(ctx)) throw err;
      ctx.set('Retry-After', String(seconds));
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message, retryAt: err.details.retryAt } };
    }
  });
  router.use(async (ctx, next) => { ctx.set('Cache-Control', 'no-store'); await next(); });

  function stepPage(ctx: Context, s: OnboardingSession, feedback: Array<{ code: string; message: string }> = []) {
    const lang = languageOf(ctx);
    const e = endpoints(s.id);
    const attemptsLeft = Math.max(0, config.onboarding.maxDocumentAttempts - s.documentAttempts);
    if (wantsJson(ctx)) {
      ctx.body = {
        id: s.id, state: s.state, csrf: csrf.token(pageCsrf(s.id)), attemptsLeft, endpoints: e,
        ...(s.state === 'refused' ? { error: { code: s.code, message: errorCatalogue[(s.code ?? 'not_verified') as ErrorCode]?.message } } : {}),
        ...(feedback.length ? { feedback } : {}),
      };
      return;
    }
    ctx.type = 'html';
    if (s.state === 'document') {
      ctx.body = renderOnboardingDocument({ id: s.id, action: e.document, csrf: csrf.token(pageCsrf(s.id)), attemptsLeft, maxBytes: config.onboarding.maxDocumentBytes, feedback, lang });
    } else if (s.state === 'capture') {
      ctx.body = renderOnboardingCapture({ id: s.id, csrf: csrf.token(pageCsrf(s.id)), endpoints: e, feedback, lang });
    } else {
      const code = (s.code ?? 'not_verified') as ErrorCode;
      ctx.body = renderOnboardingOutcome({ outcome: s.state, feedback: s.state === 'refused' ? feedbackOf(ctx, code) : undefined, lang });
    }
  }

  /** A form post is redirected (303); a JSON client gets `{ redirectTo }`. */
  function respond(ctx: Context, to: string) {
    if (wantsJson(ctx)) {
      ctx.body = { redirectTo: to };
      return;
    }
    ctx.status = 303;
    ctx.redirect(to);
  }

  router.get('/', (ctx) => {
    if (wantsJson(ctx)) {
      ctx.body = { csrf: csrf.token(startCsrf), endpoints: { start: '/onboarding' } };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderOnboardingStart({ action: '/onboarding', csrf: csrf.token(startCsrf), lang: languageOf(ctx) });
  });

  router.post('/', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    csrf.verify(startCsrf, token(ctx));
    try {
      const { session: s, secret } = await onboarding.begin({ nationalId: body.nationalId, ...requester(ctx) });
      ctx.cookies.set(onboardingCookie, `${s.id}.${secret}`, {
        path: '/onboarding', httpOnly: true, sameSite: 'lax', secure, overwrite: true, maxAge: config.onboarding.sessionTtlSeconds * 1000,
      });
      respond(ctx, pathOf(s.id));
    } catch (err) {
      if (!isAppError(err) || err.code !== 'invalid_national_id' || wantsJson(ctx)) throw err;
      ctx.status = err.status;
      ctx.type = 'html';
      ctx.body = renderOnboardingStart({ action: '/onboarding', csrf: csrf.token(startCsrf), feedback: [feedbackOf(ctx, err.code)], nationalId: String(body.nationalId ?? '').slice(0, 20), lang: languageOf(ctx) });
    }
  });

  router.get('/:id', async (ctx) => {
    stepPage(ctx, await session(ctx));
  });

  router.post('/:id/document', async (ctx) => {
    const s = await session(ctx);
    const { files, fields } = await readMultipart(ctx, 'document', 1, config.onboarding.maxDocumentBytes);
    csrf.verify(pageCsrf(s.id), ctx.get('x-csrf-token') || fields.csrf);
    if (files.length !== 1) throw new AppError('invalid_input', 'send the document photo in a part named "document"');
    try {
      await onboarding.submitDocument(s, files[0], requester(ctx));
    } catch (err) {
      if (!isAppError(err) || err.status >= 500 || err.code === 'csrf_invalid' || err.code === 'onboarding_closed') throw err;
      const next = await loadSession(db, s.id);
      ctx.status = err.status;
      if (wantsJson(ctx)) {
        ctx.body = { error: { code: err.code, message: err.message }, state: next.state, attemptsLeft: err.details.attemptsLeft };
        return;
      }
      return stepPage(ctx, next, next.state === 'document' ? [feedbackOf(ctx, err.code)] : []);
    }
    respond(ctx, pathOf(s.id));
  });

  // Previews are live guidance, as on the sign-in page: a few a second per session and per address.
  const previewsPerSession = new RateLimiterMemory({ points: config.capture.preview.perSignInPerSecond, duration: 1 });
  const previewsPerIp = new RateLimiterMemory({ points: config.capture.preview.perIpPerSecond, duration: 1 });
  router.post('/:id/quality', async (ctx) => {
    const s = await session(ctx);
    csrf.verify(pageCsrf(s.id), ctx.get('x-csrf-token'));
    if (s.state !== 'capture') throw new AppError('onboarding_closed');
    const limited = await Promise.all([previewsPerSession.consume(s.id), previewsPerIp.consume(ctx.ip)]).then(() => false, () => true);
    if (limited) throw new AppError('preview_limited');
    const { files } = await readMultipart(ctx, 'frame', 1, config.capture.stream.maxFrameBytes);
    if (files.length !== 1) throw new AppError('too_few_frames', 'send one image in a part named "frame"');
    ctx.body = await capture.preview(files[0]);
  });

  router.post('/:id/capture', async (ctx) => {
    const s = await session(ctx);
    csrf.verify(pageCsrf(s.id), token(ctx));
    const started = await onboarding.startCapture(s, requester(ctx));
    ctx.status = 201;
    ctx.body = startedBody(started, endpoints(s.id).capture, config.capture.stream.maxFrames);
  });

  // Without JavaScript: as on the sign-in page, a photo upload cannot show presence.
  router.post('/:id/verify', async (ctx) => {
    const s = await session(ctx);
    const { fields } = await readMultipart(ctx, 'frame', 16, config.capture.stream.maxFrameBytes, { discardFiles: true });
    csrf.verify(pageCsrf(s.id), fields.csrf);
    const err = new AppError('camera_required');
    ctx.status = err.status;
    stepPage(ctx, s, [feedbackOf(ctx, err.code)]);
  });

  // She stops: the session ends (its portrait wiped), audited, and she is back at the start.
  router.post('/:id/cancel', async (ctx) => {
    const s = await session(ctx);
    csrf.verify(pageCsrf(s.id), token(ctx));
    if (s.state === 'document' || s.state === 'capture') {
      await updateSession(db, sealer, s, { state: 'refused', code: 'onboarding_closed' }, Date.now());
      await audit({ interactionUid: s.id, citizenId: s.citizenId, type: 'onboarding.cancelled', outcome: 'info', ...requester(ctx) });
    }
    ctx.cookies.set(onboardingCookie, '', { path: '/onboarding', httpOnly: true, sameSite: 'lax', secure, overwrite: true, maxAge: 0 });
    respond(ctx, '/onboarding');
  });

  return router;
}

/**
 * The capture streams of an onboarding: the starting browser's cookie, the page's CSRF token. A
 * verified capture ends the onboarding (flow.ts, through the capture's decided hook): the page goes
 * to the outcome; an onboarding refused after the capture verified (duplicate_identity) is the
 * stream's error, with its code.
 */
export function onboardingStreamBinding({ onboarding, csrf, db }: Pick<OnboardingRouteDeps, 'onboarding' | 'csrf' | 'db'>): StreamBinding {
  return {
    prefix: 'onboarding',
    async open(koa: Koa.Context, id: string) {
      try {
        const s = await onboarding.session(id, secretOf(koa, id));
        if (s.state !== 'capture') return undefined;
      } catch {
        return undefined;
      }
      return {
        verifyCsrf: (t: unknown) => csrf.verify(pageCsrf(id), t),
        onVerified: async () => {
          const s = await loadSession(db, id);
          if (s.state === 'refused') throw new AppError((s.code ?? 'not_verified') as ErrorCode);
          if (s.state !== 'onboarded') throw new AppError('internal_error', 'a verified onboarding capture did not end its onboarding');
          return pathOf(id);
        },
      };
    },
  };
}

