// `facegate clients add` with the options of docs/agencies.md beyond the fixed profile, as an
// operator runs it: encryption (the agency's `use: enc` key checked in the JWKS file), the
// back-channel logout URI and the assurance floor; then the refusals, each naming its problem.
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

const sigKey = () => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: 'sig' });
const rsaKey = (extra: object) => ({ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'rsa', ...extra });
const ecKey = (extra: object) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec', ...extra });
const jwksFile = (name: string, keys: object[]) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
};
const add = (clientId: string, jwks: string, ...extra: string[]) => run(
  'clients', 'add', '--client-id', clientId, '--name', clientId, '--redirect-uri', `https://${clientId}.example/cb`, '--jwks', jwks, '--json', ...extra,
);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'facegate-clients-options-'));
  env = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: `sqlite:${join(dir, 'cli.sqlite')}` };
  delete env.NODE_ENV;
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA') delete env[name];
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('facegate clients add, agency options', () => {
  it('registers encryption to the agency\'s enc keys, a back-channel logout URI and a floor, and prints them', async () => {
    const file = jwksFile('police.json', [sigKey(), rsaKey({ use: 'enc', alg: 'RSA-OAEP-256' }), ecKey({ use: 'enc' })]);
    const r = await add('police-eid', file,
      '--id-token-encrypted-response-alg', 'RSA-OAEP-256', '--userinfo-encrypted-response-alg', 'ECDH-ES', '--userinfo-encrypted-response-enc', 'A256GCM',
      '--backchannel-logout-uri', 'https://police-eid.example/backchannel', '--min-acr', 'high');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      id_token_signed_response_alg: 'PS256', id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A256GCM',
      userinfo_signed_response_alg: 'PS256', userinfo_encrypted_response_alg: 'ECDH-ES', userinfo_encrypted_response_enc: 'A256GCM',
      backchannel_logout_uri: 'https://police-eid.example/backchannel', backchannel_logout_session_required: true,
      facegate_min_acr: 'http://eidas.europa.eu/LoA/high',
    });
    const listed = json((await run('clients', 'list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((c) => c.client_id === 'police-eid')).toMatchObject({ facegate_min_acr: 'http://eidas.europa.eu/LoA/high', backchannel_logout_uri: 'https://police-eid.example/backchannel' });
  });

  const refusals: Array<[string, () => object[], string[], RegExp]> = [
    ['a JWKS with no encryption key', () => [sigKey()], ['--id-token-encrypted-response-alg', 'RSA-OAEP-256'],
      /idTokenEncryptedResponseAlg RSA-OAEP-256: jwks has no encryption key \("use": "enc"\), only signing keys: add an RSA key/],
    ['an encryption key without a use', () => [sigKey(), ecKey({})], ['--userinfo-encrypted-response-alg', 'ECDH-ES'],
      /userinfoEncryptedResponseAlg ECDH-ES: jwks key "ec" has no "use": mark the encryption key "use": "enc"/],
    ['an encryption key of the wrong type', () => [sigKey(), ecKey({ use: 'enc' })], ['--id-token-encrypted-response-alg', 'RSA-OAEP-256'],
      /no "use": "enc" key of the type RSA-OAEP-256 needs \(key "ec" is kty EC P-256\)/],
    ['an unknown floor', () => [sigKey()], ['--min-acr', 'low'], /minAcr: must be substantial or high/],
    ['a plain-http back-channel logout URI off the loopback', () => [sigKey()], ['--backchannel-logout-uri', 'http://tax.example/bc'], /backchannelLogoutUri: must be an absolute https URL/],
  ];

  it.each(refusals)('refuses %s with invalid_client_metadata, naming the problem', async (label, keys, extra, message) => {
    const id = `refused-${refusals.findIndex(([l]) => l === label)}`;
    const r = await add(id, jwksFile(`${id}.json`, keys()), ...extra);
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringMatching(message) });
  });
});
