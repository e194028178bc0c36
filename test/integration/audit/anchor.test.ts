// Finding 17: the audit chain anchored outside the database. Whoever holds the database but not the
// audit key (secrets.auditKeys) cannot re-chain rows after an edit or append a forged row; a cut
// tail is found against a head or checkpoint kept elsewhere. SQLite, or PostgreSQL in the second run.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { rowHash, type AuditRow } from '../../../src/audit/chain.ts';
import { createAudit, type AuditEvent } from '../../../src/audit/log.ts';
import { verifyChain } from '../../../src/audit/query.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTriggersOff } from './tamper.ts';

const event = (i: number): AuditEvent => ({
  type: i % 2 ? 'capture.decided' : 'oidc.grant.success', outcome: i % 3 ? 'success' : 'failure', clientId: 'tax-office',
  citizenId: `c-${i % 5}`, ip: '203.0.113.9', details: { score: i / 100, claims: ['sub'] },
});

let t: TestDatabase;
beforeAll(async () => { t = await openTestDatabase(); });
afterAll(() => t?.close());

async function fresh(n: number, audit = createAudit(t.db)): Promise<void> {
  await withTriggersOff(t.db, () => t.db('audit_events').del());
  for (let i = 0; i < n; i++) await audit(event(i));
}

const rows = async (): Promise<AuditRow[]> => t.db<AuditRow>('audit_events').orderBy('id');

/** What a database owner without the key does: edit row `id`, then recompute every hash after it. */
async function editAndRechain(id: number, edit: Partial<AuditRow>): Promise<void> {
  await withTriggersOff(t.db, async () => {
    let prev: string | undefined;
    for (const r of await rows()) {
      if (Number(r.id) < id) { prev = r.hash; continue; }
      const own = Number(r.id) === id ? edit : {};
      const hash = rowHash(prev!, { ...r, ...own });
      await t.db('audit_events').where({ id: r.id }).update({ ...own, prev_hash: prev, hash });
      prev = hash;
    }
  });
}

const key32 = () => randomBytes(32).toString('base64');

