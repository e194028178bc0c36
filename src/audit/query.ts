// Reading the audit trail back: the chain verified in id order, export as JSON lines, and a
// citizen's sign-ins. Streams in batches, never the whole table at once. Imports db only.
import type { Db } from '../db/knex.ts';
import { checkLink, type AuditRow, type ChainBreak } from './chain.ts';

export type VerifyResult = { ok: boolean; rows: number; ms: number; head: { id: number; hash: string } | null; broken?: ChainBreak };

async function* batches(db: Db, size: number, where?: (q: ReturnType<Db>) => void): AsyncGenerator<AuditRow[]> {
  let after = 0;
  for (;;) {
    const q = db<AuditRow>('audit_events').where('id', '>', after).orderBy('id').limit(size);
    where?.(q as unknown as ReturnType<Db>);
    const rows = await q;
    if (rows.length === 0) return;
    yield rows;
    after = Number(rows[rows.length - 1].id);
  }
}

/** Recomputes every row's hash in id order; stops at the first break and names it. */
export async function verifyChain(db: Db, options: { batch?: number; onProgress?: (rows: number) => void } = {}): Promise<VerifyResult> {
  const started = performance.now();
  let previous: AuditRow | undefined;
  let rows = 0;
  for await (const batch of batches(db, options.batch ?? 5000)) {
    for (const row of batch) {
      const broken = checkLink(previous, row);
      if (broken) return { ok: false, rows, ms: Math.round(performance.now() - started), head: previous ? { id: Number(previous.id), hash: previous.hash } : null, broken };
      previous = row;
      rows++;
    }
    options.onProgress?.(rows);
  }
  return { ok: true, rows, ms: Math.round(performance.now() - started), head: previous ? { id: Number(previous.id), hash: previous.hash } : null };
}

/** One exported event: the row with `details` parsed and the time also as ISO 8601. */
export type ExportedEvent = Omit<AuditRow, 'details'> & { time: string; details: unknown };

function parseDetails(details: string | null): unknown {
  if (details === null) return null;
  try { return JSON.parse(details); } catch { return details; }
}

/** Every event with `since <= at < until` (epoch ms), in id order, one call per event. */
export async function exportEvents(db: Db, range: { since?: number; until?: number }, write: (e: ExportedEvent) => Promise<void> | void): Promise<number> {
  let n = 0;
  const where = (q: ReturnType<Db>) => {
    if (range.since !== undefined) q.where('at', '>=', range.since);
    if (range.until !== undefined) q.where('at', '<', range.until);
  };
  for await (const batch of batches(db, 2000, where)) {
    for (const r of batch) {
      const { id, at, ...rest } = r;
      await write({ id: Number(id), at: Number(at), time: new Date(Number(at)).toISOString(), ...rest, details: parseDetails(r.details) });
      n++;
    }
  }
  return n;
}

/** A token exchange that gave an agency this citizen's claims. */
export type SignIn = { at: number; clientId: string | null; acr: string | null; amr: string[]; scopes: string[]; claims: string[] };

/** The citizen's sign-ins (tokens issued by code exchange), most recent first. */
export async function listSignIns(db: Db, citizenId: string): Promise<SignIn[]> {
  const rows = await db<AuditRow>('audit_events').where({ citizen_id: citizenId, type: 'oidc.grant.success' }).orderBy('id', 'desc');
  return rows.flatMap((r) => {
    const d = (parseDetails(r.details) ?? {}) as { grant_type?: string; acr?: string; amr?: string[]; scope?: string; claims?: string[] };
    if (d.grant_type !== 'authorization_code') return [];
    return [{ at: Number(r.at), clientId: r.client_id, acr: d.acr ?? null, amr: d.amr ?? [], scopes: String(d.scope ?? '').split(' ').filter(Boolean), claims: d.claims ?? [] }];
  });
}
