// What the database commands share: the wrapper that reports a command's outcome, and a migrated
// database opened for one command and closed after. Imports db and the config types only.
import type { Config } from '../../config/schema.ts';
import { openDatabase, type Db } from '../db/knex.ts';
import { migrateLatest } from '../db/migrate.ts';

/** Runs a command's body and prints its failure (as JSON with --json). */
export type Run = (json: boolean, body: () => Promise<void>) => Promise<void>;

/** Opens and migrates the configured database for one command, and closes it after. */
export async function withDb<T>(config: Readonly<Config>, body: (db: Db) => Promise<T>): Promise<T> {
  const db = openDatabase(config.database);
  try {
    await migrateLatest(db, config.database.schema);
    return await body(db);
  } finally {
    await db.destroy();
  }
}
