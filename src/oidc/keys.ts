// The provider's signing keys: generated on first start, stored sealed in `signing_keys`, rotated
// in two steps (a new key is published as `next` one rotation before it signs). Imports jose and db.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/knex.ts';
import type { Sealer } from '../shared/sealed.ts';

/** ID tokens are signed with these only (FAPI 2.0: PS256 or ES256; never RS256, HS256 or none). */
export const signingAlgs = ['PS256', 'ES256'] as const;
export type SigningAlg = (typeof signingAlgs)[number];
export type KeyStatus = 'active' | 'next' | 'retired';

type SigningKeyRow = {
  kid: string; alg: string; status: KeyStatus; public_jwk: string;
  key_id: string; iv: string; tag: string; ciphertext: string;
  created_at: number; activated_at: number | null; retired_at: number | null;
};

export type SigningKeyInfo = { kid: string; alg: string; status: KeyStatus; createdAt: number; activatedAt: number | null; retiredAt: number | null };

const order: Record<KeyStatus, number> = { active: 0, next: 1, retired: 2 };

async function newKey(alg: SigningAlg, status: KeyStatus, sealer: Sealer, now: number): Promise<SigningKeyRow> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 3072 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const full: JWK = { ...jwk, kid, alg, use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = full;
  const sealed = sealer.seal(Buffer.from(JSON.stringify(full)), `signing-key:${kid}`);
  return {
    kid, alg, status, public_jwk: JSON.stringify(pub),
    key_id: sealed.keyId, iv: sealed.iv, tag: sealed.tag, ciphertext: sealed.ciphertext,
    created_at: now, activated_at: status === 'active' ? now : null, retired_at: null,
  };
}

/**
 * Makes sure every algorithm has an active and a staged (`next`) key; returns what it created.
 * Runs at every start; idempotent. Two instances starting at once race on the insert; the partial
 * unique index on (alg, status) keeps the first and the other's insert is ignored.
 */
export async function ensureSigningKeys(db: Db, sealer: Sealer, now = Date.now()): Promise<string[]> {
  const created: string[] = [];
  const rows = await db<SigningKeyRow>('signing_keys').whereIn('status', ['active', 'next']);
  for (const alg of signingAlgs) {
    for (const status of ['active', 'next'] as const) {
      if (rows.some((r) => r.alg === alg && r.status === status)) continue;
      const row = await newKey(alg, status, sealer, now);
      // Another instance may have won the race: the unique index keeps one, this insert is dropped.
      await db('signing_keys').insert(row).onConflict().ignore();
      if (await db('signing_keys').where({ kid: row.kid }).first()) created.push(`${alg} ${status} ${row.kid}`);
    }
  }
  return created;
}

/**
 * One rotation step: the staged keys become active, the active ones are retired (still published,
 * so tokens they signed keep verifying), and new keys are staged. Running instances pick the new
 * keys up at their next start (rolling restart).
 */
export async function rotateSigningKeys(db: Db, sealer: Sealer, now = Date.now()): Promise<{ promoted: string[]; staged: string[]; retired: string[] }> {
  return db.transaction(async (trx) => {
    const staged = await Promise.all(signingAlgs.map((alg) => newKey(alg, 'next', sealer, now)));
    const rows = await trx<SigningKeyRow>('signing_keys').whereIn('status', ['active', 'next']);
    const promoted = rows.filter((r) => r.status === 'next');
    const retired = rows.filter((r) => r.status === 'active' && promoted.some((p) => p.alg === r.alg));
    for (const r of retired) await trx('signing_keys').where({ kid: r.kid }).update({ status: 'retired', retired_at: now });
    for (const r of promoted) await trx('signing_keys').where({ kid: r.kid }).update({ status: 'active', activated_at: now });
    await trx('signing_keys').insert(staged);
    return { promoted: promoted.map((r) => r.kid), staged: staged.map((r) => r.kid), retired: retired.map((r) => r.kid) };
  });
}

/** Every published key, active first (oidc-provider signs with the first key of an algorithm). */
export async function loadSigningJwks(db: Db, sealer: Sealer): Promise<{ keys: JWK[] }> {
  const rows = await db<SigningKeyRow>('signing_keys').select();
  rows.sort((a, b) => order[a.status] - order[b.status] || b.created_at - a.created_at);
  const keys = rows.map((r) => JSON.parse(sealer.open({ keyId: r.key_id, iv: r.iv, tag: r.tag, ciphertext: r.ciphertext }, `signing-key:${r.kid}`).toString('utf8')) as JWK);
  return { keys };
}

/** The key list without private parts, for `facegate keys list`. */
export async function listSigningKeys(db: Db): Promise<SigningKeyInfo[]> {
  const rows = await db<SigningKeyRow>('signing_keys').select();
  rows.sort((a, b) => order[a.status] - order[b.status] || b.created_at - a.created_at);
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, status: r.status, createdAt: r.created_at, activatedAt: r.activated_at, retiredAt: r.retired_at }));
}
