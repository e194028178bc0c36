// The audit trail's hash chain: the canonical form of a row and its hash. Each row's hash covers
// the previous row's hash and the row's own fields, id included. Each row's MAC (migration 0005)
// is an HMAC of its hash under an audit key from configuration, never from the database: whoever
// holds the database but not the key cannot re-chain rows or append one. Imports node:crypto only.
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The `audit_events` table as stored (migration 0002 added ip, user_agent, prev_hash, hash). */
export interface AuditRow {
  id: number;
  at: number;
  type: string;
  outcome: string;
  code: string | null;
  interaction_uid: string | null;
  client_id: string | null;
  citizen_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON text, hashed exactly as stored. */
  details: string | null;
  prev_hash: string;
  hash: string;
  /** HMAC-SHA256 of the hash under the audit key `mac_key_id` (rowMac); null on rows written before migration 0005. */
  mac?: string | null;
  mac_key_id?: string | null;
}

/** The previous hash of the first row. */
export const genesisHash = '0'.repeat(64);

/** The hashed fields of a row, in a fixed order, as one JSON array (no key-order ambiguity). */
export function canonicalRow(row: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  return JSON.stringify([
    'facegate-audit-v1', Number(row.id), Number(row.at), row.type, row.outcome, row.code ?? null, row.interaction_uid ?? null,
    row.client_id ?? null, row.citizen_id ?? null, row.ip ?? null, row.user_agent ?? null, row.details ?? null,
  ]);
}

/** sha256(prev_hash "\n" canonical row), hex. */
export function rowHash(prevHash: string, row: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalRow(row)).digest('hex');
}

/** The audit keys as configured (secrets.auditKeys, secrets.auditKeyId): base64, 32 bytes or more. */
export type AuditSecrets = { auditKeys: Readonly<Record<string, string>>; auditKeyId: string };

/** The audit keys, decoded: `keyId` MACs new rows, every key in `keys` verifies. */
export type AuditKeyring = { keyId: string; keys: ReadonlyMap<string, KeyObject> };

const keyrings = new WeakMap<AuditSecrets, AuditKeyring>();

/** Decodes (once per secrets object) the configured audit keys. */
export function auditKeyring(secrets: AuditSecrets): AuditKeyring {
  let ring = keyrings.get(secrets);
  if (!ring) {
    ring = { keyId: secrets.auditKeyId, keys: new Map(Object.entries(secrets.auditKeys).map(([id, k]) => [id, createSecretKey(Buffer.from(k, 'base64'))])) };
    keyrings.set(secrets, ring);
  }
  return ring;
}

/** HMAC-SHA256(key, "facegate-audit-mac-v1\n" key id "\n" hash), hex: binds the row, and through its hash every row before it. */
export function rowMac(key: KeyObject, keyId: string, hash: string): string {
  return createHmac('sha256', key).update(`facegate-audit-mac-v1\n${keyId}\n${hash}`).digest('hex');
}

/** Why a row breaks the chain, or undefined when it extends `previous` correctly. */
export type ChainBreak = {
  id: number;
  reason:
    | 'gap' | 'prev_hash_mismatch' | 'hash_mismatch'
    // the MAC (checkMac)
    | 'mac_missing' | 'mac_mismatch' | 'mac_key_unknown'
    // a head kept outside (query.ts verifyChain's `heads`)
    | 'head_missing' | 'truncated' | 'diverged' | 'checkpoint_invalid';
  message: string;
};

export function checkLink(previous: Pick<AuditRow, 'id' | 'hash'> | undefined, row: AuditRow): ChainBreak | undefined {
  const expectedId = previous ? Number(previous.id) + 1 : 1;
  if (Number(row.id) !== expectedId) {
    const missing = Number(row.id) > expectedId ? `rows ${expectedId}..${Number(row.id) - 1} are missing` : `id ${row.id} is out of sequence`;
    return { id: Number(row.id), reason: 'gap', message: `row ${row.id} follows ${previous ? `row ${previous.id}` : 'the start'}: ${missing}` };
  }
  const expectedPrev = previous?.hash ?? genesisHash;
  if (row.prev_hash !== expectedPrev) {
    return { id: Number(row.id), reason: 'prev_hash_mismatch', message: `row ${row.id} does not carry the hash of ${previous ? `row ${previous.id}` : 'the genesis'}` };
  }
  if (rowHash(row.prev_hash, row) !== row.hash) {
    return { id: Number(row.id), reason: 'hash_mismatch', message: `row ${row.id} was altered: its content no longer matches its hash` };
  }
  return undefined;
}

/**
 * Whether the row's MAC is right. A row without one is accepted only before the first row that has
 * one (`anchored`: a MAC was seen): rows written before migration 0005 are the unanchored prefix,
 * and the first MAC after them covers them through its hash.
 */
export function checkMac(row: AuditRow, keyring: AuditKeyring, anchored: boolean): ChainBreak | undefined {
  const id = Number(row.id);
  if (row.mac == null) {
    return anchored ? { id, reason: 'mac_missing', message: `row ${id} carries no MAC though rows before it do: written or rewritten without the audit key` } : undefined;
  }
  const keyId = row.mac_key_id ?? '';
  const key = keyring.keys.get(keyId);
  if (!key) return { id, reason: 'mac_key_unknown', message: `row ${id} is MACed under audit key "${keyId}", which is not in secrets.auditKeys` };
  const expected = Buffer.from(rowMac(key, keyId, row.hash), 'hex');
  const actual = Buffer.from(row.mac, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { id, reason: 'mac_mismatch', message: `row ${id}'s MAC does not match under audit key "${keyId}": the row, or a row before it, was rewritten and re-chained without the key` };
  }
  return undefined;
}
