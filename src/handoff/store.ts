// Persistence of handoffs (`handoffs`, migration 0012): a capture handed from a desktop page to a
// phone. Every state change is a conditional UPDATE, so two phones (or two instances, or a double
// click) cannot both claim one code, and a verified capture finishes the desktop's sign-in once.
// Imports db only.
import type { Db } from '../db/knex.ts';

/**
 *   pending ──claim (first phone)──▶ claimed ──phone's capture verified──▶ verified ──desktop continues──▶ completed
 *   pending | claimed | verified ──desktop makes a new code, or cancels──▶ cancelled
 *   any state but completed, once now ≥ expiresAt: expired (read, never written)
 */
export type HandoffState = 'pending' | 'claimed' | 'verified' | 'completed' | 'cancelled';
export type HandoffKind = 'sign_in' | 'proof_of_life';

export interface Handoff {
  id: string;
  codeHash: string;
  /** The code, sealed (JSON of a Sealed): only the desktop's page opens it. */
  codeSealed: string;
  kind: HandoffKind;
  /** The interaction uid (sign_in) or the proof request id (proof_of_life): what the phone's captures are bound to. */
  targetId: string;
  clientId: string | null;
  acr: string;
  /** The national ID typed on the desktop, sealed (JSON of a Sealed); null for a proof of life. */
  nationalIdSealed: string | null;
  desktop: string | null;
  state: HandoffState;
  phoneHash: string | null;
  captureId: string | null;
  citizenId: string | null;
  verifiedAcr: string | null;
  verifiedAt: number | null;
  claimedAt: number | null;
  completedAt: number | null;
  expiresAt: number;
  createdAt: number;
}

type Row = {
  id: string; code_hash: string; code_sealed: string; kind: string; target_id: string; client_id: string | null; acr: string;
  national_id_sealed: string | null; desktop: string | null; state: string; phone_hash: string | null; capture_id: string | null;
  citizen_id: string | null; verified_acr: string | null; verified_at: number | string | null; claimed_at: number | string | null;
  completed_at: number | string | null; expires_at: number | string; created_at: number | string;
};

const table = 'handoffs';
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const live: HandoffState[] = ['pending', 'claimed', 'verified'];

const toHandoff = (r: Row): Handoff => ({
  id: r.id, codeHash: r.code_hash, codeSealed: r.code_sealed, kind: r.kind as HandoffKind, targetId: r.target_id, clientId: r.client_id, acr: r.acr,
  nationalIdSealed: r.national_id_sealed, desktop: r.desktop, state: r.state as HandoffState, phoneHash: r.phone_hash,
  captureId: r.capture_id, citizenId: r.citizen_id, verifiedAcr: r.verified_acr, verifiedAt: num(r.verified_at),
  claimedAt: num(r.claimed_at), completedAt: num(r.completed_at), expiresAt: Number(r.expires_at), createdAt: Number(r.created_at),
});

export async function insertHandoff(db: Db, h: Handoff): Promise<void> {
  await db(table).insert({
    id: h.id, code_hash: h.codeHash, code_sealed: h.codeSealed, kind: h.kind, target_id: h.targetId, client_id: h.clientId, acr: h.acr,
    national_id_sealed: h.nationalIdSealed, desktop: h.desktop, state: h.state, phone_hash: h.phoneHash, capture_id: h.captureId,
    citizen_id: h.citizenId, verified_acr: h.verifiedAcr, verified_at: h.verifiedAt, claimed_at: h.claimedAt,
    completed_at: h.completedAt, expires_at: h.expiresAt, created_at: h.createdAt,
  });
}

export async function findHandoff(db: Db, id: string): Promise<Handoff | undefined> {
  const row = await db<Row>(table).where({ id }).first();
  return row ? toHandoff(row) : undefined;
}

export async function findHandoffByCode(db: Db, codeHash: string): Promise<Handoff | undefined> {
  const row = await db<Row>(table).where({ code_hash: codeHash }).first();
  return row ? toHandoff(row) : undefined;
}

/**
 * The newest handoff of a desktop page (interaction or proof request), if any. A page has at most
 * one handoff not cancelled (a new code cancels the others), which comes first whatever the clock.
 */
export async function latestHandoffOf(db: Db, kind: HandoffKind, targetId: string): Promise<Handoff | undefined> {
  const row = await db<Row>(table).where({ kind, target_id: targetId })
    .orderByRaw("case when state = 'cancelled' then 1 else 0 end").orderBy('created_at', 'desc').first();
  return row ? toHandoff(row) : undefined;
}

/** How many handoffs a desktop page made (a bound on new codes per sign-in). */
export async function countHandoffs(db: Db, kind: HandoffKind, targetId: string): Promise<number> {
  const [{ n }] = await db(table).where({ kind, target_id: targetId }).count({ n: '*' });
  return Number(n);
}

/** Cancels the live handoffs of a desktop page; the ids it cancelled. */
export async function cancelHandoffs(db: Db, kind: HandoffKind, targetId: string): Promise<string[]> {
  const rows = await db<Row>(table).where({ kind, target_id: targetId }).whereIn('state', live).select('id');
  const ids = rows.map((r) => r.id);
  if (ids.length) await db(table).whereIn('id', ids).whereIn('state', live).update({ state: 'cancelled' });
  return ids;
}

/** Binds a pending, unexpired handoff to the phone that opened it first; true when this call did. */
export async function claimHandoff(db: Db, id: string, phoneHash: string, now: number): Promise<boolean> {
  return (await db(table).where({ id, state: 'pending' }).whereNull('phone_hash').where('expires_at', '>', now)
    .update({ state: 'claimed', phone_hash: phoneHash, claimed_at: now })) === 1;
}

/** Records the capture the phone started last (what the desktop's progress reads). */
export async function recordCapture(db: Db, id: string, captureId: string): Promise<void> {
  await db(table).where({ id, state: 'claimed' }).update({ capture_id: captureId });
}

/** The phone's capture verified the citizen: claimed → verified; true when this call did. */
export async function markVerified(db: Db, id: string, v: { captureId: string; citizenId: string; acr: string; at: number }, now: number): Promise<boolean> {
  return (await db(table).where({ id, state: 'claimed' }).where('expires_at', '>', now)
    .update({ state: 'verified', capture_id: v.captureId, citizen_id: v.citizenId, verified_acr: v.acr, verified_at: v.at })) === 1;
}

/** The desktop took the result (its sign-in finished, or the proof of life was recorded); true when this call did. */
export async function markCompleted(db: Db, id: string, now: number): Promise<boolean> {
  return (await db(table).where({ id, state: 'verified' }).update({ state: 'completed', completed_at: now })) === 1;
}

/** Deletes handoffs that ended before `before` (housekeeping). */
export async function pruneHandoffs(db: Db, before: number): Promise<number> {
  return db(table).where('expires_at', '<', before).del();
}
