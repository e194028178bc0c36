import { describe, expect, it } from '@jest/globals';
import { buildAgencyMetadata, type AgencyInput } from '../../../src/oidc/clients.ts';

const key = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
const base: AgencyInput = {
  clientId: 'tax.agency',
  name: 'Tax Agency',
  redirectUris: ['https://tax.example/cb'],
  jwks: { keys: [key] },
};

describe('buildAgencyMetadata', () => {
  it('builds the gateway profile for a valid agency', () => {
    expect(buildAgencyMetadata(base)).toEqual({
      client_id: 'tax.agency',
      client_name: 'Tax Agency',
      redirect_uris: ['https://tax.example/cb'],
      jwks: { keys: [key] },
      scope: 'openid profile',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'PS256',
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
      subject_type: 'pairwise',
      facegate_sector: 'tax.example',
    });
  });

  it('leaves the token endpoint signing alg free', () => {
    expect(buildAgencyMetadata(base)).not.toHaveProperty('token_endpoint_auth_signing_alg');
  });

  it('always includes openid in the scopes', () => {
    expect(buildAgencyMetadata({ ...base, scopes: ['national_id', 'address'] }).scope).toBe('openid national_id address');
    expect(buildAgencyMetadata({ ...base, scopes: ['openid', 'profile', 'openid'] }).scope).toBe('openid profile');
  });

  it('accepts a jwks_uri instead of jwks', () => {
    const m = buildAgencyMetadata({ ...base, jwks: undefined, jwksUri: 'https://tax.example/jwks' });
    expect(m.jwks_uri).toBe('https://tax.example/jwks');
    expect(m).not.toHaveProperty('jwks');
  });

  it('accepts http redirect URIs on localhost and 127.0.0.1 only', () => {
    const m = buildAgencyMetadata({ ...base, redirectUris: ['http://localhost:8080/cb', 'http://localhost:8080/other'] });
    expect(m.facegate_sector).toBe('localhost:8080');
    expect(buildAgencyMetadata({ ...base, redirectUris: ['http://127.0.0.1/cb'] }).facegate_sector).toBe('127.0.0.1');
  });

  it('uses the given sector instead of the redirect host', () => {
    const m = buildAgencyMetadata({ ...base, redirectUris: ['https://a.tax.example/cb'], sector: 'tax.example' });
    expect(m.facegate_sector).toBe('tax.example');
  });

  const invalid: Array<[string, Partial<AgencyInput> & Record<string, unknown>]> = [
    ['a too short client id', { clientId: 'ab' }],
    ['a client id with a space', { clientId: 'tax agency' }],
    ['a client id over 100 characters', { clientId: 'a'.repeat(101) }],
    ['an empty name', { name: '  ' }],
    ['no redirect URIs', { redirectUris: [] }],
    ['a relative redirect URI', { redirectUris: ['/cb'] }],
    ['an http redirect URI off the loopback', { redirectUris: ['http://tax.example/cb'] }],
    ['a redirect URI with a fragment', { redirectUris: ['https://tax.example/cb#x'] }],
    ['a custom-scheme redirect URI', { redirectUris: ['tax://cb'] }],
    ['both jwks and jwks_uri', { jwksUri: 'https://tax.example/jwks' }],
    ['neither jwks nor jwks_uri', { jwks: undefined }],
    ['jwks without a keys array', { jwks: { key } }],
    ['jwks with no keys', { jwks: { keys: [] } }],
    ['a private EC or RSA key (d)', { jwks: { keys: [{ ...key, d: 'secret' }] } }],
    ['an RSA key with CRT parts', { jwks: { keys: [{ kty: 'RSA', n: 'n', e: 'AQAB', p: 'p', q: 'q' }] } }],
    ['a symmetric key (k)', { jwks: { keys: [{ kty: 'oct', k: 'secret' }] } }],
    ['an http jwks_uri', { jwks: undefined, jwksUri: 'http://tax.example/jwks' }],
    ['an unknown scope', { scopes: ['openid', 'email'] }],
    ['a malformed sector', { sector: 'https://tax.example/' }],
    ['several redirect hosts without a sector', { redirectUris: ['https://a.example/cb', 'https://b.example/cb'] }],
    ['several redirect hosts even with a sector', { redirectUris: ['https://a.example/cb', 'https://b.example/cb'], sector: 'example' }],
  ];

  it.each(invalid)('rejects %s with invalid_client_metadata', (_label, change) => {
    expect(() => buildAgencyMetadata({ ...base, ...change } as AgencyInput)).toThrow(
      expect.objectContaining({ code: 'invalid_client_metadata' }),
    );
  });
});
