// The audit key (finding 17): a keyring from configuration, never from the database; a public
// development key outside production, refused in production; at least 32 bytes.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/load.ts';

const key = (n = 32) => randomBytes(n).toString('base64');
const longSecret = () => randomBytes(32).toString('hex');
const production = (over: Record<string, string | undefined> = {}) => ({
  NODE_ENV: 'production', FACEGATE_ISSUER: 'https://id.gov.example', FACEGATE_TRUST_PROXY: 'true',
  FACEGATE_COOKIE_KEYS: longSecret(), FACEGATE_DATA_KEYS: `k1:${key()}`, FACEGATE_DATA_KEY_ID: 'k1',
  FACEGATE_DPOP_NONCE_SECRET: key(), FACEGATE_PAIRWISE_SALT: longSecret(), FACEGATE_CSRF_SECRET: longSecret(),
  FACEGATE_AUDIT_KEYS: `a2026:${key()}`, FACEGATE_AUDIT_KEY_ID: 'a2026',
  ...over,
});

const errorOf = (fn: () => unknown): { code?: unknown; message?: string } => {
  try { fn(); } catch (err) { return err as { code?: unknown; message?: string }; }
  return {};
};

describe('secrets.auditKeys', () => {
  it('has a development keyring outside production', () => {
    const c = loadConfig({});
    expect(c.secrets.auditKeyId).toBe('dev');
    expect(Object.keys(c.secrets.auditKeys)).toEqual(['dev']);
  });

  it('reads FACEGATE_AUDIT_KEYS as a whole keyring (not merged into the development one) and FACEGATE_AUDIT_KEY_ID', () => {
    const [a, b] = [key(), key(48)];
    const c = loadConfig({ FACEGATE_AUDIT_KEYS: `old:${a},new:${b}`, FACEGATE_AUDIT_KEY_ID: 'new' });
    expect(c.secrets.auditKeys).toEqual({ old: a, new: b });
    expect(c.secrets.auditKeyId).toBe('new');
  });

  it('loads in production with a fresh audit key', () => {
    expect(loadConfig(production()).secrets.auditKeyId).toBe('a2026');
  });

  it('refuses production without an audit key of its own, naming secrets.auditKeys', () => {
    const err = errorOf(() => loadConfig(production({ FACEGATE_AUDIT_KEYS: undefined, FACEGATE_AUDIT_KEY_ID: undefined })));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('secrets.auditKeys');
  });

  it('refuses a key shorter than 32 bytes and a key id that is not in the keyring', () => {
    const short = errorOf(() => loadConfig({ FACEGATE_AUDIT_KEYS: `s:${key(16)}`, FACEGATE_AUDIT_KEY_ID: 's' }));
    expect(short.code).toBe('invalid_config');
    expect(short.message).toContain('secrets.auditKeys.s');
    const missing = errorOf(() => loadConfig(production({ FACEGATE_AUDIT_KEY_ID: 'a2027' })));
    expect(missing.code).toBe('invalid_config');
    expect(missing.message).toContain('secrets.auditKeyId');
  });
});
