// The audit writer on a real database (SQLite, or PostgreSQL in the second run): appends chain,
// rows cannot be changed through SQL while the triggers stand, tampering is found and named,
// concurrent writers on two connections keep one valid chain, consent decisions are upserted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { listConsents, recordConsent } from '../../../src/audit/consents.ts';
import { createAudit, type AuditEvent } from '../../../src/audit/log.ts';
import { verifyChain } from '../../../src/audit/query.ts';
import { openDatabase } from '../../../src/db/knex.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTriggersOff } from './tamper.ts';

const mixed = (i: number): AuditEvent => [
  { type: 'capture.started', outcome: 'info', interactionUid: `uid-${i}`, clientId: 'pension-office', ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)' },
  { type: 'capture.decided', outcome: 'failure', code: 'no_match', citizenId: null, details: { score: 0.12 + i / 1000, threshold: 0.41, reasons: ['no_match'] } },
  { type: 'oidc.grant.success', outcome: 'success', clientId: 'tax-office', citizenId: `c-${i % 7}`, details: { acr: 'x', claims: ['sub', 'given_name'], 'ünïcödé': 'é"\\\n' } },
  { type: 'keys.rotated', outcome: 'success' },
][i % 4] as AuditEvent;

let t: TestDatabase;
beforeAll(async () => { t = await openTestDatabase(); });
afterAll(() => t?.close());

async function fresh(): Promise<void> {
  // Each test starts from an empty trail (the owner may truncate with the triggers off).
  await withTriggersOff(t.db, () => t.db('audit_events').del());
}

describe('audit chain on the database', () => {
  it('verifies after many mixed events', async () => {
    await fresh();
    const audit = createAudit(t.db);
    for (let i = 0; i < 300; i++) await audit(mixed(i));
    const r = await verifyChain(t.db, { batch: 64 });
    expect(r).toMatchObject({ ok: true, rows: 300, head: { id: 300 } });
    const row = await t.db('audit_events').where({ id: 1 }).first();
    expect(row).toMatchObject({ ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (test)', prev_hash: '0'.repeat(64) });
  });

  it('refuses UPDATE and DELETE of audit rows while the triggers stand', async () => {
    // Knex queries are thenables, not promises: jest's `rejects` does not reliably await them.
    const refusal = (query: PromiseLike<unknown>) => Promise.resolve(query).then(() => 'changed', (err: unknown) => String(err));
    expect(await refusal(t.db('audit_events').where({ id: 2 }).update({ outcome: 'success' }))).toMatch(/append-only/);
    expect(await refusal(t.db('audit_events').where({ id: 2 }).del())).toMatch(/append-only/);
    expect((await verifyChain(t.db)).ok).toBe(true);
  });

  it('names a row edited in the database', async () => {
    await withTriggersOff(t.db, () => t.db('audit_events').where({ id: 123 }).update({ outcome: 'failure', code: 'edited' }));
    expect(await verifyChain(t.db, { batch: 50 })).toMatchObject({ ok: false, rows: 122, broken: { id: 123, reason: 'hash_mismatch' } });
  });

  it('names the gap a deleted row leaves', async () => {
    await fresh();
    const audit = createAudit(t.db);
    for (let i = 0; i < 20; i++) await audit(mixed(i));
    await withTriggersOff(t.db, () => t.db('audit_events').where({ id: 9 }).del());
    expect(await verifyChain(t.db)).toMatchObject({ ok: false, rows: 8, broken: { id: 10, reason: 'gap' } });
  });

  it('keeps one valid chain when two connections append at once', async () => {
    await fresh();
    const other = openDatabase(t.database);
    try {
      const a = createAudit(t.db);
      const b = createAudit(other);
      await Promise.all([
        ...Array.from({ length: 60 }, (_, i) => a(mixed(i))),
        ...Array.from({ length: 60 }, (_, i) => b(mixed(i + 1))),
      ]);
    } finally {
      await other.destroy();
    }
    expect(await verifyChain(t.db)).toMatchObject({ ok: true, rows: 120 });
  });

  it('keeps the latest consent per citizen and agency, and every decision in the trail', async () => {
    await fresh();
    const citizenId = randomUUID();
    await t.db('citizens').insert({ id: citizenId, national_id: `CN${Date.now()}`, given_name: 'A', family_name: 'B', birthdate: '1970-01-01', created_at: 1, updated_at: 1 });
    const audit = createAudit(t.db);
    await recordConsent(audit, { citizenId, clientId: 'tax-office', decision: 'allow', scopes: ['openid', 'profile'], claims: ['sub', 'given_name'] });
    await recordConsent(audit, { citizenId, clientId: 'pension-office', decision: 'allow', scopes: ['openid'], claims: ['sub'] });
    await recordConsent(audit, { citizenId, clientId: 'tax-office', decision: 'deny', scopes: ['openid', 'address'], claims: ['sub', 'address'], ip: '198.51.100.4' });
    const consents = await listConsents(t.db, citizenId);
    expect(consents).toHaveLength(2);
    expect(consents.find((c) => c.clientId === 'tax-office')).toMatchObject({ decision: 'deny', scopes: ['openid', 'address'], claims: ['sub', 'address'] });
    const decided = await t.db('audit_events').where({ type: 'consent.decided', citizen_id: citizenId }).orderBy('id');
    expect(decided.map((r) => [r.client_id, JSON.parse(r.details).decision])).toEqual([['tax-office', 'allow'], ['pension-office', 'allow'], ['tax-office', 'deny']]);
    expect(decided[2].ip).toBe('198.51.100.4');
    expect((await verifyChain(t.db)).ok).toBe(true);
  });
});
