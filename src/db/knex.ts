// Opens the database: a SQLite file (better-sqlite3) by default, PostgreSQL for production and
// several instances. Owns connection settings only; imports knex and the config types.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createRequire } from 'node:module';
import type { Config } from '../../config/schema.ts';
import { AppError } from '../shared/errors.ts';

export type Db = Knex;
/** What opening a database needs of its settings. */
export type DatabaseConnection = Pick<Config['database'], 'url' | 'schema' | 'poolMax'>;

let pgReady = false;
/**
 * Loads pg (only for a PostgreSQL URL: it takes about 0.1 s of a start otherwise, and knex then
 * requires the same module). int8 (COUNT, bigint epoch-ms columns) comes back from pg as a string
 * by default; every bigint this project stores is an epoch time in ms, well inside
 * Number.MAX_SAFE_INTEGER.
 */
function preparePg() {
  if (pgReady) return;
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  pgReady = true;
}

/** True when the URL names PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

// A failed query's message is "<sql> - <driver message>"; by default knex inlines the bound
// values (tokens, digests, national IDs) into that SQL, and the message reaches the logs.
const withoutValuesOnError = { compileSqlOnError: false } as const;

/** The compiled statements a SQLite connection keeps (least recently used dropped first). */
export const SQLITE_STATEMENT_CACHE = 500;
/** Longer SQL (a bulk insert of many rows) is compiled each time, not kept. */
const KEPT_SQL_MAX_CHARS = 4096;

type SqliteStatement = object;
type SqliteConnection = { pragma: (s: string) => void; prepare: (sql: string) => SqliteStatement };

/**
 * knex's better-sqlite3 client compiles every query's SQL again (in a bench:oidc profile,
 * compiling took about as long as running the statements); the same SQL text's compiled statement
 * is reused instead. Safe because knex runs one statement to completion at a time on the one
 * connection (`all`/`run`, never an iterator), sets no per-statement modes beyond `safeIntegers`
 * (not used here), and SQLite recompiles a kept statement by itself after a schema change.
 */
function keepCompiledStatements(conn: SqliteConnection, size = SQLITE_STATEMENT_CACHE): void {
  const compile = conn.prepare.bind(conn);
  const kept = new Map<string, SqliteStatement>();
  conn.prepare = (sql: string) => {
    if (sql.length > KEPT_SQL_MAX_CHARS) return compile(sql);
    let statement = kept.get(sql);
    if (statement) {
      kept.delete(sql); // most recently used last
    } else {
      statement = compile(sql);
      if (kept.size >= size) kept.delete(kept.keys().next().value as string);
    }
    kept.set(sql, statement);
    return statement;
  };
}

/** Opens (but does not migrate) the configured database. */
export function openDatabase(database: DatabaseConnection): Db {
  if (isPostgresUrl(database.url)) {
    preparePg();
    return knexFactory({
      ...withoutValuesOnError,
      client: 'pg',
      connection: database.url,
      searchPath: database.schema ? [database.schema] : undefined,
      pool: { min: 0, max: database.poolMax },
    });
  }
  if (!database.url.startsWith('sqlite:')) {
    throw new AppError('invalid_config', 'database.url: use postgres://… or sqlite:PATH');
  }
  const file = database.url.slice('sqlite:'.length);
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  return knexFactory({
    ...withoutValuesOnError,
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      // WAL lets readers run beside the one writer; foreign keys are off by default in SQLite;
      // compiled statements are kept.
      afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        keepCompiledStatements(conn);
        done(null, conn);
      },
    },
  });
}

/** True when the database is PostgreSQL (for the few statements that differ). */
export function isPostgres(db: Db): boolean {
  return db.client.config.client === 'pg';
}
