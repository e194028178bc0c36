// The audit trail: one row per decision (capture started, frames decided, consent, agency and key
// changes, the provider's own events). Rows never hold images, templates, tokens or names.
// Append-only, hash-chained and MACed under the audit key (chain.ts); imports db and the
// development secrets only.
import { developmentSecrets } from '../../config/defaults.ts';
import type { Db } from '../db/knex.ts';
import { isPostgres } from '../db/knex.ts';
import { auditKeyring, genesisHash, rowHash, rowMac, type AuditRow, type AuditSecrets } from './chain.ts';
import { consentEventType, storeConsent } from './consents.ts';

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

// Advisory lock class for appends ("FGAU"); the second key is the schema, so schemas sharing one
// PostgreSQL database (tests, several deployments) do not wait on each other.
const lockClass = 0x46474155;
const maxAttempts = 5;

// Two writers that computed the same next id collide on the primary key; on SQLite a deferred
// transaction that lost the write lock fails with SQLITE_BUSY. Both are retried from the start.
const isRetryable = (err: unknown): boolean => {
  const code = String((err as { code?: unknown }).code ?? '');
  return code === '23505' || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};

const clip = (s: string | undefined, n: number) => (s === undefined ? null : s.slice(0, n));

/**
 * An audit writer over `audit_events`. Each append runs in a transaction that takes the chain's
 * lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: the single connection), reads the
 * last row and inserts the next one with id = last id + 1, its hash and its MAC under the audit key
 * `secrets.auditKeyId`. Never updates or deletes. A `consent.decided` event also stores the decision
 * in `consents`, in the same transaction.
 * `secrets` is the configuration's (config.secrets); without it, the public development key (tests,
 * scripts): rows MACed under it do not verify with a production keyring, which refuses that key.
 */
export function createAudit(db: Db, clock: () => number = Date.now, secrets: AuditSecrets = developmentSecrets): Audit {
  const pg = isPostgres(db);
  const ring = auditKeyring(secrets);
  const key = ring.keys.get(ring.keyId);
  if (!key) throw new Error(`audit key "${ring.keyId}" is not in secrets.auditKeys`);
  return async (e) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await db.transaction(async (trx) => {
          if (pg) await trx.raw('select pg_advisory_xact_lock(?, hashtext(current_schema()))', [lockClass]);
          const last = await trx<AuditRow>('audit_events').orderBy('id', 'desc').first('id', 'hash');
          const fields = {
            id: last ? Number(last.id) + 1 : 1,
            at: clock(),
            type: e.type,
            outcome: e.outcome,
            code: e.code ?? null,
            interaction_uid: e.interactionUid ?? null,
            client_id: e.clientId ?? null,
            citizen_id: e.citizenId ?? null,
            ip: clip(e.ip, 64),
            user_agent: clip(e.userAgent, 512),
            details: e.details ? JSON.stringify(e.details) : null,
          };
          const prevHash = last?.hash ?? genesisHash;
          const hash = rowHash(prevHash, fields);
          await trx('audit_events').insert({ ...fields, prev_hash: prevHash, hash, mac: rowMac(key, ring.keyId, hash), mac_key_id: ring.keyId });
          if (e.type === consentEventType) await storeConsent(trx, e, fields.at);
        });
        return;
      } catch (err) {
        if (attempt >= maxAttempts || !isRetryable(err)) throw err;
      }
    }
  };
}
