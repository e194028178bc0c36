// Readiness of the database for a gateway instance: it must take a write, not only answer a read
// (a full disk or a read-only replica answers `select 1` and then fails every sign-in with a 500),
// and a SQLite file's volume must keep some free space. Imports node and knex types only.
import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Config } from '../../config/schema.ts';
import type { Db } from './knex.ts';
import { isPostgresUrl } from './knex.ts';

/** The driver's error code (SQLITE_FULL, 53100 …) without the statement or its values. */
const codeOf = (err: unknown) => String((err as { code?: unknown } | null)?.code ?? 'error');

/**
 * Readiness probes by name for the configured database: `database` commits an upsert of this
 * instance's row in `readiness_probes`; `disk` (SQLite only) wants database.minFreeMiB free on the
 * file's volume. Each throws a short reason (no SQL, no path) when not ready.
 */
export function databaseReadiness(db: Db, database: Config['database'], now: () => number = Date.now): Record<string, () => Promise<void>> {
  const instance = `${hostname()}:${process.pid}`.slice(0, 100);
  const probes: Record<string, () => Promise<void>> = {
    database: async () => {
      try {
        await db('readiness_probes').insert({ instance, checked_at: now() }).onConflict('instance').merge(['checked_at']);
      } catch (err) {
        throw new Error(`cannot write (${codeOf(err)})`);
      }
    },
  };
  const file = isPostgresUrl(database.url) ? undefined : database.url.slice('sqlite:'.length);
  if (file && file !== ':memory:') {
    const dir = dirname(resolve(file));
    const minBytes = database.minFreeMiB * 1024 * 1024;
    probes.disk = async () => {
      const fs = await statfs(dir);
      const free = fs.bavail * fs.bsize;
      if (free < minBytes) throw new Error(`low disk space (${Math.floor(free / 1024 / 1024)} MiB free, below ${database.minFreeMiB} MiB)`);
    };
  }
  return probes;
}
