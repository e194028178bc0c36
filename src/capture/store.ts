// Persistence of capture flows in `capture_sessions`, with optimistic versioning so two
// concurrent submissions to one flow cannot both be applied. Imports db and the flow types.
import type { Db } from '../db/knex.ts';
import { AppError } from '../shared/errors.ts';
import type { CaptureFlow } from './flow.ts';

type CaptureRow = {
  id: string; interaction_uid: string; client_id: string | null; citizen_id: string | null; id_key: string | null;
  purpose: string; acr: string; actions: string; state: string; attempts_used: number;
  submissions: number; version: number; result: string | null; expires_at: number;
  created_at: number; updated_at: number;
};

const toFlow = (r: CaptureRow): CaptureFlow => ({
  id: r.id,
  interactionUid: r.interaction_uid,
  clientId: r.client_id,
  citizenId: r.citizen_id,
  idKey: r.id_key ?? undefined,
  purpose: r.purpose as CaptureFlow['purpose'],
  acr: r.acr as CaptureFlow['acr'],
  actions: JSON.parse(r.actions) as CaptureFlow['actions'],
  state: r.state as CaptureFlow['state'],
  attemptsUsed: r.attempts_used,
  submissions: r.submissions,
  version: r.version,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertFlow(db: Db, f: CaptureFlow): Promise<void> {
  await db('capture_sessions').insert({
    id: f.id, interaction_uid: f.interactionUid, client_id: f.clientId, citizen_id: f.citizenId, id_key: f.idKey ?? null,
    purpose: f.purpose, acr: f.acr, actions: JSON.stringify(f.actions), state: f.state,
    attempts_used: f.attemptsUsed, submissions: f.submissions, version: f.version,
    expires_at: f.expiresAt, created_at: f.createdAt, updated_at: f.updatedAt,
  });
}

/** How many flows this interaction has started. */
export async function countFlows(db: Db, interactionUid: string): Promise<number> {
  const [{ n }] = await db('capture_sessions').where({ interaction_uid: interactionUid }).count({ n: '*' });
  return Number(n);
}

/** The flow with this id that belongs to this interaction, or capture_not_found. */
export async function loadFlow(db: Db, id: string, interactionUid: string): Promise<CaptureFlow> {
  const row = await db<CaptureRow>('capture_sessions').where({ id, interaction_uid: interactionUid }).first();
  if (!row) throw new AppError('capture_not_found');
  return toFlow(row);
}

/**
 * Claims the flow for one submission: bumps the version only if nobody else did since `flow` was
 * read. A concurrent submission loses with capture_busy instead of double-spending an attempt.
 */
export async function claimFlow(db: Db, flow: CaptureFlow, now: number): Promise<CaptureFlow> {
  const n = await db('capture_sessions')
    .where({ id: flow.id, version: flow.version, state: 'open' })
    .update({ version: flow.version + 1, updated_at: now });
  if (n !== 1) throw new AppError('capture_busy');
  return { ...flow, version: flow.version + 1, updatedAt: now };
}

/**
 * Writes the next version of a claimed flow (and the decision summary, never images). The
 * actions change when the risk rule steps a flow up to the active challenge.
 */
export async function saveFlow(db: Db, claimed: CaptureFlow, next: CaptureFlow, result: unknown): Promise<void> {
  const n = await db('capture_sessions').where({ id: claimed.id, version: claimed.version }).update({
    state: next.state, attempts_used: next.attemptsUsed, submissions: next.submissions, actions: JSON.stringify(next.actions),
    version: next.version, updated_at: next.updatedAt, result: JSON.stringify(result),
  });
  if (n !== 1) throw new AppError('capture_busy');
}

/** Deletes flows that ended or expired before `before` (housekeeping). */
export async function pruneFlows(db: Db, before: number): Promise<number> {
  return db('capture_sessions').where('expires_at', '<', before).del();
}
