import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/load.ts';

describe('loadConfig', () => {
  it('applies environment overrides over the defaults', () => {
    const c = loadConfig({ FACEGATE_MATCH_HIGH: '0.5', FACEGATE_WORKERS: '3' });
    expect(c.biometrics.match.high).toBe(0.5);
    expect(c.biometrics.workers).toBe(3);
    expect(c.biometrics.image.maxBytes).toBe(8 * 1024 * 1024);
  });

  it('refuses an invalid value with invalid_config naming the setting', () => {
    expect(() => loadConfig({ FACEGATE_MATCH_HIGH: 'lots' })).toThrow(expect.objectContaining({
      code: 'invalid_config',
      message: expect.stringContaining('biometrics.match.high'),
    }));
  });

  it('trusts one proxy hop by default and reads FACEGATE_PROXY_HOPS', () => {
    expect(loadConfig({ FACEGATE_TRUST_PROXY: 'true' }).server).toMatchObject({ trustProxy: true, proxyHops: 1 });
    expect(loadConfig({ FACEGATE_TRUST_PROXY: 'true', FACEGATE_PROXY_HOPS: '2' }).server.proxyHops).toBe(2);
    expect(() => loadConfig({ FACEGATE_PROXY_HOPS: '0' })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c.biometrics.quality.capture)).toBe(true);
  });
});
