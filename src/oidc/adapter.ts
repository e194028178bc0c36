// oidc-provider's storage: every model's payload in `oidc_payloads`, and agencies (model `Client`)
// read from `clients` through ./clients.ts. Imports oidc-provider (types, errors) and db; never koa.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import { findClient, removeClient, upsertClient, type AgencyMetadata } from './clients.ts';

type PayloadRow = {
  type: string; id: string; payload: string;
  grant_id: string | null; user_code: string | null; uid: string | null;
  expires_at: number | null; consumed_at: number | null;
};

const table = 'oidc_payloads';

// As in oidc-provider's memory adapter: only these models belong to a grant for revocation.
// Interaction payloads carry a grantId too, but revoking a grant must not delete them.
const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const labels: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
  PreAuthorizedCode: 'pre-authorized code',
};

/**
 * Rows kept readable this long past their end: oidc-provider checks the payload's own `exp`, so a
 * CIBA poll of an expired request gets expired_token (CIBA §11) rather than "not found".
 */
const graceSeconds: Record<string, number> = { BackchannelAuthenticationRequest: 3600 };

/** The error a client sees when it presents a one-time artefact twice (400, never 500). */
function reuseError(model: string, reason: 'already consumed' | 'not found'): Error {
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${labels[model] ?? model} ${reason}`);
}

function toPayload(row: PayloadRow | undefined, now: number): AdapterPayload | undefined {
  if (!row || (row.expires_at !== null && row.expires_at <= now)) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  // oidc-provider reads consumption from the payload, in epoch seconds.
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  return payload;
}

/** Deletes the grant's tokens and codes, and (unlike revokeByGrantId) the Grant itself. */
async function revokeGrant(db: Db, grantId: string): Promise<void> {
  await db(table)
    .where((q) => { q.where('grant_id', grantId).whereIn('type', [...grantable]); })
    .orWhere((q) => { q.where({ type: 'Grant', id: grantId }); })
    .delete();
}

/** The `code` of the error a ReplayDetection save throws when the id is already stored. */
export const replayDetectedCode = 'replay_detected';

/**
 * Stores a ReplayDetection row unless an unexpired one has the id, in one statement (INSERT … ON
 * CONFLICT DO UPDATE … WHERE expired RETURNING): of concurrent saves of one id, on any instance,
 * exactly one gets a row back. The others throw `replay_detected`.
 */
async function insertOnce(db: Db, row: PayloadRow, now: number): Promise<void> {
  const stored = await db(table).insert(row).onConflict(['type', 'id'])
    .merge(['payload', 'expires_at', 'consumed_at']).where(`${table}.expires_at`, '<=', now)
    .returning('id');
  if (stored.length === 0) {
    throw Object.assign(new Error('replay detected'), { code: replayDetectedCode });
  }
}

function createPayloadAdapter(db: Db, model: string, clock: () => number): Adapter {
  const byColumn = async (column: 'id' | 'user_code' | 'uid', value: string) =>
    toPayload(await db<PayloadRow>(table).where({ type: model, [column]: value }).first(), clock());

  return {
    async upsert(id, payload, expiresIn) {
      const now = clock();
      const row: PayloadRow = {
        type: model,
        id,
        payload: JSON.stringify(payload),
        grant_id: grantable.has(model) ? payload.grantId ?? null : null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: typeof expiresIn === 'number' ? now + (expiresIn + (graceSeconds[model] ?? 0)) * 1000 : null,
        consumed_at: typeof payload.consumed === 'number' ? payload.consumed * 1000 : null,
      };
      // ReplayDetection.unique reads, then saves: only an insert that fails on a stored id makes
      // that check-and-set atomic (RFC 7523 §3 item 7, RFC 9449 §11.1).
      if (model === 'ReplayDetection') return insertOnce(db, row, now);
      // consumed_at is left out of the merge: a re-save must never make a used code usable again.
      await db(table).insert(row).onConflict(['type', 'id'])
        .merge(['payload', 'grant_id', 'user_code', 'uid', 'expires_at']);
    },
    // ReplayDetection.unique finds, then saves: the save alone decides (insertOnce), so its find
    // reads nothing (two statements fewer per token request: the client assertion and the DPoP proof).
    find: model === 'ReplayDetection' ? async () => undefined : (id) => byColumn('id', id),
    findByUserCode: (userCode) => byColumn('user_code', userCode),
    findByUid: (uid) => byColumn('uid', uid),
    async consume(id) {
      const updated = await db(table).where({ type: model, id }).whereNull('consumed_at')
        .update({ consumed_at: clock() });
      if (updated === 1) return;
      const row = await db<PayloadRow>(table).where({ type: model, id }).first();
      if (!row) throw reuseError(model, 'not found');
      // Two exchanges of one code: the loser revokes what the grant issued (RFC 6749 §4.1.2; RFC
      // 9700 says the same of refresh token reuse) and gets invalid_grant.
      if (row.grant_id) await revokeGrant(db, row.grant_id);
      throw reuseError(model, 'already consumed');
    },
    async destroy(id) {
      await db(table).where({ type: model, id }).delete();
    },
    async revokeByGrantId(grantId) {
      await db(table).where('grant_id', grantId).delete();
    },
  };
}

/** Agencies live in `clients`; the provider only reads them (and writes through if registration is on). */
function createClientAdapter(db: Db): Adapter {
  return {
    upsert: async (id, payload) => { await upsertClient(db, { ...payload, client_id: id } as AgencyMetadata); },
    find: (id) => findClient(db, id),
    findByUserCode: async () => undefined,
    findByUid: async () => undefined,
    consume: async () => undefined,
    destroy: async (id) => { await removeClient(db, id); },
    revokeByGrantId: async () => undefined,
  };
}

/**
 * The `adapter` option for oidc-provider: `new Adapter(modelName)`. `find*` hide expired rows and
 * report consumption as `consumed` (epoch seconds); `consume` is one conditional UPDATE, and a
 * second consumption revokes the grant and throws invalid_grant.
 */
export function createAdapterFactory(db: Db, clock: () => number = Date.now): AdapterConstructor {
  return class SqlAdapter implements Adapter {
    readonly #inner: Adapter;

    constructor(readonly name: string) {
      this.#inner = name === 'Client' ? createClientAdapter(db) : createPayloadAdapter(db, name, clock);
    }

    upsert(id: string, payload: AdapterPayload, expiresIn?: number) { return this.#inner.upsert(id, payload, expiresIn); }
    find(id: string) { return this.#inner.find(id); }
    findByUserCode(userCode: string) { return this.#inner.findByUserCode(userCode); }
    findByUid(uid: string) { return this.#inner.findByUid(uid); }
    consume(id: string) { return this.#inner.consume(id); }
    destroy(id: string) { return this.#inner.destroy(id); }
    revokeByGrantId(grantId: string) { return this.#inner.revokeByGrantId(grantId); }
  };
}

/**
 * Deletes expired provider state; returns how many rows went. Rows without expiry stay, and so do
 * expired sessions: takeExpiredSessions ends those (their agencies get logout tokens).
 */
export async function pruneExpired(db: Db, now: number = Date.now()): Promise<number> {
  return db(table).where('expires_at', '<=', now).whereNot('type', 'Session').delete();
}

/** What an expired session held: the citizen and, per agency, the session id it was given. */
export type ExpiredSession = { id: string; accountId?: string; authorizations: Record<string, { sid?: string }> };

/**
 * Deletes up to `limit` expired sessions and returns them, in one DELETE … RETURNING: of several
 * instances sweeping at once, each session is returned to exactly one.
 */
export async function takeExpiredSessions(db: Db, now: number = Date.now(), limit = 500): Promise<ExpiredSession[]> {
  // knex compiles no RETURNING for a delete on SQLite; both databases run this one (SQLite ≥ 3.35).
  const result = await db.raw(
    `delete from ?? where type = 'Session' and expires_at <= ?
       and id in (select id from ?? where type = 'Session' and expires_at <= ? limit ?)
     returning id, payload`,
    [table, now, table, now, limit],
  ) as Array<Pick<PayloadRow, 'id' | 'payload'>> | { rows: Array<Pick<PayloadRow, 'id' | 'payload'>> };
  const rows = Array.isArray(result) ? result : result.rows;
  return rows.map((row) => {
    const payload = JSON.parse(row.payload) as { accountId?: string; authorizations?: ExpiredSession['authorizations'] };
    return { id: row.id, accountId: payload.accountId, authorizations: payload.authorizations ?? {} };
  });
}

/** Grant ids of the citizen's grants for one agency (every agency when clientId is undefined). */
async function citizenGrantIds(db: Db, citizenId: string, clientId?: string): Promise<string[]> {
  // Payloads are JSON text on both databases: narrowed by LIKE, then checked parsed.
  const rows = await db<PayloadRow>(table).where({ type: 'Grant' }).where('payload', 'like', `%${JSON.stringify(citizenId)}%`).select('id', 'payload');
  return rows.filter((r) => {
    const p = JSON.parse(r.payload) as { accountId?: string; clientId?: string };
    return p.accountId === citizenId && (clientId === undefined || p.clientId === clientId);
  }).map((r) => r.id);
}

/**
 * Revokes what a citizen granted an agency: her Grants for it and every token and code issued
 * under them (the agency's next request for her asks for consent again). Returns the counts.
 */
export async function revokeCitizenGrants(db: Db, citizenId: string, clientId: string): Promise<{ grants: number; tokens: number }> {
  const ids = await citizenGrantIds(db, citizenId, clientId);
  if (!ids.length) return { grants: 0, tokens: 0 };
  return db.transaction(async (trx) => {
    const tokens = await trx(table).whereIn('grant_id', ids).whereIn('type', [...grantable]).delete();
    const grants = await trx(table).where({ type: 'Grant' }).whereIn('id', ids).delete();
    return { grants, tokens };
  });
}

/** Ends the citizen's provider sessions (every browser she, or someone as her, signed in with). */
export async function endCitizenSessions(db: Db, citizenId: string): Promise<number> {
  const rows = await db<PayloadRow>(table).where({ type: 'Session' }).where('payload', 'like', `%${JSON.stringify(citizenId)}%`).select('id', 'payload');
  const ids = rows.filter((r) => (JSON.parse(r.payload) as { accountId?: string }).accountId === citizenId).map((r) => r.id);
  return ids.length ? db(table).where({ type: 'Session' }).whereIn('id', ids).delete() : 0;
}
