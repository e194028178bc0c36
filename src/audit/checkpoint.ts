// Checkpoints of the audit chain (finding 17): a signed statement of the head (sequence number,
// hash, MAC, the unanchored prefix, times) as a compact JWS under the gateway's active ES256 signing
// key, one JSON line each, for an operator to ship to a store outside the database. `audit verify
// --checkpoints FILE` checks the chain still holds every one: a cut tail (`truncated`), a rewrite
// up to it (`diverged`, MACs stripped included). Anyone with the published JWKS can check the
// signature; this module checks it against the sealed keys (opened with the data key), never the
// database's plain public_jwk. Imports jose and the audit types only.
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { ChainBreak } from './chain.ts';
import type { ExpectedHead, VerifyResult } from './query.ts';

export const checkpointType = 'facegate-audit-checkpoint+jws';

/** The signed statement (the JWS payload). */
export type CheckpointStatement = {
  iss: string;
  /** Id of the head row, its hash, its MAC and the key id of the MAC (null on an unanchored row). */
  seq: number;
  hash: string;
  mac: string | null;
  mac_key_id: string | null;
  /** Rows 1..unanchored carry no MAC (written before migration 0005). */
  unanchored: number;
  /** The head row's time, epoch ms. */
  at: number;
  /** When the checkpoint was signed, epoch seconds. */
  iat: number;
};

/** One line of a checkpoints file: the statement readable, and the JWS that alone counts. */
export type CheckpointLine = { seq: number; hash: string; mac: string | null; unanchored: number; at: string; time: string; kid: string; jws: string };

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const publicPart = (jwk: JWK): JWK => {
  const out: JWK = { ...jwk };
  for (const m of privateMembers) delete out[m];
  return out;
};

/** The statement of a verified chain's head (verifyChain's result), or undefined for an empty chain. */
export function headStatement(r: VerifyResult, head: { at: number; mac: string | null; mac_key_id: string | null }, iss: string, now = Date.now()): CheckpointStatement | undefined {
  if (!r.ok || !r.head) return undefined;
  return { iss, seq: r.head.id, hash: r.head.hash, mac: head.mac, mac_key_id: head.mac_key_id, unanchored: r.unanchored, at: head.at, iat: Math.floor(now / 1000) };
}

/** Signs a statement with the first ES256 key of `keys` (loadSigningJwks: active first). */
export async function signCheckpoint(statement: CheckpointStatement, keys: JWK[]): Promise<CheckpointLine> {
  const jwk = keys.find((k) => k.alg === 'ES256' && k.d);
  if (!jwk?.kid) throw new Error('no ES256 signing key');
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(statement)))
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: checkpointType })
    .sign(await importJWK(jwk, 'ES256'));
  return {
    seq: statement.seq, hash: statement.hash, mac: statement.mac, unanchored: statement.unanchored,
    at: new Date(statement.at).toISOString(), time: new Date(statement.iat * 1000).toISOString(), kid: jwk.kid, jws,
  };
}

/** The JWS of each non-empty line (a CheckpointLine, or a bare compact JWS), with its source; throws on a line that is neither. */
export function parseCheckpointLines(text: string, file: string): { source: string; jws: string }[] {
  const out: { source: string; jws: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let jws: unknown = line;
    if (line.startsWith('{')) {
      try { jws = (JSON.parse(line) as { jws?: unknown }).jws; } catch { jws = undefined; }
    }
    if (typeof jws !== 'string' || jws.split('.').length !== 3) throw new Error(`${file}:${i + 1}: not a checkpoint (a JSON line with "jws", or a compact JWS)`);
    out.push({ source: `checkpoint ${file}:${i + 1}`, jws });
  });
  return out;
}

/**
 * Checks each checkpoint's signature against the gateway's signing keys (any status: a checkpoint
 * outlives a rotation) and returns the heads it states, or the first that does not verify.
 */
export async function checkpointHeads(lines: { source: string; jws: string }[], keys: JWK[]): Promise<{ heads: ExpectedHead[]; invalid?: ChainBreak }> {
  const heads: ExpectedHead[] = [];
  for (const { source, jws } of lines) {
    const invalid = (why: string): { heads: ExpectedHead[]; invalid: ChainBreak } => ({ heads, invalid: { id: 0, reason: 'checkpoint_invalid', message: `${source}: ${why}` } });
    let kid: string | undefined;
    let typ: string | undefined;
    try { ({ kid, typ } = decodeProtectedHeader(jws)); } catch { return invalid('not a JWS'); }
    if (typ !== checkpointType) return invalid(`not an audit checkpoint (typ ${typ ?? 'none'})`);
    const jwk = keys.find((k) => k.kid === kid);
    if (!jwk) return invalid(`signed by key ${kid ?? 'none'}, which is not among the gateway's signing keys`);
    let statement: CheckpointStatement;
    try {
      const { payload } = await compactVerify(jws, await importJWK(publicPart(jwk), jwk.alg), { algorithms: ['ES256', 'PS256'] });
      statement = JSON.parse(new TextDecoder().decode(payload)) as CheckpointStatement;
    } catch {
      return invalid(`its signature does not verify under key ${kid}: the statement was changed after signing`);
    }
    if (!Number.isInteger(statement.seq) || statement.seq < 1 || !/^[0-9a-f]{64}$/.test(String(statement.hash))) return invalid('its statement has no valid seq and hash');
    heads.push({ source, seq: statement.seq, hash: statement.hash, mac: statement.mac ?? null });
  }
  return { heads };
}
