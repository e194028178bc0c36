// A real gateway for a test file: HTTP on a free port, its own database (SQLite or a PostgreSQL
// schema), the worker pool on the real models, and helpers to enroll citizens and register agencies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { createEnginePool } from '../../src/biometrics/pool.ts';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { enrollCitizen } from '../../src/registry/enroll.ts';
import { createGateway, type Gateway } from '../../src/server/gateway.ts';
import { createSealer } from '../../src/shared/sealed.ts';
import { openTestDatabase, type TestDatabase } from './db.ts';

export type TestGateway = {
  issuer: string; config: Readonly<Config>; gateway: Gateway; database: TestDatabase;
  enroll(nationalId: string, photo: Uint8Array): Promise<string>;
  registerAgency(input: { clientId: string; jwks: object; scopes?: string[]; redirectUri?: string; sector?: string; postLogoutRedirectUris?: string[]; authorizationDetailsTypes?: string[] }): Promise<void>;
  close(): Promise<void>;
};

/** `host`: the issuer's host name (`localhost` for passkeys: a WebAuthn RP ID is a domain, never an IP); it listens on 127.0.0.1 either way. */
export async function startTestGateway(overrides: Record<string, unknown> = {}, options: { host?: 'localhost' | '127.0.0.1' } = {}): Promise<TestGateway> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const database = await openTestDatabase();
  const config = loadConfig({ NODE_ENV: 'test' }, {
    server: { port, issuer, logLevel: 'silent' }, database: database.database, demo: { enabled: false }, ...overrides,
  });
  const analyzer = await createEnginePool(config.biometrics, 2);
  const gateway = await createGateway(config, { logger: pino({ level: 'silent' }), db: database.db, analyzer });
  const handle = gateway.app.callback();
  server.on('request', (req, res) => void handle(req, res));
  server.on('upgrade', gateway.upgrade);
  const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
  return {
    issuer, config, gateway, database,
    async enroll(nationalId, photo) {
      const r = await enrollCitizen({ db: database.db, analyzer, sealer, clock: Date.now }, {
        nationalId, givenName: 'Test', familyName: `Citizen ${nationalId}`, birthdate: '1961-08-04', address: '1 Main Street, Capital City',
      }, photo);
      return r.citizen.id;
    },
    async registerAgency({ clientId, jwks, scopes, redirectUri, sector, postLogoutRedirectUris, authorizationDetailsTypes }) {
      await registerClient(database.db, buildAgencyMetadata({
        clientId, name: `Agency ${clientId}`, redirectUris: [redirectUri ?? 'https://agency.example/callback'], postLogoutRedirectUris, jwks, scopes, sector, authorizationDetailsTypes,
      }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await analyzer.close();
      await database.close();
    },
  };
}
