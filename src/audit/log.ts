// The audit trail: one row per decision (capture started, frames decided, consent, agency and key
// changes). Rows never hold images, templates or names. Imports db only.
import type { Db } from '../db/knex.ts';

export type AuditEvent = {
  type: string;
  outcome: 'success' | 'failure' | 'info';
  code?: string;
  interactionUid?: string;
  clientId?: string;
  citizenId?: string | null;
  /** Client address and user agent of the request that caused the event (issue 5). */
  ip?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
};

export type Audit = (event: AuditEvent) => Promise<void>;

/** An audit writer over the `audit_events` table. */
export function createAudit(db: Db, clock: () => number = Date.now): Audit {
  return async (e) => {
    await db('audit_events').insert({
      at: clock(),
      type: e.type,
      outcome: e.outcome,
      code: e.code ?? null,
      interaction_uid: e.interactionUid ?? null,
      client_id: e.clientId ?? null,
      citizen_id: e.citizenId ?? null,
      details: e.details ? JSON.stringify(e.details) : null,
    });
  };
}
