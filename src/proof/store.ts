// Persistence of proof-of-life requests (`proof_requests`: Facegate's side of a CIBA request) and of
// the pairwise subjects agencies received (`pairwise_subjects`). State changes are conditional
// UPDATEs, so two instances (or a double click) cannot both claim a link or decide a request.
// Imports db only.
import type { Db } from '../db/knex.ts';

export type ProofState = 'pending' | 'verified' | 'denied' | 'expired' | 'failed';
export type DeliveryMode = 'poll' | 'ping';
export type NotifierKind = 'webhook' | 'qr' | 'outbox';

export interface ProofRequest {
  id: string;
  authReqId: string;
  clientId: string;
  citizenId: string;
  scope: string;
  bindingMessage: string;
  deliveryMode: DeliveryMode;
  notifier: NotifierKind;
  linkHash: string;
  browserHash: string | null;
  state: ProofState;
  intervalSeconds: number;
  polledAt: number;
  openedAt: number | null;
  claimedAt: number | null;
  decidedAt: number | null;
  tokenIssuedAt: number | null;
  expiresAt: number;
  createdAt: number;
}

type Row = {
  id: string; auth_req_id: string; client_id: string; citizen_id: string; scope: string; binding_message: string;
  delivery_mode: string; notifier: string; link_hash: string; browser_hash: string | null; state: string;
  interval_seconds: number; polled_at: number | string; opened_at: number | string | null; claimed_at: number | string | null;
  decided_at: number | string | null; token_issued_at: number | string | null; expires_at: number | string; created_at: number | string;
};

const table = 'proof_requests';
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toRequest = (r: Row): ProofRequest => ({
  id: r.id, authReqId: r.auth_req_id, clientId: r.client_id, citizenId: r.citizen_id, scope: r.scope,
  bindingMessage: r.binding_message, deliveryMode: r.delivery_mode as DeliveryMode, notifier: r.notifier as NotifierKind,
  linkHash: r.link_hash, browserHash: r.browser_hash, state: r.state as ProofState, intervalSeconds: Number(r.interval_seconds),
  polledAt: Number(r.polled_at), openedAt: num(r.opened_at), claimedAt: num(r.claimed_at), decidedAt: num(r.decided_at),
  tokenIssuedAt: num(r.token_issued_at), expiresAt: Number(r.expires_at), createdAt: Number(r.created_at),
});

export async function insertProof(db: Db, p: ProofRequest): Promise<void> {
  await db(table).insert({
    id: p.id, auth_req_id: p.authReqId, client_id: p.clientId, citizen_id: p.citizenId, scope: p.scope,
    binding_message: p.bindingMessage, delivery_mode: p.deliveryMode, notifier: p.notifier, link_hash: p.linkHash,
    browser_hash: p.browserHash, state: p.state, interval_seconds: p.intervalSeconds, polled_at: p.polledAt,
    opened_at: p.openedAt, claimed_at: p.claimedAt, decided_at: p.decidedAt, token_issued_at: p.tokenIssuedAt,
    expires_at: p.expiresAt, created_at: p.createdAt,
  });
}

async function findBy(db: Db, where: Partial<Row>): Promise<ProofRequest | undefined> {
  const row = await db<Row>(table).where(where).first();
  return row ? toRequest(row) : undefined;
}

export const findProof = (db: Db, id: string) => findBy(db, { id });
export const findProofByLink = (db: Db, linkHash: string) => findBy(db, { link_hash: linkHash });
export const findProofByAuthReqId = (db: Db, authReqId: string) => findBy(db, { auth_req_id: authReqId });

/** Marks the first opening of the link; true when this call did. */
export async function markOpened(db: Db, id: string, now: number): Promise<boolean> {
  return (await db(table).where({ id }).whereNull('opened_at').update({ opened_at: now })) === 1;
}

/** Binds a pending, unclaimed, unexpired request to a browser; true when this call did. */
export async function claimProof(db: Db, id: string, browserHash: string, now: number): Promise<boolean> {
  const n = await db(table).where({ id, state: 'pending' }).whereNull('claimed_at').where('expires_at', '>', now)
    .update({ claimed_at: now, browser_hash: browserHash });
  return n === 1;
}

/** Moves a pending request to its outcome; true when this call did (nobody decided it before). */
export async function decideProof(db: Db, id: string, state: Exclude<ProofState, 'pending'>, now: number): Promise<boolean> {
  return (await db(table).where({ id, state: 'pending' }).update({ state, decided_at: now })) === 1;
}

/** A decided request whose result could not be handed to oidc-provider: it ends as failed. */
export async function failProof(db: Db, id: string, now: number): Promise<void> {
  await db(table).where({ id }).update({ state: 'failed', decided_at: now });
}

/** Records a poll: its time, and the interval (grown after a slow_down). */
export async function recordPoll(db: Db, id: string, now: number, intervalSeconds: number): Promise<void> {
  await db(table).where({ id }).update({ polled_at: now, interval_seconds: intervalSeconds });
}

/** Records the first token issued for the request; true when this call did. */
export async function markTokenIssued(db: Db, id: string, now: number): Promise<boolean> {
  return (await db(table).where({ id }).whereNull('token_issued_at').update({ token_issued_at: now })) === 1;
}

/** The pending requests past their expiry (to be marked expired and audited). */
export async function expiredPending(db: Db, now: number, limit = 100): Promise<ProofRequest[]> {
  const rows = await db<Row>(table).where({ state: 'pending' }).where('expires_at', '<=', now).orderBy('expires_at').limit(limit);
  return rows.map(toRequest);
}

/** Deletes requests that ended before `before` (housekeeping). */
export async function pruneProofs(db: Db, before: number): Promise<number> {
  return db(table).where('expires_at', '<', before).whereNot({ state: 'pending' }).del();
}

/**
 * Records that `sector` received `sub` for a citizen (at token issuance): a later login_hint with
 * that sub, from an agency of the sector, names her.
 */
export async function rememberSubject(db: Db, sector: string, sub: string, citizenId: string, now: number): Promise<void> {
  await db('pairwise_subjects').insert({ sector, sub, citizen_id: citizenId, created_at: now, last_issued_at: now })
    .onConflict(['sector', 'sub']).merge(['last_issued_at']);
}

/** The citizen a sector's pairwise sub names, if the sector ever received it. */
export async function citizenOfSubject(db: Db, sector: string, sub: string): Promise<string | undefined> {
  const row = await db('pairwise_subjects').where({ sector, sub }).first('citizen_id') as { citizen_id: string } | undefined;
  return row?.citizen_id;
}
