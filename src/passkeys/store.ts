// A citizen's passkeys (table `passkeys`, migration 0011): listed and removed by her space
// (src/account/) and by operators (`facegate devices …`), added and used by the sign-in's passkey
// step (service.ts). The id of a passkey is its WebAuthn credential id (base64url). Imports db and
// audit types only.
import type { Audit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';

/** hwk: a device-bound key (RFC 8176 "proof-of-possession of a hardware-secured key"); swk: a synced passkey. */
export type PasskeyKind = 'hwk' | 'swk';
export type Passkey = { id: string; citizenId: string; label: string; kind: PasskeyKind; createdAt: number; lastUsedAt: number | null };

/** What verifying an assertion needs of a stored passkey. */
export type StoredCredential = Passkey & {
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  aaguid: string | null;
};

type Row = {
  id: string; citizen_id: string; public_key: string; counter: number | string; transports: string; device_type: string;
  backed_up: boolean | number; kind: string; aaguid: string | null; label: string; created_at: number | string; last_used_at: number | string | null;
};

const toPasskey = (r: Row): Passkey => ({
  id: r.id, citizenId: r.citizen_id, label: r.label, kind: r.kind === 'hwk' ? 'hwk' : 'swk',
  createdAt: Number(r.created_at), lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

const toCredential = (r: Row): StoredCredential => ({
  ...toPasskey(r),
  publicKey: new Uint8Array(Buffer.from(r.public_key, 'base64url')),
  counter: Number(r.counter),
  transports: JSON.parse(r.transports) as string[],
  deviceType: r.device_type === 'singleDevice' ? 'singleDevice' : 'multiDevice',
  backedUp: Boolean(r.backed_up),
  aaguid: r.aaguid,
});

/**
 * RFC 8176 value of a credential: a backup-ineligible ("singleDevice") credential never leaves the
 * authenticator it was made on: hwk. A backup-eligible ("multiDevice", synced) passkey may be
 * copied to her other devices through a sync provider: swk.
 */
export const kindOf = (deviceType: 'singleDevice' | 'multiDevice'): PasskeyKind => (deviceType === 'singleDevice' ? 'hwk' : 'swk');

/** Her passkeys, oldest first. */
export async function listPasskeys(db: Db, citizenId: string): Promise<Passkey[]> {
  const rows = await db<Row>('passkeys').where({ citizen_id: citizenId }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
  return rows.map(toPasskey);
}

/** Her passkeys with what verification needs. */
export async function credentialsOf(db: Db, citizenId: string): Promise<StoredCredential[]> {
  const rows = await db<Row>('passkeys').where({ citizen_id: citizenId }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
  return rows.map(toCredential);
}

/** One passkey by its credential id (any citizen's). */
export async function findCredential(db: Db, id: string): Promise<StoredCredential | undefined> {
  const row = await db<Row>('passkeys').where({ id }).first();
  return row ? toCredential(row) : undefined;
}

export type NewPasskey = Omit<StoredCredential, 'kind' | 'lastUsedAt'>;

/** Stores a newly registered passkey; false when that credential id is already stored. */
export async function insertPasskey(db: Db, p: NewPasskey): Promise<boolean> {
  const inserted = await db('passkeys').insert({
    id: p.id, citizen_id: p.citizenId, public_key: Buffer.from(p.publicKey).toString('base64url'), counter: p.counter,
    transports: JSON.stringify(p.transports), device_type: p.deviceType, backed_up: p.backedUp, kind: kindOf(p.deviceType),
    aaguid: p.aaguid, label: p.label, created_at: p.createdAt, last_used_at: null,
  }).onConflict('id').ignore();
  // better-sqlite3 answers [rowid] (0 when ignored); pg answers a result whose rowCount is 0 then.
  const result = inserted as unknown as { rowCount?: number } | number[];
  return Array.isArray(result) ? result.length > 0 && result[0] !== 0 : (result.rowCount ?? 0) > 0;
}

/**
 * Records a verified use: the new counter and the time. The counter only moves forward (compare and
 * set on the old value), so two instances verifying the same assertion cannot both record it.
 */
export async function recordUse(db: Db, p: { id: string; oldCounter: number; newCounter: number; backedUp: boolean; at: number }): Promise<boolean> {
  const n = await db('passkeys').where({ id: p.id, counter: p.oldCounter }).update({ counter: p.newCounter, backed_up: p.backedUp, last_used_at: p.at });
  return n === 1;
}

/** Removes one of her passkeys; audited (passkey.removed, actor citizen|operator); false when not hers / unknown. */
export async function removePasskey(
  db: Db, audit: Audit,
  input: { citizenId: string; id: string; actor: 'citizen' | 'operator'; requester?: { ip?: string; userAgent?: string } },
): Promise<boolean> {
  const row = await db<Row>('passkeys').where({ id: input.id, citizen_id: input.citizenId }).first();
  if (!row) return false;
  const n = await db('passkeys').where({ id: input.id, citizen_id: input.citizenId }).delete();
  if (n !== 1) return false;
  await audit({
    type: 'passkey.removed', outcome: 'success', citizenId: input.citizenId, ip: input.requester?.ip, userAgent: input.requester?.userAgent,
    details: { actor: input.actor, credential: shortId(input.id), kind: row.kind },
  });
  return true;
}

/** A credential id as audit rows and logs name it: its first 16 characters (enough to tell hers apart). */
export const shortId = (id: string): string => id.slice(0, 16);
