// `facegate audit verify | export | citizen` run as an operator runs them, on this test file's
// database: exit status, the broken row named, JSON lines, error codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudit } from '../../../src/audit/log.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTriggersOff } from './tamper.ts';

let t: TestDatabase;
let dir: string;
let run: ReturnType<typeof cliRunner>;
const json = lastJson as (s: string) => any;
const t0 = Date.parse('2026-03-01T00:00:00Z');

beforeAll(async () => {
  t = await openTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'facegate-audit-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: t.database.url };
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
  if (t.database.schema) env.DATABASE_SCHEMA = t.database.schema;
  run = cliRunner(env);
  // One event per hour from t0, with a fixed clock.
  let hour = 0;
  const audit = createAudit(t.db, () => t0 + 3600_000 * hour++);
  for (let i = 0; i < 40; i++) {
    await audit({ type: i % 2 ? 'capture.decided' : 'consent.decided', outcome: i % 3 ? 'success' : 'failure', clientId: 'tax-office', ip: '192.0.2.1', details: { score: i / 40, reasons: ['r'] } });
  }
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('facegate audit', () => {
  it('export writes one JSON object per line, in id order, within --since/--until', async () => {
    const r = await run('audit', 'export', '--since', '2026-03-01T05:00:00Z', '--until', '2026-03-01T10:00:00Z');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => e.id)).toEqual([6, 7, 8, 9, 10]);
    expect(lines[0]).toMatchObject({ time: '2026-03-01T05:00:00.000Z', client_id: 'tax-office', ip: '192.0.2.1', details: { score: 5 / 40 }, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('export --out writes the whole trail to a file and says how many events', async () => {
    const out = join(dir, 'trail.jsonl');
    const r = await run('audit', 'export', '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ events: 40, out });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('export refuses a date that is not ISO 8601', async () => {
    const r = await run('audit', 'export', '--since', 'last tuesday', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('invalid_input');
  });

  it('citizen refuses an ID that is not registered with citizen_not_found', async () => {
    const r = await run('audit', 'citizen', 'ZZ99999999', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('citizen_not_found');
  });

  it('verify passes on an untouched trail', async () => {
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ ok: true, rows: 40, head: { id: 40 } });
  });

  it('verify fails and names a row edited directly in the database', async () => {
    await withTriggersOff(t.db, () => t.db('audit_events').where({ id: 17 }).update({ details: JSON.stringify({ score: 0.99, reasons: ['r'] }) }));
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toMatchObject({ ok: false, rows: 16, broken: { id: 17, reason: 'hash_mismatch' } });
    const text = await run('audit', 'verify');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('broken at row 17');
  });

  it('verify names the gap a deleted row leaves before a later edit', async () => {
    await withTriggersOff(t.db, () => t.db('audit_events').where({ id: 5 }).del());
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toMatchObject({ ok: false, rows: 4, broken: { id: 6, reason: 'gap' } });
  });
});
