// The audit trail's hash chain: the canonical form of a row and its hash. Each row's hash covers
// the previous row's hash and the row's own fields, id included. Imports node:crypto only.
import { createHash } from 'node:crypto';

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

/** Why a row breaks the chain, or undefined when it extends `previous` correctly. */
export type ChainBreak = { id: number; reason: 'gap' | 'prev_hash_mismatch' | 'hash_mismatch'; message: string };

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
