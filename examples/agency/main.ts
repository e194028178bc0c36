// Runs the example agency against a local gateway: `npm run example:agency` (add `-- --register`
// the first time, with the gateway's own environment, to register it through the operator CLI).
// Its keys are made once and kept in examples/agency/.keys.json (git-ignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgency, generateAgencyKeys, publicJwks, type AgencyKeys } from './agency.ts';

const here = new URL('.', import.meta.url).pathname;
const issuer = process.env.FACEGATE_ISSUER ?? `http://localhost:${process.env.PORT ?? 3000}`;
const clientId = process.env.AGENCY_CLIENT_ID ?? 'example-agency';
const port = Number(process.env.AGENCY_PORT ?? 4000);
const baseUrl = `http://127.0.0.1:${port}`;
const keysFile = join(here, '.keys.json');

if (!existsSync(keysFile)) writeFileSync(keysFile, JSON.stringify(await generateAgencyKeys(), null, 2), { mode: 0o600 });
const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as AgencyKeys;

/** The operator's registration of this agency (what an agency sends its gateway's operator). */
export function registrationArgs(jwksFile: string): string[] {
  return [
    'clients', 'add', '--client-id', clientId, '--name', 'Example agency', '--redirect-uri', `${baseUrl}/callback`,
    '--jwks', jwksFile, '--scopes', 'openid,profile', '--post-logout-redirect-uri', `${baseUrl}/`,
    '--backchannel-logout-uri', `${baseUrl}/backchannel-logout`,
    '--id-token-encrypted-response-alg', 'RSA-OAEP-256', '--userinfo-encrypted-response-alg', 'RSA-OAEP-256',
  ];
}

if (process.argv.includes('--register')) {
  const dir = mkdtempSync(join(tmpdir(), 'agency-'));
  try {
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(publicJwks(keys)));
    process.stdout.write(execFileSync(join(here, '../../bin/facegate'), registrationArgs(jwksFile), { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const agency = await createAgency({ issuer, clientId, baseUrl, keys, encrypted: true, verifiedClaims: ['given_name', 'family_name', 'birthdate'] });
const handle = agency.app.callback();
createServer((req, res) => void handle(req, res)).listen(port, '127.0.0.1', () => {
  process.stdout.write(`example agency ${clientId} on ${baseUrl} (gateway ${issuer})\n`);
});
