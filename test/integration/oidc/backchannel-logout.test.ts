// Back-channel logout without a browser (src/oidc/backchannel-logout.ts): sessions that expire are
// ended by the housekeeping sweep and their agencies, listening on a real local HTTP server, get a
// logout token from oidc-provider; a refused delivery is sent again after the configured delays,
// each attempt audited with its token's jti; an agency registered for encrypted ID tokens gets its
// logout token encrypted the same way. Discovery advertises it all.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactDecrypt, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { createAdapterFactory, pruneExpired, takeExpiredSessions } from '../../../src/oidc/adapter.ts';
import { createLogoutDelivery, type LogoutDelivery } from '../../../src/oidc/backchannel-logout.ts';
import { buildAgencyMetadata, registerClient } from '../../../src/oidc/clients.ts';
import { createProvider } from '../../../src/oidc/provider.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

type Received = { path: string; token: string };
let tdb: TestDatabase;
let config: Readonly<Config>;
let provider: Provider;
let logouts: LogoutDelivery;
let server: Server;
let base: string;
let publicJwks: { keys: object[] };
let encKey: CryptoKey;
const received: Received[] = [];
/** The status the agency answers, per path, in turn (then 204). */
const answers = new Map<string, number[]>();
const events = 'http://schemas.openid.net/event/backchannel-logout';

const agency = async (clientId: string, path: string, extra: { encrypt?: boolean } = {}) => {
  const sig = await generateKeyPair('ES256', { extractable: true });
  const keys: object[] = [{ ...await exportJWK(sig.publicKey), use: 'sig', alg: 'ES256', kid: `${clientId}-sig` }];
  if (extra.encrypt) {
    const enc = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    encKey = enc.privateKey;
    keys.push({ ...await exportJWK(enc.publicKey), use: 'enc', alg: 'RSA-OAEP-256', kid: `${clientId}-enc` });
  }
  await registerClient(tdb.db, buildAgencyMetadata({
    clientId, name: clientId, redirectUris: [`https://${clientId}.example/cb`], jwks: { keys },
    backchannelLogoutUri: `${base}${path}`, ...(extra.encrypt ? { idTokenEncryptedResponseAlg: 'RSA-OAEP-256' } : {}),
  }));
};

/** Stores a session of `accountId` with one sid per agency, expired by `now` + 1 s. */
const session = async (id: string, accountId: string, authorizations: Record<string, { sid: string }>) => {
  const Adapter = createAdapterFactory(tdb.db);
  await new Adapter('Session').upsert(id, { jti: id, uid: `uid-${id}`, kind: 'Session', accountId, authorizations } as never, 1);
};
const later = () => Date.now() + 3_600_000;

const verify = async (token: string) => {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(publicJwks as never), { issuer: config.server.issuer, typ: 'logout+jwt' });
  return { payload: payload as JWTPayload & { sid?: string; events?: object; nonce?: string }, header: protectedHeader };
};
const auditRows = async (type: string) => (await tdb.db('audit_events').where({ type }).orderBy('id'))
  .map((r: { client_id: string; citizen_id: string; code: string | null; details: string }): Record<string, unknown> => ({ clientId: r.client_id, citizenId: r.citizen_id, code: r.code, ...JSON.parse(r.details) as object }));

beforeAll(async () => {
  tdb = await openTestDatabase();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, token: new URLSearchParams(body).get('logout_token') ?? '' });
      res.statusCode = answers.get(path)?.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config = loadConfig({ NODE_ENV: 'test' }, {
    server: { logLevel: 'silent' }, database: tdb.database, demo: { enabled: false },
    oidc: { outbound: { allowPrivateNetworks: true }, backchannelLogout: { retryDelaysMs: [100, 300] } },
  });
  const signing = await generateKeyPair('PS256', { extractable: true });
  const jwk = { ...await exportJWK(signing.privateKey), alg: 'PS256', use: 'sig', kid: 'gw-1' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  publicJwks = { keys: [publicJwk] };
  // The agency listens on the loopback, which oidc-provider's own dispatcher refuses (SSRF): the
  // provider's requests go out through Node's fetch without it, as the gateway's outbound fetch
  // does with oidc.outbound.allowPrivateNetworks.
  const loopbackFetch: NonNullable<Parameters<typeof createProvider>[0]['fetch']> = (url, options) => {
    const { dispatcher: _refusesLoopback, ...rest } = options as RequestInit & { dispatcher?: unknown };
    return fetch(url, rest);
  };
  provider = createProvider({ config, db: tdb.db, jwks: { keys: [jwk] }, fetch: loopbackFetch });
  logouts = createLogoutDelivery(provider, tdb.db, {
    audit: createAudit(tdb.db, Date.now, config.secrets), retryDelaysMs: config.oidc.backchannelLogout.retryDelaysMs,
    onError: (err) => { throw err; },
  });
  await agency('pension-office', '/pension');
  await agency('tax-office', '/tax');
  await agency('police-eid', '/police', { encrypt: true });
});

afterEach(() => {
  received.length = 0;
  answers.clear();
});

afterAll(async () => {
  logouts?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await tdb?.close();
});

describe('discovery', () => {
  it('advertises back-channel logout with sid, and ID token and userinfo encryption (RSA-OAEP-256, ECDH-ES; A256GCM)', async () => {
    const { body } = await request(provider.callback()).get('/.well-known/openid-configuration');
    expect(body).toMatchObject({
      backchannel_logout_supported: true, backchannel_logout_session_supported: true,
      id_token_encryption_alg_values_supported: ['RSA-OAEP-256', 'ECDH-ES'], id_token_encryption_enc_values_supported: ['A256GCM'],
      userinfo_encryption_alg_values_supported: ['RSA-OAEP-256', 'ECDH-ES'], userinfo_encryption_enc_values_supported: ['A256GCM'],
    });
  });
});

