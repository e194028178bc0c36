// Replay detection of client assertions and DPoP proofs (ReplayDetection.unique) on one database
// shared by two instances, each with its own connection pool: of parallel uses of one jti, exactly
// one is accepted. SQLite by default, PostgreSQL with FACEGATE_TEST_DATABASE_URL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type Provider from 'oidc-provider';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { createAdapterFactory, replayDetectedCode } from '../../../src/oidc/adapter.ts';
import { buildAgencyMetadata, registerClient } from '../../../src/oidc/clients.ts';
import { createProvider } from '../../../src/oidc/provider.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

let tdb: TestDatabase;
let dbB: Db;
let instances: Provider[];
let issuer: string;
let agencyKey: CryptoKey;

const epoch = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  tdb = await openTestDatabase();
  dbB = openDatabase(tdb.database);
  const { privateKey } = await generateKeyPair('PS256', { extractable: true });
  const jwks = { keys: [{ ...await exportJWK(privateKey), alg: 'PS256', use: 'sig', kid: 'k1' }] };
  const config = loadConfig({ NODE_ENV: 'test' }, { server: { logLevel: 'silent' }, database: tdb.database, demo: { enabled: false } });
  issuer = config.server.issuer;
  instances = [createProvider({ config, db: tdb.db, jwks }), createProvider({ config, db: dbB, jwks })];
  const agency = await generateKeyPair('ES256', { extractable: true });
  agencyKey = agency.privateKey;
  await registerClient(tdb.db, buildAgencyMetadata({
    clientId: 'pension-office', name: 'Pension office', redirectUris: ['https://agency.example/callback'],
    jwks: { keys: [{ ...await exportJWK(agency.publicKey), alg: 'ES256', use: 'sig', kid: 'a1' }] },
  }));
});

afterAll(async () => {
  await dbB?.destroy();
  await tdb?.close();
});

describe('ReplayDetection.unique', () => {
  it('accepts exactly one of 40 parallel uses of one jti across two instances', async () => {
    const jti = randomUUID();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      instances[i % 2].ReplayDetection.unique('pension-office', jti, epoch() + 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('accepts each of 20 different jtis once, in parallel', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      instances[i % 2].ReplayDetection.unique('pension-office', randomUUID(), epoch() + 60)));
    expect(results.every(Boolean)).toBe(true);
  });

  it('keeps one jti apart per issuer', async () => {
    const jti = randomUUID();
    expect(await instances[0].ReplayDetection.unique('pension-office', jti, epoch() + 60)).toBe(true);
    expect(await instances[1].ReplayDetection.unique('tax-office', jti, epoch() + 60)).toBe(true);
    expect(await instances[1].ReplayDetection.unique('pension-office', jti, epoch() + 60)).toBe(false);
  });
});

describe('a client assertion sent in parallel to two instances', () => {
  it('authenticates one request; the others get invalid_client', async () => {
    const assertion = await new SignJWT({ iss: 'pension-office', sub: 'pension-office', aud: issuer, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'a1' }).setIssuedAt().setExpirationTime('1m').sign(agencyKey);
    const apps = instances.map((p) => p.callback());
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => request(apps[i % 2]).post('/token/introspection').type('form').send({
      token: 'x', client_id: 'pension-office',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 401 && r.body.error === 'invalid_client')).toHaveLength(19);
  });
});

describe('ReplayDetection adapter', () => {
  const t0 = 1_700_000_000_000;

  it('refuses a second save of a stored id with replay_detected', async () => {
    const Adapter = createAdapterFactory(tdb.db, () => t0);
    await new Adapter('ReplayDetection').upsert('rd-dup', { iss: 'a' }, 60);
    await expect(new Adapter('ReplayDetection').upsert('rd-dup', { iss: 'a' }, 60)).rejects.toMatchObject({ code: replayDetectedCode });
  });

  it('stores an id again once its row expired', async () => {
    let now = t0;
    const Adapter = createAdapterFactory(tdb.db, () => now);
    await new Adapter('ReplayDetection').upsert('rd-exp', { iss: 'a' }, 5);
    now = t0 + 4_999;
    await expect(new Adapter('ReplayDetection').upsert('rd-exp', { iss: 'a' }, 5)).rejects.toMatchObject({ code: replayDetectedCode });
    now = t0 + 5_000;
    await new Adapter('ReplayDetection').upsert('rd-exp', { iss: 'b' }, 5);
    const row = await tdb.db('oidc_payloads').where({ type: 'ReplayDetection', id: 'rd-exp' }).first() as { payload: string };
    expect(JSON.parse(row.payload)).toEqual({ iss: 'b' });
  });

  it('reads nothing on find: the save alone decides whether an id is new', async () => {
    const Adapter = createAdapterFactory(tdb.db, () => t0);
    await new Adapter('ReplayDetection').upsert('rd-find', { iss: 'a' }, 60);
    expect(await new Adapter('ReplayDetection').find('rd-find')).toBeUndefined();
    await expect(new Adapter('ReplayDetection').upsert('rd-find', { iss: 'a' }, 60)).rejects.toMatchObject({ code: replayDetectedCode });
  });
});
