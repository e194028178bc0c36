// `facegate keys …` and `facegate clients …` as an operator runs them: JSON output, exit status and
// error codes, on a SQLite file of its own (development configuration, NODE_ENV unset).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner, lastJson } from '../../helpers/cli.ts';

let dir: string;
let env: NodeJS.ProcessEnv;

const run = (...args: string[]) => cliRunner(env)(...args);
const json = lastJson as (s: string) => any;

const ecJwk = (withPrivate = false) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(withPrivate ? privateKey : publicKey).export({ format: 'jwk' }), use: 'sig', alg: 'ES256' };
};
const writeJwks = (name: string, keys: object[]) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
};

const taxOffice = (jwksFile: string, ...extra: string[]) => [
  'clients', 'add', '--client-id', 'tax-office', '--name', 'Tax office', '--redirect-uri', 'https://tax.example/cb',
  '--jwks', jwksFile, '--scopes', 'openid,profile', '--json', ...extra,
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'facegate-oidc-cli-'));
  env = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: `sqlite:${join(dir, 'cli.sqlite')}` };
  delete env.NODE_ENV;
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA') delete env[name];
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type KeyInfo = { kid: string; alg: string; status: string };
const slots = (keys: KeyInfo[]) => keys.map((k) => `${k.alg} ${k.status}`).sort();

describe('facegate keys', () => {
  let listed: KeyInfo[];

  it('keys list creates and lists an active and a next key per algorithm', async () => {
    const r = await run('keys', 'list', '--json');
    expect(r.code).toBe(0);
    listed = json(r.stdout) as KeyInfo[];
    expect(slots(listed)).toEqual(['ES256 active', 'ES256 next', 'PS256 active', 'PS256 next']);
  });

  it('keys rotate promotes the next keys, retires the active ones and stages two new ones', async () => {
    const r = await run('keys', 'rotate', '--json');
    expect(r.code).toBe(0);
    const out = json(r.stdout) as { promoted: string[]; retired: string[]; staged: string[] };
    expect(out.promoted).toHaveLength(2);
    expect(out.retired).toHaveLength(2);
    expect(out.staged).toHaveLength(2);
    expect([...out.promoted].sort()).toEqual(listed.filter((k) => k.status === 'next').map((k) => k.kid).sort());
    expect([...out.retired].sort()).toEqual(listed.filter((k) => k.status === 'active').map((k) => k.kid).sort());
  });

  it('keys list after a rotation still lists the retired keys', async () => {
    const keys = json((await run('keys', 'list', '--json')).stdout) as KeyInfo[];
    expect(slots(keys)).toEqual(['ES256 active', 'ES256 next', 'ES256 retired', 'PS256 active', 'PS256 next', 'PS256 retired']);
  });
});

describe('facegate clients', () => {
  it('clients add registers an agency with the gateway profile and prints its metadata', async () => {
    const key = ecJwk();
    const r = await run(...taxOffice(writeJwks('tax.jwks.json', [key])));
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      client_id: 'tax-office',
      client_name: 'Tax office',
      redirect_uris: ['https://tax.example/cb'],
      jwks: { keys: [key] },
      scope: 'openid profile',
      token_endpoint_auth_method: 'private_key_jwt',
      dpop_bound_access_tokens: true,
    });
  });

  it('clients add registers the authorization_details types an agency may ask for, and refuses an unknown one', async () => {
    const jwks = writeJwks('pension.jwks.json', [ecJwk()]);
    const agency = (id: string, types: string) => ['clients', 'add', '--client-id', id, '--name', 'Pension office', '--redirect-uri', `https://${id}.example/cb`,
      '--jwks', jwks, '--authorization-details-types', types, '--json'];
    const r = await run(...agency('pension-office', 'pension_life_certificate,tax_record_access'));
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ client_id: 'pension-office', authorization_details_types: ['pension_life_certificate', 'tax_record_access'] });
    const bad = await run(...agency('other-office', 'pension_life_certificate,bank_statement'));
    expect(bad.code).not.toBe(0);
    expect(json(bad.stdout).error).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringContaining('authorizationDetailsTypes') });
  });

  it('clients add refuses a taken client_id with client_exists and a non-zero exit', async () => {
    const r = await run(...taxOffice(writeJwks('tax-again.jwks.json', [ecJwk()])));
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('client_exists');
  });

  it('clients add refuses a JWKS holding a private key with invalid_client_metadata', async () => {
    const r = await run('clients', 'add', '--client-id', 'leaky-office', '--name', 'Leaky', '--redirect-uri', 'https://leaky.example/cb',
      '--jwks', writeJwks('private.jwks.json', [ecJwk(true)]), '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('invalid_client_metadata');
  });

  it('clients add refuses both --jwks and --jwks-uri with invalid_client_metadata', async () => {
    const r = await run('clients', 'add', '--client-id', 'both-office', '--name', 'Both', '--redirect-uri', 'https://both.example/cb',
      '--jwks', writeJwks('both.jwks.json', [ecJwk()]), '--jwks-uri', 'https://both.example/jwks', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('invalid_client_metadata');
  });

  it('clients add refuses neither --jwks nor --jwks-uri with invalid_client_metadata', async () => {
    const r = await run('clients', 'add', '--client-id', 'none-office', '--name', 'None', '--redirect-uri', 'https://none.example/cb', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('invalid_client_metadata');
  });

  it('clients add registers where the agency may send the citizen after logout', async () => {
    const r = await run('clients', 'add', '--client-id', 'logout-office', '--name', 'Logout', '--redirect-uri', 'https://logout.example/cb',
      '--post-logout-redirect-uri', 'https://logout.example/bye', '--post-logout-redirect-uri', 'https://logout.example/bye?lang=fr',
      '--jwks', writeJwks('logout.jwks.json', [ecJwk()]), '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout).post_logout_redirect_uris).toEqual(['https://logout.example/bye', 'https://logout.example/bye?lang=fr']);
  });

  it('clients add refuses a plain-http post-logout redirect URI with invalid_client_metadata', async () => {
    const r = await run('clients', 'add', '--client-id', 'plain-office', '--name', 'Plain', '--redirect-uri', 'https://plain.example/cb',
      '--post-logout-redirect-uri', 'http://plain.example/bye', '--jwks', writeJwks('plain.jwks.json', [ecJwk()]), '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringContaining('postLogoutRedirectUris') });
  });

  it('clients add refuses a missing JWKS file with file_not_found', async () => {
    const r = await run('clients', 'add', '--client-id', 'lost-office', '--name', 'Lost', '--redirect-uri', 'https://lost.example/cb',
      '--jwks', join(dir, 'no-such.jwks.json'), '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('file_not_found');
  });

  it('clients list lists the registered agencies only', async () => {
    const r = await run('clients', 'list', '--json');
    expect(r.code).toBe(0);
    const all = json(r.stdout) as Array<{ client_id: string }>;
    expect(all.map((c) => c.client_id)).toEqual(['logout-office', 'pension-office', 'tax-office']);
    expect(all.find((c) => c.client_id === 'tax-office')).toMatchObject({ client_name: 'Tax office', scope: 'openid profile' });
  });
});