describe('expired sessions', () => {
  it('are kept by pruneExpired and taken once each by concurrent sweeps', async () => {
    for (let i = 0; i < 6; i++) await session(`race-${i}`, `citizen-${i}`, {});
    expect(await pruneExpired(tdb.db, later())).toBe(0);
    const [a, b] = await Promise.all([takeExpiredSessions(tdb.db, later(), 4), takeExpiredSessions(tdb.db, later(), 4)]);
    const rest = await takeExpiredSessions(tdb.db, later(), 4);
    const ids = [...a, ...b, ...rest].map((s) => s.id).sort();
    expect(ids).toEqual(['race-0', 'race-1', 'race-2', 'race-3', 'race-4', 'race-5']);
    expect(await takeExpiredSessions(tdb.db, later())).toEqual([]);
  });

  it('send each agency of the session a signed logout token with its sid and the events claim', async () => {
    await session('s-1', 'citizen-1', { 'pension-office': { sid: 'sid-pension' }, 'tax-office': { sid: 'sid-tax' } });
    expect(await logouts.endExpiredSessions(later())).toBe(1);
    expect(received.map((r) => r.path).sort()).toEqual(['/pension', '/tax']);
    const byPath = Object.fromEntries(await Promise.all(received.map(async (r) => [r.path, await verify(r.token)] as const)));
    expect(byPath['/pension'].payload).toMatchObject({ aud: 'pension-office', sid: 'sid-pension', events: { [events]: {} } });
    expect(byPath['/tax'].payload).toMatchObject({ aud: 'tax-office', sid: 'sid-tax', events: { [events]: {} } });
    // sub is each agency's pairwise subject (different sectors), never the internal id; no nonce.
    expect(byPath['/pension'].payload.sub).not.toBe('citizen-1');
    expect(byPath['/pension'].payload.sub).not.toBe(byPath['/tax'].payload.sub);
    expect(byPath['/pension'].payload).not.toHaveProperty('nonce');
    expect(byPath['/pension'].header).toMatchObject({ alg: 'PS256', kid: 'gw-1' });
    const ok = (await auditRows('oidc.backchannel.success')).filter((r) => r.reason === 'session_expired');
    expect(ok).toEqual(expect.arrayContaining([
      expect.objectContaining({ clientId: 'pension-office', citizenId: 'citizen-1', attempt: 1, jti: byPath['/pension'].payload.jti }),
      expect.objectContaining({ clientId: 'tax-office', citizenId: 'citizen-1', attempt: 1, jti: byPath['/tax'].payload.jti }),
    ]));
    // The session is gone: a second sweep tells nobody.
    expect(await logouts.endExpiredSessions(later())).toBe(0);
    expect(received).toHaveLength(2);
  });

  it('retry a refused delivery with a new token after the first delay, and audit the failure with its jti', async () => {
    answers.set('/pension', [500]);
    await session('s-2', 'citizen-2', { 'pension-office': { sid: 'sid-2' } });
    const t0 = Date.now();
    await logouts.endExpiredSessions(later());
    await logouts.idle();
    expect(received).toHaveLength(2);
    const [first, second] = await Promise.all(received.map((r) => verify(r.token)));
    expect(first.payload.sid).toBe('sid-2');
    expect(second.payload.sid).toBe('sid-2');
    expect(second.payload.jti).not.toBe(first.payload.jti);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    const failures = (await auditRows('oidc.backchannel.error')).filter((r) => r.citizenId === 'citizen-2');
    expect(failures).toEqual([expect.objectContaining({
      clientId: 'pension-office', code: 'logout_delivery_failed', jti: first.payload.jti, attempt: 1, retry_in_ms: 100, error: 'HTTP 500', reason: 'session_expired',
    })]);
    const success = (await auditRows('oidc.backchannel.success')).filter((r) => r.citizenId === 'citizen-2');
    expect(success).toEqual([expect.objectContaining({ jti: second.payload.jti, attempt: 2 })]);
  });

  it('give up after the last delay, the last failure audited as such', async () => {
    answers.set('/tax', [503, 503, 503, 503]);
    await session('s-3', 'citizen-3', { 'tax-office': { sid: 'sid-3' } });
    await logouts.endExpiredSessions(later());
    await logouts.idle();
    expect(received).toHaveLength(3);
    const jtis = await Promise.all(received.map(async (r) => (await verify(r.token)).payload.jti));
    const failures = (await auditRows('oidc.backchannel.error')).filter((r) => r.citizenId === 'citizen-3');
    expect(failures.map((f) => [f.attempt, f.jti, f.retry_in_ms, f.gave_up])).toEqual([
      [1, jtis[0], 100, undefined], [2, jtis[1], 300, undefined], [3, jtis[2], undefined, true],
    ]);
  });

  it('encrypt the logout token to the agency that registered encrypted ID tokens', async () => {
    await session('s-4', 'citizen-4', { 'police-eid': { sid: 'sid-4' } });
    await logouts.endExpiredSessions(later());
    expect(received).toHaveLength(1);
    expect(decodeProtectedHeader(received[0].token)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'police-eid-enc', cty: 'JWT' });
    const inner = new TextDecoder().decode((await compactDecrypt(received[0].token, encKey)).plaintext);
    expect((await verify(inner)).payload).toMatchObject({ aud: 'police-eid', sid: 'sid-4', events: { [events]: {} } });
  });
});
