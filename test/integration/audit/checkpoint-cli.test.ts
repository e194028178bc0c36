// Finding 17 through the CLI: `audit checkpoint` signs the head for an outside store; `audit verify`
// with `--head HASH` or `--checkpoints FILE` fails (exit 1, a stable reason) on a cut tail; and a
// re-chained edit or a forged appended row fails `verify` without either.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentSecrets } from '../../../config/defaults.ts';
import { rowHash, type AuditRow } from '../../../src/audit/chain.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { ensureSigningKeys } from '../../../src/oidc/keys.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTriggersOff } from './tamper.ts';

let t: TestDatabase;
let dir: string;
let run: ReturnType<typeof cliRunner>;
const json = lastJson as (s: string) => any;

const rows = async (): Promise<AuditRow[]> => t.db<AuditRow>('audit_events').orderBy('id');

async function fresh(n: number): Promise<void> {
  await withTriggersOff(t.db, () => t.db('audit_events').del());
  const audit = createAudit(t.db);
  for (let i = 0; i < n; i++) await audit({ type: 'capture.decided', outcome: i % 3 ? 'success' : 'failure', clientId: 'tax-office', details: { score: i / 40 } });
}

beforeAll(async () => {
  t = await openTestDatabase();
  // The gateway generates its signing keys at first start; done here so no test waits for RSA keys.
  await ensureSigningKeys(t.db, createSealer(developmentSecrets.dataKeys, developmentSecrets.dataKeyId));
  dir = mkdtempSync(join(tmpdir(), 'facegate-checkpoint-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: t.database.url };
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
  if (t.database.schema) env.DATABASE_SCHEMA = t.database.schema;
  run = cliRunner(env);
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('facegate audit checkpoint and verify --head / --checkpoints', () => {
  it('(a) verify fails on an edit after which every later row was re-chained', async () => {
    await fresh(20);
    await withTriggersOff(t.db, async () => {
      let prev: string | undefined;
      for (const r of await rows()) {
        if (Number(r.id) < 7) { prev = r.hash; continue; }
        const outcome = Number(r.id) === 7 ? 'success' : r.outcome;
        const hash = rowHash(prev!, { ...r, outcome });
        await t.db('audit_events').where({ id: r.id }).update({ outcome, prev_hash: prev, hash });
        prev = hash;
      }
    });
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toMatchObject({ ok: false, rows: 6, broken: { id: 7, reason: 'mac_mismatch' } });
  });

  it('(b) verify fails on an appended forged row that is correctly hash-chained', async () => {
    await fresh(8);
    const last = (await rows()).pop()!;
    const forged = { id: 9, at: Number(last.at) + 1, type: 'risk.reset', outcome: 'success', code: null, interaction_uid: null, client_id: null, citizen_id: 'c-1', ip: null, user_agent: null, details: '{"reason":"desk"}' };
    await t.db('audit_events').insert({ ...forged, prev_hash: last.hash, hash: rowHash(last.hash, forged) });
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toMatchObject({ ok: false, rows: 8, broken: { id: 9, reason: 'mac_missing' } });
    const text = await run('audit', 'verify');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('broken at row 9 (mac_missing)');
  });

  it('(c) checkpoint appends a signed head; verify --checkpoints and --head pass, then fail once the tail is cut', async () => {
    await fresh(30);
    const file = join(dir, 'checkpoints.jsonl');
    const first = await run('audit', 'checkpoint', '--out', file, '--json');
    expect(first.code).toBe(0);
    const cp = json(first.stdout);
    expect(cp).toMatchObject({ seq: 30, hash: expect.stringMatching(/^[0-9a-f]{64}$/), mac: expect.stringMatching(/^[0-9a-f]{64}$/), unanchored: 0, jws: expect.any(String), out: file });
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(line.jws).toBe(cp.jws);
    expect(JSON.parse(Buffer.from(cp.jws.split('.')[0], 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'facegate-audit-checkpoint+jws', kid: expect.any(String) });

    // Stdout alone, no file: one JSON line an operator ships elsewhere.
    await createAudit(t.db)({ type: 'keys.rotated', outcome: 'success' });
    const second = await run('audit', 'checkpoint');
    expect(second.code).toBe(0);
    appendFileSync(file, second.stdout);
    expect(JSON.parse(second.stdout.trim())).toMatchObject({ seq: 31 });

    const ok = await run('audit', 'verify', '--checkpoints', file, '--head', cp.hash, '--json');
    expect(ok.code).toBe(0);
    expect(json(ok.stdout)).toMatchObject({ ok: true, rows: 31, heads: 3 });

    await withTriggersOff(t.db, () => t.db('audit_events').where('id', '>', 25).del());
    const plain = await run('audit', 'verify', '--json');
    expect(json(plain.stdout)).toMatchObject({ ok: true, rows: 25 });

    const byHead = await run('audit', 'verify', '--head', cp.hash, '--json');
    expect(byHead.code).toBe(1);
    expect(json(byHead.stdout)).toMatchObject({ ok: false, broken: { reason: 'head_missing' } });

    const byCheckpoints = await run('audit', 'verify', '--checkpoints', file, '--json');
    expect(byCheckpoints.code).toBe(1);
    expect(json(byCheckpoints.stdout)).toMatchObject({ ok: false, rows: 25, broken: { id: 30, reason: 'truncated' } });
    const text = await run('audit', 'verify', '--checkpoints', file);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/truncated/);
    expect(text.stdout).toContain('row 30');
  });

  it('refuses a checkpoint whose statement was changed after signing', async () => {
    await fresh(5);
    const file = join(dir, 'forged.jsonl');
    const r = await run('audit', 'checkpoint', '--json');
    const [h, p, s] = json(r.stdout).jws.split('.');
    const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), seq: 4 };
    writeFileSync(file, `${JSON.stringify({ jws: [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.') })}\n`);
    const v = await run('audit', 'verify', '--checkpoints', file, '--json');
    expect(v.code).toBe(1);
    expect(json(v.stdout)).toMatchObject({ ok: false, broken: { reason: 'checkpoint_invalid' } });
  });

  it('refuses a --head that is not a hash, and a checkpoints file that is missing', async () => {
    const bad = await run('audit', 'verify', '--head', 'xyz', '--json');
    expect(bad.code).not.toBe(0);
    expect(json(bad.stdout).error.code).toBe('invalid_input');
    const missing = await run('audit', 'verify', '--checkpoints', join(dir, 'nope.jsonl'), '--json');
    expect(missing.code).not.toBe(0);
    expect(json(missing.stdout).error.code).toBe('file_not_found');
  });
});