describe('the audit chain anchored by the audit key', () => {
  it('passes an untouched trail, every row anchored', async () => {
    await fresh(25);
    expect(await verifyChain(t.db, { batch: 7 })).toMatchObject({ ok: true, rows: 25, unanchored: 0, head: { id: 25 } });
    const row = (await rows())[0];
    expect(row.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(row.mac_key_id).toBe('dev');
  });

  it('(a) detects an edit after which every later row was re-chained', async () => {
    await fresh(30);
    await editAndRechain(12, { outcome: 'success', code: null, details: JSON.stringify({ score: 0.99, claims: ['sub'] }) });
    // The hash chain alone is consistent again: only the MAC, under a key the database does not hold, tells.
    expect(await verifyChain(t.db, { batch: 8 })).toMatchObject({ ok: false, rows: 11, broken: { id: 12, reason: 'mac_mismatch' } });
  });

  it('(b) detects an appended forged row that is correctly hash-chained', async () => {
    await fresh(10);
    const last = (await rows()).pop()!;
    const forged = { id: 11, at: Number(last.at) + 1, type: 'oidc.grant.success', outcome: 'success', code: null, interaction_uid: null, client_id: 'tax-office', citizen_id: 'c-1', ip: null, user_agent: null, details: '{}' };
    await t.db('audit_events').insert({ ...forged, prev_hash: last.hash, hash: rowHash(last.hash, forged) });
    expect(await verifyChain(t.db)).toMatchObject({ ok: false, rows: 10, broken: { id: 11, reason: 'mac_missing' } });
  });

  it('(b) detects an appended forged row with a made-up or copied MAC', async () => {
    await fresh(10);
    const last = (await rows()).pop()!;
    const forged = { id: 11, at: Number(last.at) + 1, type: 'keys.rotated', outcome: 'success', code: null, interaction_uid: null, client_id: null, citizen_id: null, ip: null, user_agent: null, details: null };
    await t.db('audit_events').insert({ ...forged, prev_hash: last.hash, hash: rowHash(last.hash, forged), mac: last.mac, mac_key_id: last.mac_key_id });
    expect(await verifyChain(t.db)).toMatchObject({ ok: false, rows: 10, broken: { id: 11, reason: 'mac_mismatch' } });
  });

  it('(c) detects a cut tail given the head kept outside, which the chain alone cannot', async () => {
    await fresh(20);
    const before = await verifyChain(t.db);
    const head = before.head!;
    const row20 = (await rows()).pop()!;
    await withTriggersOff(t.db, () => t.db('audit_events').where('id', '>', 15).del());
    expect(await verifyChain(t.db)).toMatchObject({ ok: true, rows: 15 });
    expect(await verifyChain(t.db, { heads: [{ source: '--head', hash: head.hash }] }))
      .toMatchObject({ ok: false, rows: 15, broken: { reason: 'head_missing' } });
    expect(await verifyChain(t.db, { heads: [{ source: 'cp.jsonl:1', seq: 20, hash: head.hash, mac: row20.mac }] }))
      .toMatchObject({ ok: false, rows: 15, broken: { id: 20, reason: 'truncated' } });
  });

  it('accepts heads the chain still holds, and names a checkpoint the chain diverges from', async () => {
    await fresh(12);
    const all = await rows();
    const r8 = all[7];
    expect(await verifyChain(t.db, { heads: [{ source: '--head', hash: r8.hash }, { source: 'cp:1', seq: 8, hash: r8.hash, mac: r8.mac }] }))
      .toMatchObject({ ok: true, rows: 12, heads: 2 });
    expect(await verifyChain(t.db, { heads: [{ source: 'cp:1', seq: 8, hash: 'f'.repeat(64), mac: r8.mac }] }))
      .toMatchObject({ ok: false, rows: 7, broken: { id: 8, reason: 'diverged' } });
  });

  it('detects MACs stripped from the whole trail against a checkpoint (they pin the head\'s MAC)', async () => {
    await fresh(10);
    const r10 = (await rows()).pop()!;
    await withTriggersOff(t.db, () => t.db('audit_events').update({ mac: null, mac_key_id: null }));
    const stripped = await verifyChain(t.db);
    expect(stripped).toMatchObject({ ok: true, rows: 10, unanchored: 10 });
    expect(await verifyChain(t.db, { heads: [{ source: 'cp:1', seq: 10, hash: r10.hash, mac: r10.mac }] }))
      .toMatchObject({ ok: false, broken: { id: 10, reason: 'diverged' } });
  });

  it('detects a row whose MAC was removed after anchored rows', async () => {
    await fresh(10);
    await withTriggersOff(t.db, () => t.db('audit_events').where({ id: 6 }).update({ mac: null, mac_key_id: null }));
    expect(await verifyChain(t.db)).toMatchObject({ ok: false, rows: 5, broken: { id: 6, reason: 'mac_missing' } });
  });

  it('verifies rows under an older key while it stays in the keyring; refuses a key it does not hold', async () => {
    const [a, b] = [key32(), key32()];
    await fresh(5, createAudit(t.db, Date.now, { auditKeys: { a }, auditKeyId: 'a' }));
    const audit = createAudit(t.db, Date.now, { auditKeys: { a, b }, auditKeyId: 'b' });
    for (let i = 0; i < 5; i++) await audit(event(i));
    expect((await rows()).map((r) => r.mac_key_id)).toEqual(['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b']);
    expect(await verifyChain(t.db, { secrets: { auditKeys: { a, b }, auditKeyId: 'b' } })).toMatchObject({ ok: true, rows: 10 });
    expect(await verifyChain(t.db, { secrets: { auditKeys: { b }, auditKeyId: 'b' } })).toMatchObject({ ok: false, rows: 0, broken: { id: 1, reason: 'mac_key_unknown' } });
    expect(await verifyChain(t.db, { secrets: { auditKeys: { a: key32(), b }, auditKeyId: 'b' } })).toMatchObject({ ok: false, rows: 0, broken: { id: 1, reason: 'mac_mismatch' } });
  });
});
