// The loader's production rules (config/load.ts): development secrets refused, https issuer, key
// checks, secrets from files, and the defaults that depend on NODE_ENV.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';

type Env = Record<string, string | undefined>;

const key32 = () => randomBytes(32).toString('base64');
const longSecret = () => randomBytes(32).toString('hex');

/** Production with freshly generated secrets, as an operator would configure it. */
const freshProduction = (): Env => ({
  NODE_ENV: 'production',
  FACEGATE_TRUST_PROXY: 'true',
  FACEGATE_ISSUER: 'https://id.gov.example',
  FACEGATE_COOKIE_KEYS: `${longSecret()},${longSecret()}`,
  FACEGATE_DATA_KEYS: `k2025:${key32()}`,
  FACEGATE_DATA_KEY_ID: 'k2025',
  FACEGATE_DPOP_NONCE_SECRET: key32(),
  FACEGATE_PAIRWISE_SALT: longSecret(),
  FACEGATE_CSRF_SECRET: longSecret(),
  FACEGATE_AUDIT_KEYS: `a2026:${key32()}`,
  FACEGATE_AUDIT_KEY_ID: 'a2026',
});

/**
 * The same, but the keyring also overwrites the development key id "dev" with a fresh key: the loader
 * merges FACEGATE_DATA_KEYS into the development keyring (see the failing test below), so without it
 * every production configuration is refused and these tests would not test what they are named for.
 */
const production = (over: Env = {}): Env => ({
  ...freshProduction(),
  FACEGATE_DATA_KEYS: `dev:${key32()},k2025:${key32()}`,
  ...over,
});

const errorOf = (fn: () => unknown): { code?: unknown; message?: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: unknown; message?: string };
  }
  return {};
};

describe('loadConfig in production', () => {
  it('refuses the development secrets with invalid_config naming each of them', () => {
    const err = errorOf(() => loadConfig({ NODE_ENV: 'production', FACEGATE_ISSUER: 'https://id.gov.example' }));
    expect(err.code).toBe('invalid_config');
    for (const name of ['cookieKeys', 'dataKeys', 'dpopNonceSecret', 'pairwiseSalt', 'csrfSecret', 'auditKeys']) {
      expect(err.message).toContain(`secrets.${name}`);
    }
  });

  it.each([
    ['cookieKeys', { FACEGATE_COOKIE_KEYS: 'dev-only-cookie-key-0000000000000000000000' }],
    ['dpopNonceSecret', { FACEGATE_DPOP_NONCE_SECRET: 'ZGV2LW9ubHktZHBvcC1ub25jZS1zZWNyZXQtMDAwMDA=' }],
    ['pairwiseSalt', { FACEGATE_PAIRWISE_SALT: 'dev-only-pairwise-salt-000000000000000000' }],
    ['csrfSecret', { FACEGATE_CSRF_SECRET: 'dev-only-csrf-secret-00000000000000000000' }],
  ])('refuses a single development %s with invalid_config naming it', (name, env) => {
    const err = errorOf(() => loadConfig(production(env)));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain(`secrets.${name}`);
  });

  it('refuses the development data key among fresh ones with invalid_config naming dataKeys', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_DATA_KEYS: `dev:ZGV2LW9ubHktZGF0YS1rZXktMDAwMDAwMDAwMDAwMDA=,k2025:${key32()}` })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('secrets.dataKeys');
  });

  // A keyring from the environment replaces the development one as a whole (it is not merged into it).
  it('loads with fresh secrets and an https issuer', () => {
    const config = loadConfig(freshProduction());
    expect(config.env).toBe('production');
    expect(Object.keys(config.secrets.dataKeys)).toEqual(['k2025']);
  });

  it('loads with fresh secrets and an https issuer when the "dev" key id holds a fresh key', () => {
    const config = loadConfig(production());
    expect(config).toMatchObject({ env: 'production', server: { issuer: 'https://id.gov.example' }, secrets: { dataKeyId: 'k2025' } });
  });

  it('refuses an http issuer with invalid_config naming server.issuer', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_ISSUER: 'http://id.gov.example' })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('server.issuer');
  });

  it('refuses a production gateway that does not trust its TLS proxy, naming server.trustProxy', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_TRUST_PROXY: undefined })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('server.trustProxy');
    expect(loadConfig(production()).server.trustProxy).toBe(true);
  });

  it('refuses the default http://localhost issuer with invalid_config naming server.issuer', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_ISSUER: undefined })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('server.issuer');
  });

  it('refuses a data key that is not 32 bytes with invalid_config naming it', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_DATA_KEYS: `dev:${key32()},k2025:${randomBytes(16).toString('base64')}` })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('secrets.dataKeys.k2025');
  });

  it('refuses FACEGATE_DATA_KEY_ID naming a key that is not in the keyring', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_DATA_KEY_ID: 'k2026' })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('secrets.dataKeyId');
  });

  it('refuses a DPoP nonce secret that is not 32 bytes', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_DPOP_NONCE_SECRET: randomBytes(48).toString('base64') })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('secrets.dpopNonceSecret');
  });

  it('reads the cookie keys from FACEGATE_COOKIE_KEYS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-config-'));
    const [a, b] = [longSecret(), longSecret()];
    writeFileSync(join(dir, 'cookie-keys'), `${a},${b}\n`);
    const config = loadConfig(production({ FACEGATE_COOKIE_KEYS: undefined, FACEGATE_COOKIE_KEYS_FILE: join(dir, 'cookie-keys') }));
    expect(config.secrets.cookieKeys).toEqual([a, b]);
  });

  it('turns the demo off by default', () => {
    expect(loadConfig(production()).demo.enabled).toBe(false);
  });
});

describe('loadConfig defaults that depend on the environment', () => {
  it('turns the demo on by default in development', () => {
    expect(loadConfig({}).demo.enabled).toBe(true);
  });

  it('derives the issuer http://localhost:PORT from PORT', () => {
    expect(loadConfig({ PORT: '4123' })).toMatchObject({ server: { port: 4123, issuer: 'http://localhost:4123' } });
  });

  it('refuses a data key that is not 32 bytes in development too', () => {
    expect(errorOf(() => loadConfig({ FACEGATE_DATA_KEYS: 'short:c2hvcnQ=', FACEGATE_DATA_KEY_ID: 'short' })).code).toBe('invalid_config');
  });
});
