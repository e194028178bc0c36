// The development enrollment page at /demo/enroll: a newcomer adds her own face to the registry
// (enrollment-grade quality gate, enrollCitizen create-only, audited as 'demo'), then signs in at
// /demo. Mounted only when config.demo.enabled (never in production); CSRF-bound to a browser cookie.
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { languageOf, renderEnroll, type Feedback } from '../../views/index.ts';
import type { AuditSecrets } from '../audit/chain.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import type { Db } from '../db/knex.ts';
import { enrollCitizen } from '../registry/enroll.ts';
import type { Csrf } from '../server/csrf.ts';
import { readMultipart } from '../server/multipart.ts';
import { errorCatalogue, isAppError, type ErrorCode } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';

/** What the enrollment page needs. */
export type DemoEnrollDeps = { db: Db; analyzer: Pick<FaceAnalyzer, 'analyze'>; sealer: Sealer; csrf: Csrf; maxBytes: number; auditSecrets?: AuditSecrets };

const cookie = 'demo_enroll';
const fields = ['nationalId', 'givenName', 'familyName', 'birthdate'] as const;
const feedbackOf = (code: ErrorCode): Feedback => ({ code, message: errorCatalogue[code].message });

/** The routes under /demo/enroll: GET the form, POST multipart (csrf, the record, one `photo`). */
export function createDemoEnrollment({ db, analyzer, sealer, csrf, maxBytes, auditSecrets }: DemoEnrollDeps): Router {
  const router = new Router({ prefix: '/demo/enroll' });
  const action = '/demo/enroll';

  /** The browser's random id, the subject of its CSRF token (set on the first GET). */
  function browserId(ctx: Context, create: boolean): string | undefined {
    let id = ctx.cookies.get(cookie);
    if (!id && create) {
      id = randomBytes(16).toString('base64url');
      ctx.cookies.set(cookie, id, { httpOnly: true, sameSite: 'strict', maxAge: 3600_000, overwrite: true });
    }
    return id;
  }

  router.get('/', (ctx) => {
    const id = browserId(ctx, true)!;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderEnroll({ csrf: csrf.token(`enroll:${id}`), action, lang: languageOf(ctx) });
  });

  router.post('/', async (ctx) => {
    const id = browserId(ctx, false);
    const { files, fields: form } = await readMultipart(ctx, 'photo', 1, maxBytes);
    csrf.verify(`enroll:${id ?? ''}`, id ? form.csrf : undefined);
    const values = Object.fromEntries(fields.map((f) => [f, typeof form[f] === 'string' ? form[f] : ''])) as Record<(typeof fields)[number], string>;
    const lang = languageOf(ctx);
    const page = (props: Partial<Parameters<typeof renderEnroll>[0]>) => {
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = renderEnroll({ csrf: csrf.token(`enroll:${id}`), action, lang, values, ...props });
    };
    if (files.length !== 1) {
      ctx.status = 400;
      return page({ feedback: [feedbackOf('too_few_frames')] });
    }
    try {
      // Create-only: a public page must never replace a registered citizen's record or face (the
      // same citizen id, so the same pairwise sub, for someone else): an ID in the registry is refused.
      const by = { actor: 'demo', source: 'demo enroll', ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined };
      const { citizen } = await enrollCitizen({ db, analyzer, sealer, clock: Date.now, auditSecrets }, values, files[0], { replace: false, by });
      page({ values: {}, enrolled: { name: `${citizen.givenName} ${citizen.familyName}`, nationalId: citizen.nationalId, signInUrl: '/demo' } });
    } catch (err) {
      if (!isAppError(err) || err.status >= 500) throw err;
      // Quality problems come back as guidance (every code); a record problem with its detail.
      const codes = Array.isArray(err.details.codes) ? (err.details.codes as ErrorCode[]) : [err.code];
      const feedback = codes.filter((c) => c in errorCatalogue).map(feedbackOf);
      if (err.code === 'invalid_citizen' || err.code === 'invalid_national_id') feedback.push({ code: 'detail', message: err.message });
      ctx.status = err.status;
      page({ feedback });
    }
  });

  return router;
}
