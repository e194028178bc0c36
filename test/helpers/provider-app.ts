// The provider alone, for protocol tests: a test database, a signing key, agencies registered with
// an ES256 key each (kid a1), oidc-provider as the gateway configures it and the koa app around it
// without the capture routes. Requests go through supertest with the issuer's Host.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import pino from 'pino';
import { loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import { createApp, type AppDeps } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { openTestDatabase, type TestDatabase } from './db.ts';

export type TestAgency = { clientId: string; redirectUri: string; key: CryptoKey };
export type ProviderApp = {
  tdb: TestDatabase; app: Koa; provider: Provider; issuer: string; config: Config;
  agencies: Record<string, TestAgency>;
  close(): Promise<void>;
};
export type ProviderAppOptions = {
  /** Default: the pension office, redirecting to https://agency.example/callback. */
  agencies?: Array<{ clientId: string; redirectUri: string; name?: string }>;
  /** The environment the configuration is loaded from (default NODE_ENV=test). */
  env?: Record<string, string>;
  /** The app's proxy and https settings (default: no proxy trusted, no https redirect). */
  app?: Partial<Pick<AppDeps, 'trustProxy' | 'proxyHops' | 'httpsOrigin'>>;
};

export async function startProviderApp(options: ProviderAppOptions = {}): Promise<ProviderApp> {
  const tdb = await openTestDatabase();
  try {
    const signing = await generateKeyPair('PS256', { extractable: true });
    const jwks = { keys: [{ ...await exportJWK(signing.privateKey), alg: 'PS256', use: 'sig', kid: 'k1' }] };
    const agencies: Record<string, TestAgency> = {};
    for (const a of options.agencies ?? [{ clientId: 'pension-office', name: 'Pension office', redirectUri: 'https://agency.example/callback' }]) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      agencies[a.clientId] = { clientId: a.clientId, redirectUri: a.redirectUri, key: pair.privateKey };
      await registerClient(tdb.db, buildAgencyMetadata({
        clientId: a.clientId, name: a.name ?? a.clientId, redirectUris: [a.redirectUri],
        jwks: { keys: [{ ...await exportJWK(pair.publicKey), alg: 'ES256', use: 'sig', kid: 'a1' }] },
      }));
    }
    const config = loadConfig(options.env ?? { NODE_ENV: 'test' }, { server: { logLevel: 'silent' }, database: tdb.database, demo: { enabled: false } });
    const provider = createProvider({ config, db: tdb.db, jwks });
    const app = createApp({
      provider, routers: [], logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: {},
      trustProxy: false, proxyHops: 1, ...options.app,
    });
    return { tdb, app, provider, issuer: config.server.issuer, config, agencies, close: () => tdb.close() };
  } catch (err) {
    await tdb.close();
    throw err;
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** The agency's private_key_jwt client assertion for the issuer, valid a minute; `claims` override. */
export const clientAssertion = (issuer: string, agency: TestAgency, claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: agency.clientId, sub: agency.clientId, aud: issuer, jti: randomUUID(), iat: now(), exp: now() + 60, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'a1' }).sign(agency.key);
