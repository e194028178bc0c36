// Migration 0005 on a trail written before it: the old rows carry no MAC and verify as the
// unanchored prefix; the first anchored row after them pins them (its MAC covers its hash, which
// covers every row before it), so re-chaining an old row is found too.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import * as initial from '../../../migrations/0001_initial.ts';
import * as auditChain from '../../../migrations/0002_audit_chain.ts';
import * as risk from '../../../migrations/0003_risk.ts';
import { genesisHash, rowHash, type AuditRow } from '../../../src/audit/chain.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { verifyChain } from '../../../src/audit/query.ts';
import { isPostgres, openDatabase, type Db } from '../../../src/db/knex.ts';
import { migrateLatest } from '../../../src/db/migrate.ts';
import { testDatabaseUrl } from '../../helpers/db.ts';

let db: Db;
let schema: string | undefined;
let dir: string | undefined;

beforeAll(async () => {
  if (testDatabaseUrl) {
    schema = `t_${randomBytes(6).toString('hex')}`;
    db = openDatabase({ url: testDatabaseUrl, schema, poolMax: 2 });
    await db.raw('CREATE SCHEMA ??', [schema]);
  } else {
    dir = mkdtempSync(join(tmpdir(), 'facegate-mig4-'));
    db = openDatabase({ url: `sqlite:${join(dir, 'm.sqlite')}`, poolMax: 1 });
  }
});
afterAll(async () => {
  if (schema) await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
  await db.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function triggersOff(body: () => Promise<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await db.raw('ALTER TABLE audit_events DISABLE TRIGGER USER');
    try { await body(); } finally { await db.raw('ALTER TABLE audit_events ENABLE TRIGGER USER'); }
    return;
  }
  const triggers = await db('sqlite_master').where({ type: 'trigger', tbl_name: 'audit_events' }).select('sql', 'name') as { sql: string; name: string }[];
  for (const t of triggers) await db.raw(`DROP TRIGGER ${t.name}`);
  try { await body(); } finally { for (const t of triggers) await db.raw(t.sql); }
}

it('verifies rows from before migration 0005 as unanchored, and pins them with the first anchored row', async () => {
  const before: Record<string, { up: (db: Knex) => Promise<void>; down: (db: Knex) => Promise<void> }> = { '0001_initial': initial, '0002_audit_chain': auditChain, '0003_risk': risk };
  const source: Knex.MigrationSource<string> = {
    getMigrations: async () => Object.keys(before), getMigrationName: (n) => n, getMigration: async (n) => before[n],
  };
  await db.migrate.latest({ migrationSource: source, schemaName: schema });
  // The writer as it was: hash-chained, no MAC.
  let prev = genesisHash;
  for (let id = 1; id <= 3; id++) {
    const fields = { id, at: 1000 + id, type: 'capture.started', outcome: 'info', code: null, interaction_uid: null, client_id: null, citizen_id: null, ip: null, user_agent: null, details: JSON.stringify({ id }) };
    const hash = rowHash(prev, fields);
    await db('audit_events').insert({ ...fields, prev_hash: prev, hash });
    prev = hash;
  }
  await migrateLatest(db, schema);
  expect(await verifyChain(db)).toMatchObject({ ok: true, rows: 3, unanchored: 3, head: { id: 3 } });
  await createAudit(db)({ type: 'keys.rotated', outcome: 'success' });
  expect(await verifyChain(db)).toMatchObject({ ok: true, rows: 4, unanchored: 3, head: { id: 4 } });

  // Rewrite old row 2 and re-chain 2..4 without the key: row 4's MAC no longer matches.
  await triggersOff(async () => {
    const rows = await db<AuditRow>('audit_events').orderBy('id');
    let p = rows[0].hash;
    for (const r of rows.slice(1)) {
      const edited = Number(r.id) === 2 ? { ...r, outcome: 'failure' } : r;
      const hash = rowHash(p, edited);
      await db('audit_events').where({ id: r.id }).update({ outcome: edited.outcome, prev_hash: p, hash });
      p = hash;
    }
  });
  expect(await verifyChain(db)).toMatchObject({ ok: false, rows: 3, broken: { id: 4, reason: 'mac_mismatch' } });
});
