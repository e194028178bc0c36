import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdapterConstructor } from 'oidc-provider';
import { createAdapterFactory, pruneExpired } from '../../../src/oidc/adapter.ts';
import { findClient, listClients, registerClient, removeClient, upsertClient } from '../../../src/oidc/clients.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const t0 = 1_700_000_000_000;
let now = t0;
let tdb: TestDatabase;
let Adapter: AdapterConstructor;

const rows = (where: Record<string, string>) => tdb.db('oidc_payloads').where(where).select('type', 'id');

beforeAll(async () => {
  tdb = await openTestDatabase();
  Adapter = createAdapterFactory(tdb.db, () => now);
});

afterAll(async () => {
  await tdb.close();
});

describe('payload adapter', () => {
  it('finds what it upserted, per model', async () => {
    const payload = { jti: 'at-1', kind: 'AccessToken', accountId: 'c1', scope: 'openid' };
    await new Adapter('AccessToken').upsert('at-1', payload, 60);
    expect(await new Adapter('AccessToken').find('at-1')).toEqual(payload);
    expect(await new Adapter('RefreshToken').find('at-1')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('nope')).toBeUndefined();
  });

  it('upsert is idempotent: one row, the last payload wins', async () => {
    const a = new Adapter('Session');
    await a.upsert('s-1', { uid: 'u-1', accountId: 'c1' }, 60);
    await a.upsert('s-1', { uid: 'u-2', accountId: 'c2' }, 60);
    expect(await rows({ type: 'Session', id: 's-1' })).toHaveLength(1);
    expect(await a.find('s-1')).toEqual({ uid: 'u-2', accountId: 'c2' });
    expect(await a.findByUid('u-1')).toBeUndefined();
  });

  it('hides a row once expires_at is reached, and keeps rows without expiry', async () => {
    const a = new Adapter('Interaction');
    await a.upsert('i-exp', { uid: 'i-exp' }, 10);
    await a.upsert('i-forever', { uid: 'i-forever' });
    now = t0 + 9_999;
    expect(await a.find('i-exp')).toBeDefined();
    now = t0 + 10_000;
    expect(await a.find('i-exp')).toBeUndefined();
    expect(await a.find('i-forever')).toBeDefined();
    now = t0;
  });

  it('finds a session by uid and a device code by user code, not after expiry', async () => {
    await new Adapter('Session').upsert('s-uid', { uid: 'uid-42' }, 30);
    await new Adapter('DeviceCode').upsert('dc-1', { userCode: 'ABCD-EFGH', grantId: 'g-dc' }, 30);
    expect(await new Adapter('Session').findByUid('uid-42')).toEqual({ uid: 'uid-42' });
    expect(await new Adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
    expect(await new Adapter('Session').findByUserCode('ABCD-EFGH')).toBeUndefined();
    now = t0 + 30_000;
    expect(await new Adapter('Session').findByUid('uid-42')).toBeUndefined();
    expect(await new Adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toBeUndefined();
    now = t0;
  });

  it('marks a consumed row with consumed in epoch seconds, and a re-save keeps it', async () => {
    const a = new Adapter('AuthorizationCode');
    await a.upsert('code-c', { grantId: 'g-c' }, 60);
    expect((await a.find('code-c'))?.consumed).toBeUndefined();
    now = t0 + 1_500;
    await a.consume('code-c');
    expect(await a.find('code-c')).toEqual({ grantId: 'g-c', consumed: Math.floor((t0 + 1_500) / 1000) });
    await a.upsert('code-c', { grantId: 'g-c' }, 60);
    expect((await a.find('code-c'))?.consumed).toBe(Math.floor((t0 + 1_500) / 1000));
    now = t0;
  });

  it('destroys one row', async () => {
    const a = new Adapter('Grant');
    await a.upsert('g-d', { accountId: 'c1' }, 60);
    await a.destroy('g-d');
    expect(await a.find('g-d')).toBeUndefined();
  });

  it('revokeByGrantId deletes the grant\'s rows of every token model and nothing else', async () => {
    await new Adapter('AccessToken').upsert('r-at', { grantId: 'g-r' }, 60);
    await new Adapter('RefreshToken').upsert('r-rt', { grantId: 'g-r' }, 60);
    await new Adapter('AuthorizationCode').upsert('r-code', { grantId: 'g-r' }, 60);
    await new Adapter('AccessToken').upsert('other-at', { grantId: 'g-other' }, 60);
    await new Adapter('Interaction').upsert('r-int', { grantId: 'g-r' }, 60);
    await new Adapter('RefreshToken').revokeByGrantId('g-r');
    expect(await new Adapter('AccessToken').find('r-at')).toBeUndefined();
    expect(await new Adapter('RefreshToken').find('r-rt')).toBeUndefined();
    expect(await new Adapter('AuthorizationCode').find('r-code')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('other-at')).toBeDefined();
    expect(await new Adapter('Interaction').find('r-int')).toBeDefined();
  });

  it('pruneExpired deletes expired rows only and returns the count', async () => {
    await tdb.db('oidc_payloads').delete();
    const a = new Adapter('ReplayDetection');
    await a.upsert('p-1', {}, 5);
    await a.upsert('p-2', {}, 5);
    await a.upsert('p-3', {}, 50);
    await a.upsert('p-4', {});
    expect(await pruneExpired(tdb.db, t0 + 5_000)).toBe(2);
    expect((await rows({ type: 'ReplayDetection' })).map((r) => r.id).sort()).toEqual(['p-3', 'p-4']);
    expect(await pruneExpired(tdb.db, t0 + 5_000)).toBe(0);
  });
});

describe('consume', () => {
  it('lets exactly one of two concurrent exchanges win; the other gets invalid_grant and the grant is revoked', async () => {
    await new Adapter('Grant').upsert('g-race', { accountId: 'c1' }, 600);
    await new Adapter('AuthorizationCode').upsert('code-race', { grantId: 'g-race' }, 60);
    await new Adapter('AccessToken').upsert('at-race', { grantId: 'g-race' }, 60);
    await new Adapter('AccessToken').upsert('at-bystander', { grantId: 'g-bystander' }, 60);
    const code = new Adapter('AuthorizationCode');
    const results = await Promise.allSettled([code.consume('code-race'), code.consume('code-race')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(await new Adapter('AccessToken').find('at-race')).toBeUndefined();
    expect(await new Adapter('Grant').find('g-race')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('at-bystander')).toBeDefined();
  });

  it('rejects consuming a missing code with invalid_grant', async () => {
    await expect(new Adapter('AuthorizationCode').consume('never-issued')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('rejects a second use of a pushed request with invalid_request_uri', async () => {
    const par = new Adapter('PushedAuthorizationRequest');
    await par.upsert('par-1', { request: 'x' }, 60);
    await par.consume('par-1');
    await expect(par.consume('par-1')).rejects.toMatchObject({ error: 'invalid_request_uri' });
  });
});

describe('Client model', () => {
  const agency = { client_id: 'tax.agency', client_name: 'Tax', redirect_uris: ['https://tax.example/cb'] };

  it('reads agencies from the clients table', async () => {
    await registerClient(tdb.db, agency, () => now);
    const client = new Adapter('Client');
    expect(await client.find('tax.agency')).toEqual(agency);
    expect(await client.find('unknown')).toBeUndefined();
    expect(await rows({ type: 'Client' })).toHaveLength(0);
  });

  it('writes through upsert and destroy; the other methods do nothing', async () => {
    const client = new Adapter('Client');
    await client.upsert('dyn.agency', { client_name: 'Dynamic' });
    expect(await findClient(tdb.db, 'dyn.agency')).toEqual({ client_name: 'Dynamic', client_id: 'dyn.agency' });
    await expect(client.consume('dyn.agency')).resolves.toBeUndefined();
    await expect(client.findByUid('dyn.agency')).resolves.toBeUndefined();
    await expect(client.findByUserCode('dyn.agency')).resolves.toBeUndefined();
    await expect(client.revokeByGrantId('dyn.agency')).resolves.toBeUndefined();
    await client.destroy('dyn.agency');
    expect(await findClient(tdb.db, 'dyn.agency')).toBeUndefined();
  });
});

describe('agency store', () => {
  it('refuses to register a taken client_id with client_exists', async () => {
    await registerClient(tdb.db, { client_id: 'dup.agency' });
    await expect(registerClient(tdb.db, { client_id: 'dup.agency' })).rejects.toMatchObject({ code: 'client_exists' });
  });

  it('upsertClient replaces the metadata of an existing agency', async () => {
    await upsertClient(tdb.db, { client_id: 'demo', client_name: 'Demo 1' });
    await upsertClient(tdb.db, { client_id: 'demo', client_name: 'Demo 2' });
    expect(await findClient(tdb.db, 'demo')).toEqual({ client_id: 'demo', client_name: 'Demo 2' });
  });

  it('lists agencies by client_id and removes one', async () => {
    await upsertClient(tdb.db, { client_id: 'zz.agency' });
    await upsertClient(tdb.db, { client_id: 'aa.agency' });
    const ids = (await listClients(tdb.db)).map((m) => m.client_id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['aa.agency', 'zz.agency']));
    expect(await removeClient(tdb.db, 'aa.agency')).toBe(true);
    expect(await removeClient(tdb.db, 'aa.agency')).toBe(false);
    expect(await findClient(tdb.db, 'aa.agency')).toBeUndefined();
  });
});
