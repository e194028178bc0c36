// Koa routes of "Finish on my phone" (docs/capture-api.md#finish-on-my-phone-handoff).
// The desktop, with its own cookie (the interaction's, or the proof link's):
//   POST /interaction/:uid/handoff (csrf, nationalId) | /proof/:id/handoff (csrf)   a new code → its page
//   GET  …/handoff   the page: QR code, short link and code, progress      GET …/handoff/status  JSON progress
//   POST …/handoff/continue   takes the phone's verified result: the desktop's sign-in finishes
//   POST …/handoff/cancel     back to this computer's camera
// The phone, with nothing of the desktop's (its own cookie, set when it claims the code):
//   GET  /p?code=…   who asks, for what, from which computer: "Continue" or not (changes nothing)
//   POST /p/claim    the first phone claims the code     GET /p/:id   the capture page (the sign-in page's)
//   POST /p/:id/quality | /capture | /verify | /cancel, GET /p/:id/done, and the stream binding (prefix p).
import type {} from '@koa/bodyparser'; // ctx.request.body
import Router from '@koa/router';
import type { Context } from 'koa';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import {
  languageOf, raw, renderHandoffDesktop, renderHandoffDone, renderHandoffEnter, renderHandoffMessage, renderHandoffStart, renderSignIn,
  type HandoffDesktopState,
} from '../../views/index.ts';
import { finishSignIn } from '../capture/finish.ts';
import type { CaptureService } from '../capture/service.ts';
import type { Db } from '../db/knex.ts';
import type { StreamBinding } from '../capture/stream-route.ts';
import { acrHigh, floorOf, levelOf, requiredAcr, type Acr } from '../oidc/acr.ts';
import { proofCookie } from '../proof/routes.ts';
import type { ProofOfLife } from '../proof/service.ts';
import { findProof } from '../proof/store.ts';
import type { Csrf } from '../server/csrf.ts';
import { readMultipart } from '../server/multipart.ts';
import { AppError, isAppError, type ErrorCode } from '../shared/errors.ts';
import { displayCode, normalizeCode } from './code.ts';
import type { Handoffs, HandoffStatus } from './service.ts';
import type { Handoff, HandoffKind } from './store.ts';
import { startedBody } from '../capture/started.ts';

/** qrcode, loaded on the first code shown (not at every start). */
const qrcode = () => import('qrcode').then((m) => m.default);

export type HandoffRouteDeps = { db: Db; provider: Provider; handoffs: Handoffs; proof: ProofOfLife; capture: CaptureService; csrf: Csrf; config: Readonly<Config> };

/** The phone's cookie: `<handoff id>.<secret>` (the secret's sha256 is stored), path /p. */
export const handoffCookie = 'facegate_handoff';

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json' || ctx.is('application/json') === 'application/json';
const requester = (ctx: Pick<Context, 'ip' | 'get'>) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
const body = (ctx: Context) => (ctx.request.body ?? {}) as Record<string, unknown>;
const token = (ctx: Context) => ctx.get('x-csrf-token') || body(ctx).csrf;
const phoneCsrf = (id: string) => `handoff:${id}`;
const codeCsrf = (code: string) => `handoff-code:${code}`;
const handoffCodes: ReadonlySet<string> = new Set(['handoff_not_found', 'handoff_expired', 'handoff_used', 'handoff_cancelled', 'rate_limited', 'capture_closed']);

