// Migration 0002 on a database that already holds audit rows: they are chained from genesis in id
// order, and new appends continue the same chain.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import * as initial from '../../../migrations/0001_initial.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { verifyChain } from '../../../src/audit/query.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
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
    dir = mkdtempSync(join(tmpdir(), 'facegate-mig-'));
    db = openDatabase({ url: `sqlite:${join(dir, 'm.sqlite')}`, poolMax: 1 });
  }
});
afterAll(async () => {
  if (schema) await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
  await db.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('chains rows written before migration 0002 and continues the chain after it', async () => {
  const only: Knex.MigrationSource<string> = {
    getMigrations: async () => ['0001_initial'], getMigrationName: (n) => n, getMigration: async () => initial,
  };
  await db.migrate.up({ migrationSource: only, schemaName: schema });
  for (let i = 0; i < 3; i++) await db('audit_events').insert({ at: 1000 + i, type: 'capture.started', outcome: 'info', details: JSON.stringify({ i }) });
  await migrateLatest(db, schema);
  expect(await verifyChain(db)).toMatchObject({ ok: true, rows: 3, head: { id: 3 } });
  await createAudit(db)({ type: 'keys.rotated', outcome: 'success' });
  expect(await verifyChain(db)).toMatchObject({ ok: true, rows: 4, head: { id: 4 } });
});
