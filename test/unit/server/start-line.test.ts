// The line logged once the gateway listens (src/server/start-line.ts): its URLs, and the warning
// about development secrets only while they are in use outside production.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../../config/load.ts';
import { startLine } from '../../../src/server/start-line.ts';

const key32 = () => randomBytes(32).toString('base64');
const fresh = () => ({
  FACEGATE_COOKIE_KEYS: randomBytes(32).toString('hex'), FACEGATE_DATA_KEYS: `k1:${key32()}`, FACEGATE_DATA_KEY_ID: 'k1',
  FACEGATE_DPOP_NONCE_SECRET: key32(), FACEGATE_PAIRWISE_SALT: randomBytes(32).toString('hex'), FACEGATE_CSRF_SECRET: randomBytes(32).toString('hex'),
  FACEGATE_AUDIT_KEYS: `a1:${key32()}`, FACEGATE_AUDIT_KEY_ID: 'a1',
});

describe('startLine', () => {
  it('names the gateway, the demo agency and the enrollment page, and warns of the development secrets', () => {
    expect(startLine(loadConfig({ PORT: '3000' }))).toBe('Facegate listening: gateway http://localhost:3000 · demo agency http://localhost:3000/demo'
      + ' · enrollment http://localhost:3000/demo/enroll (development secrets in use: not for production)');
  });

  it('warns while a single development secret is left', () => {
    expect(startLine(loadConfig({ ...fresh(), FACEGATE_CSRF_SECRET: undefined }))).toMatch(/\(development secrets in use: not for production\)$/);
  });

  it('names the gateway alone without the demo, and no warning with fresh secrets', () => {
    expect(startLine(loadConfig({ ...fresh(), FACEGATE_DEMO: 'false', FACEGATE_ISSUER: 'https://id.gov.example/' }))).toBe('Facegate listening: gateway https://id.gov.example');
  });

  it('has no warning in production, where the demo is off', () => {
    expect(startLine(loadConfig({ ...fresh(), NODE_ENV: 'production', FACEGATE_ISSUER: 'https://id.gov.example', FACEGATE_TRUST_PROXY: 'true' }))).toBe('Facegate listening: gateway https://id.gov.example');
  });
});
