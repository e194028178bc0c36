// The SQLite connection keeps its compiled statements: the same SQL text is compiled once, the kept
// statements stay correct across a schema change and a failed statement, and the cache is bounded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { openDatabase, SQLITE_STATEMENT_CACHE, type Db } from '../../../src/db/knex.ts';
import { onPostgres } from '../../helpers/db.ts';

let dir: string;
let db: Db;
const compiled: string[] = [];
const native = Database.prototype.prepare;

beforeAll(async () => {
  // What reaches better-sqlite3's own prepare, under the kept-statement layer (which takes the
  // connection's prepare when the connection opens).
  Database.prototype.prepare = function (this: Database.Database, sql: string) {
    compiled.push(sql);
    return native.call(this, sql);
  } as typeof native;
  dir = mkdtempSync(join(tmpdir(), 'facegate-statements-'));
  db = openDatabase({ url: `sqlite:${join(dir, 'x.sqlite')}`, poolMax: 1 });
  await db.schema.createTable('items', (t) => {
    t.string('id').primary();
    t.integer('n').notNullable();
  });
});

afterAll(async () => {
  Database.prototype.prepare = native;
  await db?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

(onPostgres ? describe.skip : describe)('kept SQLite statements', () => {
  it('compiles the same SQL once and answers each run with its own bindings', async () => {
    compiled.length = 0;
    for (let i = 0; i < 5; i++) await db('items').insert({ id: `a${i}`, n: i });
    const found = [];
    for (let i = 0; i < 5; i++) found.push((await db('items').where({ id: `a${i}` }).first())?.n);
    expect(found).toEqual([0, 1, 2, 3, 4]);
    expect(compiled.filter((s) => s.startsWith('insert'))).toHaveLength(1);
    expect(compiled.filter((s) => s.startsWith('select'))).toHaveLength(1);
  });

  it('a kept statement sees a column added after it was compiled', async () => {
    const before = await db('items').where({ id: 'a1' }).first();
    expect(Object.keys(before)).toEqual(['id', 'n']);
    await db.schema.alterTable('items', (t) => t.string('note'));
    const after = await db('items').where({ id: 'a1' }).first();
    expect(after).toEqual({ id: 'a1', n: 1, note: null });
  });

  it('a statement that failed runs again, and a transaction rolled back leaves nothing', async () => {
    // By message, not toThrow: better-sqlite3's error class belongs to the first test file's realm
    // when a jest worker runs several.
    await expect(db('items').insert({ id: 'a1', n: 9 })).rejects.toMatchObject({ message: expect.stringMatching(/UNIQUE/) });
    await expect(db.transaction(async (trx) => {
      await trx('items').insert({ id: 'b1', n: 1 });
      await trx('items').insert({ id: 'a1', n: 9 });
    })).rejects.toMatchObject({ message: expect.stringMatching(/UNIQUE/) });
    await db('items').insert({ id: 'b2', n: 2 });
    expect(await db('items').whereIn('id', ['b1', 'b2']).pluck('id')).toEqual(['b2']);
  });

  it('keeps at most SQLITE_STATEMENT_CACHE statements, dropping the least recently used', async () => {
    const hot = () => db('items').where({ id: 'a0' }).first();
    await hot();
    compiled.length = 0;
    for (let i = 0; i < SQLITE_STATEMENT_CACHE + 20; i++) {
      await db.raw(`select id, ${i} as k from items limit 1`); // a different SQL text each time
      if (i % 100 === 0) await hot(); // used recently: kept
    }
    const distinct = compiled.length;
    expect(distinct).toBe(SQLITE_STATEMENT_CACHE + 20);
    await hot();
    expect(compiled).toHaveLength(distinct); // still kept
    await db.raw('select id, 0 as k from items limit 1'); // the oldest: dropped, compiled again
    expect(compiled).toHaveLength(distinct + 1);
  });

  it('compiles a long SQL text (a bulk insert) each time instead of keeping it', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ id: `bulk${i}`, n: i }));
    compiled.length = 0;
    await db('items').insert(rows.slice(0, 200));
    await db('items').insert(rows.slice(200));
    expect(compiled.filter((s) => s.startsWith('insert'))).toHaveLength(2);
    expect(await db('items').where('id', 'like', 'bulk%').count({ n: '*' })).toEqual([{ n: 400 }]);
  });
});
