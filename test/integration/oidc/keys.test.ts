// The provider's signing keys (src/oidc/keys.ts) on a real database: creation, sealing, order and
// two-step rotation. Runs on SQLite and, with `npm run test:postgres`, on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { ensureSigningKeys, loadSigningJwks, rotateSigningKeys, type KeyStatus } from '../../../src/oidc/keys.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const t0 = 1_700_000_000_000;
const sealer = createSealer({ k1: randomBytes(32).toString('base64') }, 'k1');
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

type Row = { kid: string; alg: string; status: KeyStatus; public_jwk: string; key_id: string; iv: string; tag: string; ciphertext: string; created_at: number; activated_at: number | null; retired_at: number | null };
const rowsOf = async (tdb: TestDatabase): Promise<Row[]> => tdb.db<Row>('signing_keys').select();
const kids = (rows: Row[], status: KeyStatus, alg?: string) => rows.filter((r) => r.status === status && (!alg || r.alg === alg)).map((r) => r.kid).sort();
const bySlot = (rows: Row[]) => rows.map((r) => `${r.alg} ${r.status}`).sort();

describe('ensureSigningKeys', () => {
  let tdb: TestDatabase;
  let created: string[];
  let rows: Row[];
  let jwks: JWK[];

  beforeAll(async () => {
    tdb = await openTestDatabase();
    created = await ensureSigningKeys(tdb.db, sealer, t0);
    rows = await rowsOf(tdb);
    jwks = (await loadSigningJwks(tdb.db, sealer)).keys;
  });

  afterAll(async () => {
    await tdb.close();
  });

  it('creates an active and a next key for PS256 and ES256 on an empty table', () => {
    expect(created).toHaveLength(4);
    expect(bySlot(rows)).toEqual(['ES256 active', 'ES256 next', 'PS256 active', 'PS256 next']);
  });

  it('stamps activated_at on the active keys only', () => {
    for (const r of rows) expect(r).toMatchObject({ created_at: t0, activated_at: r.status === 'active' ? t0 : null, retired_at: null });
  });

  it('is idempotent: a second run creates nothing', async () => {
    expect(await ensureSigningKeys(tdb.db, sealer, t0 + 1_000)).toEqual([]);
    expect((await rowsOf(tdb)).map((r) => r.kid).sort()).toEqual(rows.map((r) => r.kid).sort());
  });

  it('stores no private member in the public_jwk column', () => {
    for (const r of rows) {
      const pub = JSON.parse(r.public_jwk) as Record<string, unknown>;
      expect(privateMembers.filter((m) => m in pub)).toEqual([]);
    }
  });

  it('does not store the private key d in clear in any column', () => {
    for (const jwk of jwks) {
      const row = rows.find((r) => r.kid === jwk.kid)!;
      expect(typeof jwk.d).toBe('string');
      expect(row.ciphertext).not.toContain(jwk.d);
      expect(Buffer.from(row.ciphertext, 'base64').toString('latin1')).not.toContain(jwk.d);
      expect(JSON.stringify(row)).not.toContain(jwk.d);
    }
  });

  it('seals the private keys under the active data key', () => {
    expect(new Set(rows.map((r) => r.key_id))).toEqual(new Set(['k1']));
  });

  it('publishes in public_jwk the public half of the sealed key', () => {
    for (const jwk of jwks) {
      const row = rows.find((r) => r.kid === jwk.kid)!;
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
      expect(JSON.parse(row.public_jwk)).toEqual(pub);
    }
  });

  it('makes PS256 an RSA key of at least 2048 bits and ES256 a P-256 key', () => {
    const rsa = jwks.filter((k) => k.alg === 'PS256');
    const ec = jwks.filter((k) => k.alg === 'ES256');
    expect(rsa).toHaveLength(2);
    for (const k of rsa) {
      expect(k.kty).toBe('RSA');
      expect(Buffer.from(k.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
    }
    for (const k of ec) expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig' });
  });

  it('loadSigningJwks returns the active keys first', () => {
    expect(jwks.slice(0, 2).map((k) => k.kid).sort()).toEqual(kids(rows, 'active'));
    expect(jwks.slice(2).map((k) => k.kid).sort()).toEqual(kids(rows, 'next'));
  });
});

describe('ensureSigningKeys on two instances starting at once', () => {
  let tdb: TestDatabase;

  beforeAll(async () => {
    tdb = await openTestDatabase();
  });

  afterAll(async () => {
    await tdb.close();
  });

  // Two instances starting at once: the partial unique index on (alg, status) keeps one of each.
  it('leaves exactly one active and one next key per algorithm', async () => {
    await Promise.all([ensureSigningKeys(tdb.db, sealer, t0), ensureSigningKeys(tdb.db, sealer, t0)]);
    expect(bySlot(await rowsOf(tdb))).toEqual(['ES256 active', 'ES256 next', 'PS256 active', 'PS256 next']);
  });
});

describe('rotateSigningKeys', () => {
  let tdb: TestDatabase;
  let before: Row[];
  let first: Awaited<ReturnType<typeof rotateSigningKeys>>;
  let afterFirst: Row[];
  let jwksAfterFirst: JWK[];
  let second: Awaited<ReturnType<typeof rotateSigningKeys>>;
  let afterSecond: Row[];
  let jwksAfterSecond: JWK[];

  beforeAll(async () => {
    tdb = await openTestDatabase();
    await ensureSigningKeys(tdb.db, sealer, t0);
    before = await rowsOf(tdb);
    first = await rotateSigningKeys(tdb.db, sealer, t0 + 1_000);
    afterFirst = await rowsOf(tdb);
    jwksAfterFirst = (await loadSigningJwks(tdb.db, sealer)).keys;
    second = await rotateSigningKeys(tdb.db, sealer, t0 + 2_000);
    afterSecond = await rowsOf(tdb);
    jwksAfterSecond = (await loadSigningJwks(tdb.db, sealer)).keys;
  });

  afterAll(async () => {
    await tdb.close();
  });

  it('promotes the next keys to active', () => {
    expect([...first.promoted].sort()).toEqual(kids(before, 'next'));
    expect(kids(afterFirst, 'active')).toEqual(kids(before, 'next'));
  });

  it('retires the previously active keys', () => {
    expect([...first.retired].sort()).toEqual(kids(before, 'active'));
    expect(kids(afterFirst, 'retired')).toEqual(kids(before, 'active'));
  });

  it('stages one new next key per algorithm', () => {
    expect(first.staged).toHaveLength(2);
    expect(kids(afterFirst, 'next')).toEqual([...first.staged].sort());
    expect(afterFirst.filter((r) => r.status === 'next').map((r) => r.alg).sort()).toEqual(['ES256', 'PS256']);
    for (const kid of first.staged) expect(before.map((r) => r.kid)).not.toContain(kid);
  });

  it('stamps activated_at on the promoted keys and retired_at on the retired ones', () => {
    for (const r of afterFirst.filter((x) => first.promoted.includes(x.kid))) expect(r.activated_at).toBe(t0 + 1_000);
    for (const r of afterFirst.filter((x) => first.retired.includes(x.kid))) expect(r.retired_at).toBe(t0 + 1_000);
  });

  it('still publishes the retired keys, after the active and next ones', () => {
    const order = jwksAfterFirst.map((k) => afterFirst.find((r) => r.kid === k.kid)!.status);
    expect(order).toEqual(['active', 'active', 'next', 'next', 'retired', 'retired']);
  });

  it('keeps every retired key across two rotations', () => {
    expect(kids(afterSecond, 'retired')).toEqual([...first.retired, ...second.retired].sort());
    expect(afterSecond).toHaveLength(8);
    for (const kid of [...first.retired, ...second.retired]) expect(jwksAfterSecond.map((k) => k.kid)).toContain(kid);
  });

  it('promotes on the second rotation the keys staged by the first', () => {
    expect([...second.promoted].sort()).toEqual([...first.staged].sort());
    expect([...second.retired].sort()).toEqual([...first.promoted].sort());
  });

  it('keeps one active and one next key per algorithm', () => {
    expect(bySlot(afterSecond.filter((r) => r.status !== 'retired'))).toEqual(['ES256 active', 'ES256 next', 'PS256 active', 'PS256 next']);
  });
});