/** The secret this browser holds for handoff `id` (or for any, without `id`). */
function phoneOf(ctx: Pick<Context, 'cookies'>, id?: string): { id: string; secret: string } | undefined {
  const value = ctx.cookies.get(handoffCookie) ?? '';
  const at = value.indexOf('.');
  if (at < 1) return undefined;
  const cookie = { id: value.slice(0, at), secret: value.slice(at + 1) };
  return id === undefined || cookie.id === id ? cookie : undefined;
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

/** What a desktop page hands off: its interaction, or its proof of life. */
type Target = {
  kind: HandoffKind; targetId: string; clientId: string | null; clientName: string; acr: Acr; csrfKey: string;
  /** The page's own expiry (epoch ms): the code never outlives it. */
  notAfter: number;
  /** Where the page lives (the handoff routes are under it), and where its own camera page is. */
  base: string; back: string;
  bindingMessage?: string;
  /** Finishes the desktop's side with the phone's verified result; answers where it goes next. */
  finish(ctx: Context, h: Handoff & { citizenId: string; verifiedAcr: string; verifiedAt: number }): Promise<string>;
};

export function createHandoffRouters({ db, provider, handoffs, proof, capture, csrf, config }: HandoffRouteDeps): Router[] {
  const issuer = new URL(config.server.issuer);
  const secure = config.env === 'production';
  /** What the citizen types on her phone: the issuer's host and /p (https is implied by a phone's browser). */
  const shortLink = `${issuer.host}${issuer.pathname.replace(/\/$/, '')}/p`;
  const linkOf = (code: string) => `${issuer.origin}${issuer.pathname.replace(/\/$/, '')}/p?code=${code}`;
  const clientName = async (clientId: string | null) => {
    const client = clientId ? await provider.Client.find(clientId) : undefined;
    return client?.clientName ?? clientId ?? '';
  };

  // ---- the desktop ------------------------------------------------------------------------------

  async function interactionTarget(ctx: Context): Promise<Target> {
    let d: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      d = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new AppError('interaction_not_found');
    }
    if (d.uid !== ctx.params.uid) throw new AppError('interaction_not_found');
    if (d.prompt.name !== 'login') throw new AppError('capture_closed', 'this interaction is not waiting for a sign-in');
    const client = await provider.Client.find(String(d.params.client_id));
    if (!client) throw new AppError('interaction_not_found');
    const acr = requiredAcr(d.params.acr_values as string | undefined, client.defaultAcrValues, config.oidc.defaultAcr, floorOf(client));
    const exp = (d as unknown as { exp?: number }).exp;
    const base = `/interaction/${encodeURIComponent(d.uid)}`;
    return {
      kind: 'sign_in', targetId: d.uid, clientId: client.clientId, clientName: client.clientName ?? client.clientId, acr, csrfKey: d.uid,
      notAfter: exp ? exp * 1000 : Date.now() + config.oidc.ttl.interaction * 1000, base, back: base,
      // The phone's face check finishes this desktop's interaction (its own cookie, this request).
      finish: (c, h) => finishSignIn(provider, c.req, c.res, { citizenId: h.citizenId, acr: h.verifiedAcr, amr: ['face', 'user'], ts: Math.floor(h.verifiedAt / 1000) }),
    };
  }

  async function proofTarget(ctx: Context): Promise<Target> {
    const value = ctx.cookies.get(proofCookie) ?? '';
    const id = String(ctx.params.id);
    const secret = value.startsWith(`${id}.`) ? value.slice(id.length + 1) : undefined;
    const p = await proof.session(id, secret);
    const s = await proof.summary(p, provider);
    const base = `/proof/${encodeURIComponent(p.id)}`;
    return {
      kind: 'proof_of_life', targetId: p.id, clientId: p.clientId, clientName: s.clientName, acr: acrHigh, csrfKey: `proof:${p.id}`,
      notAfter: p.expiresAt, base, back: base, bindingMessage: s.bindingMessage,
      // The phone's capture already decided the proof of life (the agency has been told).
      finish: async () => `${base}/done`,
    };
  }

  function desktopRouter(prefix: string, targetOf: (ctx: Context) => Promise<Target>): Router {
    const router = new Router({ prefix });
    const paths = (t: Target) => ({
      page: `${t.base}/handoff`, status: `${t.base}/handoff/status`, continue: `${t.base}/handoff/continue`, renew: `${t.base}/handoff`, cancel: `${t.base}/handoff/cancel`,
    });

    async function page(ctx: Context, t: Target, feedback: Array<{ code: string; message: string }> = []) {
      const h = await handoffs.current(t.kind, t.targetId);
      const status = h ? await handoffs.status(t.kind, t.targetId, h.id) : await handoffs.status(t.kind, t.targetId);
      if (!status) return ctx.redirect(t.back);
      const p = paths(t);
      ctx.set('Cache-Control', 'no-store');
      const code = h ? handoffs.codeOf(h) : undefined;
      if (wantsJson(ctx)) {
        ctx.body = {
          state: status.state, expiresAt: new Date(status.expiresAt).toISOString(), client: { name: t.clientName },
          ...(code ? { code: displayCode(code), link: linkOf(code), shortLink } : {}), csrf: csrf.token(t.csrfKey), endpoints: p,
        };
        return;
      }
      const qr = code ? await (await qrcode()).toString(linkOf(code), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) : undefined;
      ctx.type = 'html';
      ctx.body = renderHandoffDesktop({
        clientName: t.clientName, state: status.state as HandoffDesktopState, code: code ? displayCode(code) : undefined, shortLink,
        // qrcode's own SVG markup (paths only), never input: safe to insert as is.
        qrSvg: qr ? raw(qr.replace('<svg ', '<svg role="img" aria-labelledby="handoff-qr-label" class="handoff-qr-image" ')) : undefined,
        expiresAt: status.expiresAt, csrf: csrf.token(t.csrfKey), endpoints: { ...p, back: t.back }, feedback, lang: languageOf(ctx),
        bindingMessage: t.bindingMessage, languagePath: p.page,
      });
    }

    router.post('/', async (ctx) => {
      const t = await targetOf(ctx);
      csrf.verify(t.csrfKey, token(ctx));
      const b = body(ctx);
      const renew = b.renew === '1' || b.renew === true;
      const { handoff, code } = await handoffs.create({
        kind: t.kind, targetId: t.targetId, clientId: t.clientId, acr: t.acr, nationalId: renew ? undefined : b.nationalId, notAfter: t.notAfter, ...requester(ctx),
      });
      if (wantsJson(ctx)) {
        ctx.status = 201;
        ctx.body = { code: displayCode(code), link: linkOf(code), shortLink, expiresAt: new Date(handoff.expiresAt).toISOString(), endpoints: paths(t) };
        return;
      }
      ctx.status = 303;
      ctx.redirect(paths(t).page);
    });

    router.get('/', async (ctx) => {
      await page(ctx, await targetOf(ctx));
    });

    // Polled by the desktop's page (views/static/handoff.js), every couple of seconds: one read.
    router.get('/status', async (ctx) => {
      const t = await targetOf(ctx);
      const s: HandoffStatus | undefined = await handoffs.status(t.kind, t.targetId);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = s ? { state: s.state, expiresAt: new Date(s.expiresAt).toISOString() } : { state: 'none' };
    });

    router.post('/continue', async (ctx) => {
      const t = await targetOf(ctx);
      csrf.verify(t.csrfKey, token(ctx));
      const s = await handoffs.status(t.kind, t.targetId);
      try {
        if (!s) throw new AppError('handoff_not_found');
        const h = await handoffs.complete(t.kind, t.targetId, s.id, requester(ctx));
        respond(ctx, await t.finish(ctx, h));
      } catch (err) {
        // Without JavaScript, "Continue" pressed too early: the page again, saying so.
        if (!isAppError(err) || err.code !== 'handoff_pending' || wantsJson(ctx)) throw err;
        ctx.status = err.status;
        await page(ctx, t, [{ code: err.code, message: err.message }]);
      }
    });

    router.post('/cancel', async (ctx) => {
      const t = await targetOf(ctx);
      csrf.verify(t.csrfKey, token(ctx));
      await handoffs.cancel(t.kind, t.targetId, t.clientId, requester(ctx));
      respond(ctx, t.back);
    });
    return router;
  }

  // ---- the phone --------------------------------------------------------------------------------

  const phone = new Router({ prefix: '/p' });
  // The phone's pages answer a refused code on a page of their own (what happened, what to do on
  // the computer), with the code's HTTP status; JSON clients get the usual error body.
  phone.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isAppError(err) || !handoffCodes.has(err.code)) throw err;
      ctx.status = err.status;
      ctx.set('Cache-Control', 'no-store');
      if (err.code === 'rate_limited' && typeof err.details.retryAfterSeconds === 'number') ctx.set('Retry-After', String(err.details.retryAfterSeconds));
      if (wantsJson(ctx)) {
        ctx.body = { error: { code: err.code, message: err.message, ...(err.details.retryAt ? { retryAt: err.details.retryAt } : {}) } };
        return;
      }
      ctx.type = 'html';
      ctx.body = err.code === 'handoff_not_found' && ctx.path === '/p'
        ? renderHandoffEnter({ action: '/p', feedback: [{ code: err.code, message: err.message }], lang: languageOf(ctx) })
        : renderHandoffMessage({ code: err.code as ErrorCode, lang: languageOf(ctx) });
    }
  });

  const phonePaths = (id: string) => {
    const base = `/p/${encodeURIComponent(id)}`;
    return { capture: `${base}/capture`, quality: `${base}/quality`, verify: `${base}/verify`, abort: `${base}/cancel`, done: `${base}/done` };
  };
  const phoneSession = (ctx: Context, final = false) => handoffs.session(String(ctx.params.id), phoneOf(ctx, String(ctx.params.id))?.secret, final);

  // The first page: nothing changes here (a QR scanner or link previewer fetching it cannot use
  // the code up). The code comes in the query (the request log keeps paths only).
  phone.get('/', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const typed = ctx.query.code;
    if (typed === undefined || typed === '') {
      if (wantsJson(ctx)) {
        ctx.body = { endpoints: { lookup: '/p?code=' } };
        return;
      }
      ctx.type = 'html';
      ctx.body = renderHandoffEnter({ action: '/p', lang: languageOf(ctx) });
      return;
    }
    const { handoff: h, resume } = await handoffs.lookup(typed, phoneOf(ctx)?.secret, requester(ctx));
    if (resume) return respond(ctx, h.state === 'claimed' ? `/p/${encodeURIComponent(h.id)}` : phonePaths(h.id).done);
    const code = normalizeCode(typed)!;
    const name = await clientName(h.clientId);
    const s = h.kind === 'proof_of_life' ? await proof.summary(await proofOf(h.targetId), provider) : undefined;
    if (wantsJson(ctx)) {
      ctx.body = {
        client: { name }, kind: h.kind, acr: h.acr, desktop: h.desktop, startedAt: new Date(h.createdAt).toISOString(), expiresAt: new Date(h.expiresAt).toISOString(),
        csrf: csrf.token(codeCsrf(code)), endpoints: { claim: '/p/claim' },
      };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderHandoffStart({
      clientName: name, kind: h.kind, level: levelOf(h.acr as Acr), desktop: h.desktop ?? undefined, startedAt: h.createdAt, expiresAt: h.expiresAt,
      maskedId: handoffs.maskedId(h), bindingMessage: s?.bindingMessage, action: '/p/claim', code, csrf: csrf.token(codeCsrf(code)), lang: languageOf(ctx),
    });
  });

  /** The proof request a handoff of a proof of life is for (read without the desktop's cookie). */
  async function proofOf(id: string) {
    const p = await findProof(db, id);
    if (!p) throw new AppError('handoff_not_found');
    return p;
  }

  phone.post('/claim', async (ctx) => {
    const b = body(ctx);
    const code = normalizeCode(b.code);
    csrf.verify(codeCsrf(code ?? ''), token(ctx));
    const { handoff: h, phone: secret } = await handoffs.claim(code, requester(ctx));
    ctx.cookies.set(handoffCookie, `${h.id}.${secret}`, {
      path: '/p', httpOnly: true, sameSite: 'lax', secure, overwrite: true, maxAge: Math.max(1000, h.expiresAt - Date.now()),
    });
    respond(ctx, `/p/${encodeURIComponent(h.id)}`);
  });

  phone.get('/:id', async (ctx) => {
    await capturePage(ctx, await phoneSession(ctx));
  });

  async function capturePage(ctx: Context, h: Handoff, feedback: Array<{ code: string; message: string }> = []) {
    const name = await clientName(h.clientId);
    const e = phonePaths(h.id);
    const acr = h.acr as Acr;
    const s = h.kind === 'proof_of_life' ? await proof.summary(await proofOf(h.targetId), provider) : undefined;
    ctx.set('Cache-Control', 'no-store');
    if (wantsJson(ctx)) {
      ctx.body = { id: h.id, client: { name }, acr, csrf: csrf.token(phoneCsrf(h.id)), expiresAt: new Date(h.expiresAt).toISOString(), endpoints: e };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderSignIn({
      uid: h.id, clientName: name, acr: levelOf(acr), claims: s ? s.claims : [], csrf: csrf.token(phoneCsrf(h.id)), endpoints: e,
      lang: languageOf(ctx), languagePath: `/p/${encodeURIComponent(h.id)}`, onPhone: { maskedId: handoffs.maskedId(h), device: h.desktop ?? undefined },
      feedback, ...(s ? { proof: { bindingMessage: s.bindingMessage } } : {}),
    });
  }

  const previewsPerHandoff = new RateLimiterMemory({ points: config.capture.preview.perSignInPerSecond, duration: 1 });
  const previewsPerIp = new RateLimiterMemory({ points: config.capture.preview.perIpPerSecond, duration: 1 });
  phone.post('/:id/quality', async (ctx) => {
    const h = await phoneSession(ctx);
    csrf.verify(phoneCsrf(h.id), ctx.get('x-csrf-token'));
    const limited = await Promise.all([previewsPerHandoff.consume(h.id), previewsPerIp.consume(ctx.ip)]).then(() => false, () => true);
    if (limited) throw new AppError('preview_limited');
    const { files } = await readMultipart(ctx, 'frame', 1, config.capture.stream.maxFrameBytes);
    if (files.length !== 1) throw new AppError('too_few_frames', 'send one image in a part named "frame"');
    ctx.body = await capture.preview(files[0]);
  });

  // The capture is the desktop's: bound to its interaction (or proof request), its level, the ID typed there.
  phone.post('/:id/capture', async (ctx) => {
    const h = await phoneSession(ctx);
    csrf.verify(phoneCsrf(h.id), token(ctx));
    const nationalId = h.kind === 'proof_of_life' ? await proof.nationalIdOf(await proofOf(h.targetId)) : undefined;
    const started = await handoffs.startCapture(h, requester(ctx), nationalId);
    ctx.status = 201;
    ctx.body = startedBody(started, phonePaths(h.id).capture, config.capture.stream.maxFrames);
  });

  // Without JavaScript: as on the sign-in page, a photo upload cannot show presence.
  phone.post('/:id/verify', async (ctx) => {
    const h = await phoneSession(ctx);
    const { fields } = await readMultipart(ctx, 'frame', 16, config.capture.stream.maxFrameBytes, { discardFiles: true });
    csrf.verify(phoneCsrf(h.id), fields.csrf);
    const err = new AppError('camera_required');
    ctx.status = err.status;
    await capturePage(ctx, h, [{ code: err.code, message: err.message }]);
  });

  // "Stop" on the phone: the code is cancelled; the desktop's page says so and offers a new one.
  phone.post('/:id/cancel', async (ctx) => {
    const h = await phoneSession(ctx);
    csrf.verify(phoneCsrf(h.id), token(ctx));
    await handoffs.cancel(h.kind, h.targetId, h.clientId, requester(ctx));
    throw new AppError('handoff_cancelled');
  });

  phone.get('/:id/done', async (ctx) => {
    const h = await phoneSession(ctx, true);
    if (h.state !== 'verified' && h.state !== 'completed') return respond(ctx, `/p/${encodeURIComponent(h.id)}`);
    const name = await clientName(h.clientId);
    ctx.set('Cache-Control', 'no-store');
    if (wantsJson(ctx)) {
      ctx.body = { state: 'verified', client: { name } };
      return;
    }
    ctx.type = 'html';
    ctx.body = renderHandoffDone({ clientName: name, kind: h.kind, lang: languageOf(ctx) });
  });

  return [desktopRouter('/interaction/:uid/handoff', interactionTarget), desktopRouter('/proof/:id/handoff', proofTarget), phone];
}

/**
 * The capture streams of a phone's handoff (/p/:id/capture/:captureId/stream): the claiming phone's
 * cookie, its page's CSRF token; the flows are the desktop's interaction's (or proof request's). A
 * verified capture is recorded for the desktop (a proof of life is decided here: the agency does
 * not wait for the desktop); the phone goes to its done page.
 */
export function handoffStreamBinding({ provider, handoffs, proof, csrf }: Pick<HandoffRouteDeps, 'provider' | 'handoffs' | 'proof' | 'csrf'>): StreamBinding {
  return {
    prefix: 'p',
    async open(koa: Koa.Context, id: string) {
      let h: Handoff;
      try {
        h = await handoffs.session(id, phoneOf(koa, id)?.secret);
      } catch {
        return undefined;
      }
      const r = requester(koa);
      return {
        interactionUid: h.targetId,
        verifyCsrf: (t: unknown) => csrf.verify(phoneCsrf(id), t),
        onVerified: async (result) => {
          if (h.kind === 'proof_of_life') await proof.verified(provider, h.targetId, result.flow, r);
          await handoffs.verified(id, result.flow, r);
          return `/p/${encodeURIComponent(id)}/done`;
        },
      };
    },
  };
}

