// A failed query as the logs show it (src/server/logger.ts over src/db/knex.ts): the statement's
// shape, the driver's code and message, never the values bound to it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../config/load.ts';
import { createLogger } from '../../../src/server/logger.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const config = loadConfig({});

/** Logs `err` as the koa error handler does and returns the line written and its parsed `err`. */
const logged = (err: unknown): { raw: string; err: Record<string, unknown> } => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  createLogger(config, destination).error({ err, requestId: 'r-1' }, 'request failed');
  const raw = chunks.join('');
  return { raw, err: (JSON.parse(raw) as { err: Record<string, unknown> }).err };
};

const secret = 'jti-5b1e9d0c7a2f-not-for-logs';

describe('database errors in the log', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  // A replay-detection row stored twice: the primary key (type, id) refuses the second insert.
  it('logs a failed insert with its statement and code, not its values', async () => {
    const row = { type: 'ReplayDetection', id: secret, payload: JSON.stringify({ jti: secret }) };
    await database.db('oidc_payloads').insert(row);
    const thrown = await database.db('oidc_payloads').insert(row).then(() => undefined, (e: unknown) => e);
    expect(thrown).toMatchObject({ message: expect.any(String) }); // not instanceof: the driver's error is of another realm under jest
    const { raw, err } = logged(thrown);
    expect(err.message).toMatch(/^insert into .oidc_payloads. \(.+\) values \(.+\) - /);
    expect(err.code).toEqual(expect.any(String));
    expect(raw).not.toContain(secret);
  });

  it('redacts the bindings knex attaches to a timeout, keeping its statement', () => {
    const sql = 'select * from `oidc_payloads` where `type` = ? and `id` = ?';
    const timeout = Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), {
      name: 'KnexTimeoutError', sql, bindings: ['ReplayDetection', secret],
    });
    const { raw, err } = logged(timeout);
    expect(err).toMatchObject({ sql, bindings: '[redacted]' });
    expect(raw).not.toContain(secret);
  });

  it('redacts the detail PostgreSQL attaches to a violation, keeping its code', () => {
    const violation = Object.assign(new Error('duplicate key value violates unique constraint "oidc_payloads_pkey"'), {
      code: '23505', detail: `Key (type, id)=(ReplayDetection, ${secret}) already exists.`,
    });
    const { raw, err } = logged(violation);
    expect(err).toMatchObject({ code: '23505', detail: '[redacted]' });
    expect(raw).not.toContain(secret);
  });
});
