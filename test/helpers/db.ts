// A fresh, migrated database per test file: a temporary SQLite file by default, or a schema of
// its own on PostgreSQL when FACEGATE_TEST_DATABASE_URL is set (`npm run test:postgres`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, type DatabaseConnection, type Db } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';

export const testDatabaseUrl = process.env.FACEGATE_TEST_DATABASE_URL;
export const onPostgres = Boolean(testDatabaseUrl);

export type TestDatabase = { db: Db; database: DatabaseConnection; close: () => Promise<void> };

/** Opens and migrates an isolated database; `close()` drops it. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (testDatabaseUrl) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const database = { url: testDatabaseUrl, schema, poolMax: 5 };
    const db = openDatabase(database);
    await migrateLatest(db, schema);
    return {
      db,
      database,
      close: async () => {
        await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
        await db.destroy();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'facegate-db-'));
  const database = { url: `sqlite:${join(dir, 'test.sqlite')}`, poolMax: 1 };
  const db = openDatabase(database);
  await migrateLatest(db);
  return {
    db,
    database,
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
