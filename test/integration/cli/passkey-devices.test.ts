// `facegate devices list | remove` as an operator runs them (a citizen at the desk who lost her
// phone): child processes on a temporary SQLite file, JSON output, exit status, the audit row.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { migrateLatest } from '../../../src/db/migrate.ts';
import { insertPasskey } from '../../../src/passkeys/store.ts';
import { insertCitizen } from '../../../src/registry/citizens.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'facegate-devices-cli-'));
const url = `sqlite:${join(dir, 'facegate.sqlite')}`;
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: url };
delete env.DATABASE_SCHEMA;
const run = (...args: string[]) => cliRunner(env)(...args);
const json = lastJson as (s: string) => any;

describe('facegate devices', () => {
  let db: Db;
  const ids = ['hwkCredential0001', 'swkCredential0002'];
  beforeAll(async () => {
    db = openDatabase({ url, poolMax: 1 });
    await migrateLatest(db);
    const { id } = await insertCitizen(db, { nationalId: 'DV19610804', givenName: 'Dee', familyName: 'Vice', birthdate: '1961-08-04' }, Date.now);
    for (const [i, credential] of ids.entries()) {
      await insertPasskey(db, {
        id: credential, citizenId: id, publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: ['internal'],
        deviceType: i === 0 ? 'singleDevice' : 'multiDevice', backedUp: i === 1, aaguid: null, label: 'Chrome on Android', createdAt: Date.now() + i,
      });
    }
    // The CLI opens the file itself.
    await db.destroy();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists her passkeys with their kind', async () => {
    const r = await run('devices', 'list', 'dv19610804', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ nationalId: 'DV19610804', passkeys: [
      expect.objectContaining({ id: ids[0], kind: 'hwk', label: 'Chrome on Android', lastUsedAt: null }),
      expect.objectContaining({ id: ids[1], kind: 'swk' }),
    ] });
  });

  it('removes one (audited as the operator\'s), and refuses an unknown id or citizen with a code', async () => {
    const r = await run('devices', 'remove', 'DV19610804', ids[0], '--reason', 'phone reported lost at the desk', '--operator', 'desk-7', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ nationalId: 'DV19610804', removed: ids[0] });
    expect(json((await run('devices', 'list', 'DV19610804', '--json')).stdout).passkeys.map((p: { id: string }) => p.id)).toEqual([ids[1]]);
    const again = await run('devices', 'remove', 'DV19610804', ids[0], '--json');
    expect(again.code).toBe(1);
    expect(json(again.stdout).error.code).toBe('invalid_input');
    const nobody = await run('devices', 'list', 'NO000000', '--json');
    expect(json(nobody.stdout).error.code).toBe('citizen_not_found');
    const events = (await run('audit', 'export')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; details: Record<string, unknown> });
    expect(events.filter((e) => e.type === 'passkey.removed').map((e) => e.details)).toEqual([
      { actor: 'operator', credential: ids[0].slice(0, 16), kind: 'hwk', operator: 'desk-7', reason: 'phone reported lost at the desk' },
    ]);
  });
});
