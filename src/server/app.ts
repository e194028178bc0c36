// The koa application: request ids and logs, errors as stable codes (JSON or a page), security
// headers, health and metrics, page assets, the sign-in interaction, the demo agency, and the
// OpenID Provider mounted last. Receives every dependency; creates nothing it could be given.
import { randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import Koa, { type Context } from 'koa';
import helmet from 'koa-helmet';
import type Provider from 'oidc-provider';
import { codeMessage, languageOf, messagesOf, renderErrorPage, staticDir, vendorDir } from '../../views/index.ts';
import { AppError, isAppError, isOutage, outageRetrySeconds, toAppError } from '../shared/errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { serveStatic } from './static.ts';

export type AppDeps = {
  provider: Provider;
  routers: Router[];
  logger: Logger;
  metrics: Metrics;
  /** Readiness probes by name; each throws when not ready. */
  readiness: Record<string, () => Promise<void>>;
  /**
   * Probes of shared dependencies with a fallback (Redis for the attempt limits): reported by
   * /readyz under `degraded` when they throw, without making the instance unready. Every instance
   * shares them, so taking instances out of the balancer would take the whole service down.
   */
  degradable?: Record<string, () => Promise<void>>;
  trustProxy: boolean;
  /** With trustProxy: the proxies that append to X-Forwarded-For; the client IP is that many entries from its right. */
  proxyHops: number;
  /** The capture streams' origin (ws:// or wss:// of the issuer), allowed in connect-src: older browsers do not count a WebSocket as 'self'. */
  streamOrigin?: string;
  /**
   * In production: the issuer's https origin. A request that did not come over https (directly, or
   * per X-Forwarded-Proto with trustProxy) is sent there (GET, HEAD) or refused (https_required),
   * before anything can set a cookie; the probes (/healthz, /readyz, /metrics) stay on plain http.
   */
  httpsOrigin?: string;
};

/** Endpoints an orchestrator or scraper calls inside the network, over plain http; they set no cookie. */
const probePaths = new Set(['/healthz', '/readyz', '/metrics']);

/** Plain-http requests in production: GET and HEAD redirected to the https origin, the rest refused. */
function httpsOnly(origin: string): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.secure || probePaths.has(ctx.path)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError('https_required');
    ctx.status = 308;
    ctx.redirect(`${origin}${ctx.originalUrl}`);
  };
}

/** Client errors are answered with their code; anything else is logged and hidden as internal_error. */
function errorHandler(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      // A dependency outage (database, Redis, disk) is a retryable 503, not the service's bug.
      const err = isAppError(thrown) || isOutage(thrown) ? toAppError(thrown) : badRequestOf(thrown) ?? new AppError('internal_error');
      if (err.status >= 500) logger.error({ err: thrown, requestId: ctx.state.requestId }, 'request failed');
      ctx.status = err.status;
      if (err.status === 503) ctx.set('Retry-After', String(err.details.retryAfterSeconds ?? outageRetrySeconds));
      const message = err.expose ? err.message : 'Something went wrong on our side.';
      // A browser (Accept: text/html first) gets a page; fetch, curl and API clients get JSON.
      if (ctx.accepts('json', 'html') === 'html') {
        const lang = languageOf(ctx);
        ctx.type = 'html';
        ctx.body = renderErrorPage({
          title: messagesOf(lang).error.title, message: lang === 'en' ? message : codeMessage(lang, err.expose ? err.code : 'internal_error', message),
          code: err.code, requestId: ctx.state.requestId, lang,
        });
      } else {
        ctx.body = { error: { code: err.code, message } };
      }
    }
  };
}

/** Body-parser and koa HTTP errors (malformed JSON, wrong charset) are the caller's fault: 400. */
function badRequestOf(thrown: unknown): AppError | undefined {
  const status = (thrown as { status?: number }).status;
  if (status === 413) return new AppError('body_too_large');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError('invalid_input', status === 415 ? 'unsupported content type' : 'the request body could not be read');
  }
  return undefined;
}

function requestLog(logger: Logger, metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const start = performance.now();
    ctx.state.requestId = randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    try {
      await next();
    } finally {
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const ms = performance.now() - start;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? (ctx.respond === false ? 'oidc' : 'other');
      metrics.http.observe({ method: ctx.method, route: String(route), status: String(status) }, ms / 1000);
      // The path only: query strings may carry codes or hints.
      logger.info({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(ms) }, 'request');
    }
  };
}

export function createApp({ provider, routers, logger, metrics, readiness, degradable = {}, trustProxy, proxyHops, streamOrigin, httpsOrigin }: AppDeps): Koa {
  // koa reads every X-Forwarded-For entry by default and takes the leftmost, which the client
  // writes itself: only the rightmost proxyHops entries come from our proxies.
  const app = new Koa({ proxy: trustProxy, maxIpsCount: proxyHops });
  app.use(requestLog(logger, metrics));
  app.use(errorHandler(logger));
  app.use(helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'], connectSrc: ["'self'", ...(streamOrigin ? [streamOrigin] : [])], frameAncestors: ["'none'"], objectSrc: ["'none'"], baseUri: ["'none'"],
        // form-action is left out on purpose: a consent form's 303 goes on to the agency's
        // redirect_uri, which Chromium checks against form-action.
      },
    },
    crossOriginEmbedderPolicy: false,
  }));
  if (httpsOrigin) app.use(httpsOnly(httpsOrigin));
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const checks: Record<string, string> = {};
      for (const [name, probe] of Object.entries(readiness)) {
        checks[name] = await probe().then(() => 'ok', (e: Error) => e.message);
      }
      const ready = Object.values(checks).every((v) => v === 'ok');
      const degraded: Record<string, string> = {};
      for (const [name, probe] of Object.entries(degradable)) {
        await probe().catch((e: Error) => { degraded[name] = e.message; });
      }
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'not_ready', checks, ...(Object.keys(degraded).length ? { degraded } : {}) };
      return;
    }
    if (ctx.path === '/metrics') {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
      return;
    }
    await next();
  });
  app.use(serveStatic(staticDir, '/static/', { '/favicon.ico': 'favicon.svg' }));
  app.use(serveStatic(vendorDir, '/static/vendor/'));
  const parse = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '16kb', formLimit: '16kb', encoding: 'utf-8' });
  for (const router of routers) {
    // Bodies are parsed only for our own routes: oidc-provider parses its own.
    const prefix = (router.opts.prefix ?? '/').split(':')[0];
    app.use(async (ctx, next) => (ctx.path.startsWith(prefix) && !ctx.is('multipart/form-data') ? parse(ctx, next) : next()));
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  const oidc = provider.callback();
  app.use(async (ctx) => {
    ctx.respond = false;
    await oidc(ctx.req, ctx.res);
  });
  return app;
}
