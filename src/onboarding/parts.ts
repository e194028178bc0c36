// Remote onboarding as the gateway composes it (src/server/gateway.ts): the capture's match
// reference for purpose 'onboarding', the document reader (a worker thread, started on the first
// document so a gateway that never onboards anyone never loads the OCR model), the routes, the
// stream binding, housekeeping. Imports onboarding/, capture types, risk; no koa app.
import type { Config } from '../../config/schema.ts';
import type { Audit } from '../audit/log.ts';
import type { CaptureService } from '../capture/service.ts';
import type { Db } from '../db/knex.ts';
import type { AttemptLimits } from '../risk/limits.ts';
import { createRiskKeys } from '../risk/keys.ts';
import type { Csrf } from '../server/csrf.ts';
import type { Sealer } from '../shared/sealed.ts';
import { createOnboarding, createOnboardingReference, type DocumentReading } from './flow.ts';
import { createDocumentReaderPool, type DocumentReaderPool } from './pool.ts';
import { createOnboardingRouter, onboardingStreamBinding } from './routes.ts';
import { pruneSessions } from './store.ts';

export function createOnboardingParts(deps: { db: Db; sealer: Sealer; config: Readonly<Config>; audit: Audit; limits: AttemptLimits }) {
  const { db, sealer, config, audit, limits } = deps;
  let pool: Promise<DocumentReaderPool> | undefined;
  const readerPool = () => {
    if (!pool) {
      pool = createDocumentReaderPool(config.biometrics, { threads: 1 });
      pool.catch(() => { pool = undefined; }); // a failed start is tried again on the next document
    }
    return pool;
  };
  const reader: DocumentReading = { read: async (bytes, options) => (await readerPool()).read(bytes, options) };
  return {
    enabled: config.onboarding.enabled,
    /** For createCaptureService: the document portrait as the onboarding capture's reference. */
    references: { onboarding: createOnboardingReference({ db, sealer, config, audit }) },
    /** The routes and the stream binding, once the capture service exists. */
    attach(capture: CaptureService, csrf: Csrf) {
      const onboarding = createOnboarding({ db, sealer, config, audit, reader, capture, limits, keys: createRiskKeys(config.secrets.pairwiseSalt) });
      return {
        router: createOnboardingRouter({ onboarding, capture, csrf, config, db, sealer, audit }),
        binding: onboardingStreamBinding({ onboarding, csrf, db }),
      };
    },
    /** Sessions are kept a day after they start (the per-ID limit counts them), then deleted. */
    prune: (now: number) => pruneSessions(db, now - 86_400_000),
    async close() {
      const p = pool;
      pool = undefined;
      if (p) await p.then((r) => r.close(), () => {});
    },
  };
}
