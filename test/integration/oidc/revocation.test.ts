// Revocation (RFC 7009) across agencies: an agency revoking another agency's token is answered as
// for an unknown token (200) and revokes nothing, so it learns nothing about the token; the agency
// it was issued to revokes it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import { buildAgencyMetadata, registerClient } from '../../../src/oidc/clients.ts';
import { createProvider } from '../../../src/oidc/provider.ts';
import { createApp } from '../../../src/server/app.ts';
import { createMetrics } from '../../../src/server/metrics.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

let tdb: TestDatabase;
let app: Koa;
let provider: Provider;
let issuer: string;
const keys: Record<string, CryptoKey> = {};

beforeAll(async () => {
  tdb = await openTestDatabase();
  const signing = await generateKeyPair('PS256', { extractable: true });
  const jwks = { keys: [{ ...await exportJWK(signing.privateKey), alg: 'PS256', use: 'sig', kid: 'k1' }] };
  for (const [clientId, host] of [['pension-office', 'pension.example'], ['tax-office', 'tax.example']]) {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys[clientId] = pair.privateKey;
    await registerClient(tdb.db, buildAgencyMetadata({
      clientId, name: clientId, redirectUris: [`https://${host}/callback`],
      jwks: { keys: [{ ...await exportJWK(pair.publicKey), alg: 'ES256', use: 'sig', kid: 'a1' }] },
    }));
  }
  const config = loadConfig({ NODE_ENV: 'test' }, { server: { logLevel: 'silent' }, database: tdb.database, demo: { enabled: false } });
  issuer = config.server.issuer;
  provider = createProvider({ config, db: tdb.db, jwks });
  app = createApp({ provider, routers: [], logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: {}, trustProxy: false, proxyHops: 1 });
});

afterAll(async () => {
  await tdb?.close();
});

const revoke = async (clientId: string, token: string) => request(app.callback()).post('/token/revocation').set('Host', new URL(issuer).host).type('form').send({
  token, client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: await new SignJWT({ iss: clientId, sub: clientId, aud: issuer, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'a1' }).setIssuedAt().setExpirationTime('1m').sign(keys[clientId]),
});

describe('token revocation', () => {
  it('answers another agency as for an unknown token and revokes nothing; the issuing agency revokes it', async () => {
    const client = (await provider.Client.find('pension-office'))!;
    const token = await new provider.AccessToken({ accountId: 'c1', client, scope: 'openid', grantId: 'g1', gty: 'authorization_code' }).save();
    const unknown = await revoke('tax-office', 'not-a-token');
    const other = await revoke('tax-office', token);
    expect([other.status, other.body]).toEqual([unknown.status, unknown.body]);
    expect(other.status).toBe(200);
    expect(await provider.AccessToken.find(token)).toBeDefined();
    expect((await revoke('pension-office', token)).status).toBe(200);
    expect(await provider.AccessToken.find(token)).toBeUndefined();
  });
});
