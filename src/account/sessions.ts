// The space's sessions and the sign-ins under way. A session is a random token in an httpOnly
// cookie; the database keeps its sha256 only, with an idle expiry (account.idleSeconds, moved on
// by each request) and an absolute one (account.maxSeconds). A sign-in under way keeps its state,
// PKCE verifier, nonce and DPoP key sealed for ten minutes, read once. Imports db and the sealer.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import type { Sealer } from '../shared/sealed.ts';

export type AccountSession = { id: string; citizenId: string; acr: string; amr: string[]; createdAt: number; expiresAt: number };
type SessionRow = { id: string; citizen_id: string; acr: string; amr: string; created_at: number | string; last_seen_at: number | string; expires_at: number | string };

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sessions = 'account_sessions';
const logins = 'account_logins';

/** Opens a session; returns the cookie's token (never stored) and the session. */
export async function openSession(db: Db, input: { citizenId: string; acr: string; amr: string[] }, limits: { idleSeconds: number; maxSeconds: number }, now: number): Promise<{ token: string; session: AccountSession }> {
  const token = randomBytes(32).toString('base64url');
  const id = sha256(token);
  const expiresAt = now + limits.idleSeconds * 1000;
  await db(sessions).insert({ id, citizen_id: input.citizenId, acr: input.acr, amr: JSON.stringify(input.amr), created_at: now, last_seen_at: now, expires_at: expiresAt });
  return { token, session: { id, ...input, createdAt: now, expiresAt } };
}

/**
 * The session of a cookie's token, its idle expiry moved on; undefined when unknown, idle too long
 * or past its absolute lifetime (then it is deleted).
 */
export async function touchSession(db: Db, token: string | undefined, limits: { idleSeconds: number; maxSeconds: number }, now: number): Promise<AccountSession | undefined> {
  if (!token || token.length > 64) return undefined;
  const id = sha256(token);
  const row = await db<SessionRow>(sessions).where({ id }).first();
  if (!row) return undefined;
  const createdAt = Number(row.created_at);
  if (Number(row.expires_at) <= now || createdAt + limits.maxSeconds * 1000 <= now) {
    await db(sessions).where({ id }).delete();
    return undefined;
  }
  const expiresAt = Math.min(now + limits.idleSeconds * 1000, createdAt + limits.maxSeconds * 1000);
  await db(sessions).where({ id }).update({ last_seen_at: now, expires_at: expiresAt });
  return { id, citizenId: row.citizen_id, acr: row.acr, amr: JSON.parse(row.amr) as string[], createdAt, expiresAt };
}

/** Ends one session. */
export async function endSession(db: Db, id: string): Promise<void> {
  await db(sessions).where({ id }).delete();
}

/** Ends every space session of the citizen but `keep`; returns how many ended. */
export async function endOtherSessions(db: Db, citizenId: string, keep: string | undefined): Promise<number> {
  const q = db(sessions).where({ citizen_id: citizenId });
  if (keep) q.whereNot({ id: keep });
  return q.delete();
}

/** What a sign-in to the space under way needs at its callback. */
export type PendingLogin = { verifier: string; nonce: string; dpop: { privateJwk: JsonWebKey; publicJwk: JsonWebKey } };

/** Stores a sign-in under way for its state (ten minutes). */
export async function savePendingLogin(db: Db, sealer: Sealer, state: string, login: PendingLogin, now: number): Promise<void> {
  const id = sha256(state);
  await db(logins).insert({ id, sealed: JSON.stringify(sealer.seal(Buffer.from(JSON.stringify(login)), `account-login:${id}`)), expires_at: now + 600_000 });
}

/** Takes (reads and deletes) the sign-in under way of `state`; undefined when unknown, used or expired. */
export async function takePendingLogin(db: Db, sealer: Sealer, state: string, now: number): Promise<PendingLogin | undefined> {
  const id = sha256(state);
  const row = await db<{ id: string; sealed: string; expires_at: number | string }>(logins).where({ id }).first();
  if (!row) return undefined;
  // Of two callbacks with one state, only the one whose delete removed the row goes on.
  if (await db(logins).where({ id }).delete() !== 1 || Number(row.expires_at) <= now) return undefined;
  return JSON.parse(sealer.open(JSON.parse(row.sealed), `account-login:${id}`).toString('utf8')) as PendingLogin;
}

/** Housekeeping: expired sessions and abandoned sign-ins; returns how many rows went. */
export async function pruneAccount(db: Db, now: number): Promise<number> {
  const [a, b] = await Promise.all([db(sessions).where('expires_at', '<=', now).delete(), db(logins).where('expires_at', '<=', now).delete()]);
  return a + b;
}
