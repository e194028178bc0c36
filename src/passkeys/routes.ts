// Koa routes of the passkey step (docs/capture-api.md#the-passkey-step), under the interaction:
// GET /interaction/:uid/passkey (the page, or JSON), POST …/options (WebAuthn options, a fresh
// single-use challenge), POST …/register and …/authenticate (the authenticator's answer, verified on
// the server), POST …/skip ("not now", "use face only", cancel). Every route needs the interaction's
// cookie for that uid and the CSRF token; the step row (written only after a verified face) says what
// may happen. Protocol state stays in oidc-provider (finishSignIn / refuseSignIn).
import type {} from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import { languageOf, renderPasskeyStep } from '../../views/index.ts';
import { finishSignIn, refuseSignIn } from '../capture/finish.ts';
import type { Csrf } from '../server/csrf.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { laterCookie, type Passkeys, type StepOutcome } from './service.ts';

export type PasskeyRouteDeps = { provider: Provider; passkeys: Passkeys; csrf: Csrf; config: Readonly<Config> };

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json' || ctx.is('application/json') === 'application/json';

export function createPasskeyRouter({ provider, passkeys, csrf, config }: PasskeyRouteDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid/passkey' });
  const base = (uid: string) => `/interaction/${encodeURIComponent(uid)}/passkey`;
  const requester = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
  const body = (ctx: Context) => (ctx.request.body ?? {}) as Record<string, unknown>;
  const token = (ctx: Context) => ctx.get('x-csrf-token') || String(body(ctx).csrf ?? '');

  // A failed check is answered as JSON to the page's script ({ error: { code, message, attemptsLeft } }).
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isAppError(err) || !wantsJson(ctx) || err.status >= 500) throw err;
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message, ...(typeof err.details.attemptsLeft === 'number' ? { attemptsLeft: err.details.attemptsLeft } : {}) } };
    }
  });

  /** The interaction of this request's cookie, which must be the one in the URL and still at login. */
  async function interaction(ctx: Context) {
    let d: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      d = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new AppError('interaction_not_found');
    }
    if (d.uid !== ctx.params.uid || d.prompt.name !== 'login') throw new AppError('interaction_not_found');
    return d;
  }

  async function respond(ctx: Context, to: string) {
    if (wantsJson(ctx)) {
      ctx.body = { redirectTo: to };
      return;
    }
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function conclude(ctx: Context, outcome: StepOutcome) {
    if ('finish' in outcome) return respond(ctx, await finishSignIn(provider, ctx.req, ctx.res, outcome.finish, { final: true }));
    if ('refuse' in outcome) return respond(ctx, await refuseSignIn(provider, ctx.req, ctx.res, outcome.refuse.error, outcome.refuse.description));
    // A passkey added for an agency that requires one: the page says to sign in again.
    const to = `${base(outcome.step.uid)}?added=1`;
    if (wantsJson(ctx)) ctx.body = { added: true, next: to };
    else { ctx.status = 303; ctx.redirect(to); }
  }

  router.get('/', async (ctx) => {
    const d = await interaction(ctx);
    const step = await passkeys.loadStep(d.uid);
    const client = await provider.Client.find(step.clientId);
    const clientName = client?.clientName ?? step.clientId;
    if (wantsJson(ctx)) {
      ctx.body = {
        uid: d.uid, mode: step.mode, required: step.required, csrf: csrf.token(d.uid),
        endpoints: { options: `${base(d.uid)}/options`, register: `${base(d.uid)}/register`, authenticate: `${base(d.uid)}/authenticate`, skip: `${base(d.uid)}/skip` },
      };
      return;
    }
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderPasskeyStep({
      mode: step.mode, required: step.required, added: ctx.query.added === '1' && step.mode === 'required', clientName, csrf: csrf.token(d.uid),
      endpoints: { options: `${base(d.uid)}/options`, register: `${base(d.uid)}/register`, authenticate: `${base(d.uid)}/authenticate`, skip: `${base(d.uid)}/skip` },
      path: base(d.uid), lang: languageOf(ctx),
    });
  });

  router.post('/options', async (ctx) => {
    const d = await interaction(ctx);
    csrf.verify(d.uid, token(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await passkeys.options(d.uid);
  });

  router.post('/register', async (ctx) => {
    const d = await interaction(ctx);
    csrf.verify(d.uid, token(ctx));
    await conclude(ctx, await passkeys.register(d.uid, body(ctx).response, requester(ctx)));
  });

  router.post('/authenticate', async (ctx) => {
    const d = await interaction(ctx);
    csrf.verify(d.uid, token(ctx));
    await conclude(ctx, await passkeys.authenticate(d.uid, body(ctx).response, requester(ctx)));
  });

  router.post('/skip', async (ctx) => {
    const d = await interaction(ctx);
    csrf.verify(d.uid, token(ctx));
    const action = String(body(ctx).action ?? '');
    const outcome = await passkeys.skip(d.uid, action, requester(ctx));
    // "Not now" holds for this browser session only (a cookie without expiry): never asked twice in it.
    if (action === 'later' && 'finish' in outcome) {
      ctx.cookies.set(laterCookie, '1', { httpOnly: true, sameSite: 'lax', path: '/', secure: config.env === 'production', overwrite: true, signed: false });
    }
    await conclude(ctx, outcome);
  });

  return router;
}
