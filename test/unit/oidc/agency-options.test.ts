// The registration options of docs/agencies.md beyond the fixed profile (src/oidc/clients.ts):
// ID token and userinfo encryption with the agency's `use: enc` key checked, the back-channel
// logout URI, and the assurance floor. Keys are real (node:crypto), public halves only.
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { buildAgencyMetadata, type AgencyInput } from '../../../src/oidc/clients.ts';

const pub = (type: 'rsa' | 'ec' | 'x25519', extra: Record<string, unknown>, options: object = {}) => {
  const { publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048, ...options })
    : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256', ...options }) : generateKeyPairSync('x25519');
  return { ...publicKey.export({ format: 'jwk' }), ...extra } as Record<string, unknown> & { kty: string };
};
const sig = pub('ec', { use: 'sig', alg: 'ES256', kid: 'sig-1' });
const rsaEnc = pub('rsa', { use: 'enc', alg: 'RSA-OAEP-256', kid: 'enc-rsa' });
const ecEnc = pub('ec', { use: 'enc', kid: 'enc-ec' });

const base: AgencyInput = { clientId: 'tax.agency', name: 'Tax Agency', redirectUris: ['https://tax.example/cb'], jwks: { keys: [sig, rsaEnc, ecEnc] } };
const build = (change: Partial<AgencyInput>) => buildAgencyMetadata({ ...base, ...change });
const refusal = (change: Partial<AgencyInput>) => {
  try {
    build(change);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('accepted');
};

describe('encryption at registration', () => {
  it('registers encrypted ID tokens, A256GCM by default', () => {
    expect(build({ idTokenEncryptedResponseAlg: 'RSA-OAEP-256' })).toMatchObject({
      id_token_signed_response_alg: 'PS256', id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A256GCM',
    });
  });

  it('registers userinfo signed then encrypted (oidc-provider encrypts only a signed userinfo JWT)', () => {
    const m = build({ userinfoEncryptedResponseAlg: 'ECDH-ES', userinfoEncryptedResponseEnc: 'A256GCM' });
    expect(m).toMatchObject({ userinfo_signed_response_alg: 'PS256', userinfo_encrypted_response_alg: 'ECDH-ES', userinfo_encrypted_response_enc: 'A256GCM' });
    expect(m).not.toHaveProperty('id_token_encrypted_response_alg');
  });

  it('registers nothing about encryption unless asked', () => {
    expect(Object.keys(build({})).filter((k) => k.includes('encrypted') || k.startsWith('userinfo'))).toEqual([]);
  });

  it('takes ECDH-ES to an X25519 key', () => {
    const keys = [sig, pub('x25519', { use: 'enc', kid: 'x' })];
    expect(build({ jwks: { keys }, idTokenEncryptedResponseAlg: 'ECDH-ES' }).id_token_encrypted_response_alg).toBe('ECDH-ES');
  });

  it('cannot check a jwks_uri at registration: the keys are checked when oidc-provider fetches them', () => {
    expect(build({ jwks: undefined, jwksUri: 'https://tax.example/jwks', idTokenEncryptedResponseAlg: 'RSA-OAEP-256' }))
      .toMatchObject({ jwks_uri: 'https://tax.example/jwks', id_token_encrypted_response_alg: 'RSA-OAEP-256' });
  });

  const refused: Array<[string, Partial<AgencyInput>, RegExp]> = [
    ['only signing keys', { jwks: { keys: [sig] }, idTokenEncryptedResponseAlg: 'ECDH-ES' }, /idTokenEncryptedResponseAlg ECDH-ES: jwks has no encryption key \("use": "enc"\), only signing keys/],
    ['a key of the right type without a use', { jwks: { keys: [sig, pub('rsa', { kid: 'bare' })] }, idTokenEncryptedResponseAlg: 'RSA-OAEP-256' }, /key "bare" has no "use"/],
    ['an enc key of the wrong type for the alg', { jwks: { keys: [sig, ecEnc] }, userinfoEncryptedResponseAlg: 'RSA-OAEP-256' }, /userinfoEncryptedResponseAlg RSA-OAEP-256: no "use": "enc" key of the type RSA-OAEP-256 needs \(key "enc-ec" is kty EC P-256\)/],
    ['an enc key that says another alg', { jwks: { keys: [sig, { ...rsaEnc, alg: 'RSA-OAEP' }] }, idTokenEncryptedResponseAlg: 'RSA-OAEP-256' }, /key "enc-rsa" says "alg": "RSA-OAEP", not RSA-OAEP-256/],
    ['the signing key republished as the enc key', { jwks: { keys: [sig, { ...sig, use: 'enc', alg: undefined, kid: 'same' }] }, idTokenEncryptedResponseAlg: 'ECDH-ES' }, /key "same" is the same key as a signing key/],
    ['an RSA key under 2048 bits', { jwks: { keys: [sig, pub('rsa', { use: 'enc', kid: 'small' }, { modulusLength: 1024 })] }, idTokenEncryptedResponseAlg: 'RSA-OAEP-256' }, /key "small" is an RSA key under 2048 bits/],
    ['an EC key on a curve ECDH-ES is not offered for', { jwks: { keys: [sig, pub('ec', { use: 'enc', kid: 'k1' }, { namedCurve: 'secp256k1' })] }, idTokenEncryptedResponseAlg: 'ECDH-ES' }, /no "use": "enc" key of the type ECDH-ES needs \(key "k1" is kty EC secp256k1\)/],
    ['an algorithm not offered', { idTokenEncryptedResponseAlg: 'RSA1_5' }, /idTokenEncryptedResponseAlg/],
    ['a content encryption not offered', { idTokenEncryptedResponseAlg: 'RSA-OAEP-256', idTokenEncryptedResponseEnc: 'A128CBC-HS256' }, /idTokenEncryptedResponseEnc/],
    ['an enc without its alg', { userinfoEncryptedResponseEnc: 'A256GCM' }, /userinfoEncryptedResponseEnc: given without userinfoEncryptedResponseAlg/],
    ['a JWKS of encryption keys only', { jwks: { keys: [rsaEnc] } }, /needs a signing key/],
  ];

  it.each(refused)('refuses %s with invalid_client_metadata naming the problem', (_label, change, message) => {
    const err = refusal(change);
    expect(err.code).toBe('invalid_client_metadata');
    expect(err.message).toMatch(message);
  });
});

describe('back-channel logout at registration', () => {
  it('registers the URI with the session id required in logout tokens', () => {
    expect(build({ backchannelLogoutUri: 'https://tax.example/backchannel' })).toMatchObject({
      backchannel_logout_uri: 'https://tax.example/backchannel', backchannel_logout_session_required: true,
    });
    expect(build({})).not.toHaveProperty('backchannel_logout_uri');
  });

  it('takes http on the loopback only, as redirect URIs', () => {
    expect(build({ backchannelLogoutUri: 'http://127.0.0.1:8080/bc' }).backchannel_logout_uri).toBe('http://127.0.0.1:8080/bc');
    for (const uri of ['http://tax.example/bc', 'https://tax.example/bc#x', '/bc']) {
      expect(refusal({ backchannelLogoutUri: uri })).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringContaining('backchannelLogoutUri') });
    }
  });
});

describe('assurance floor at registration', () => {
  it('stores the floor as its eIDAS URI, from the level name or the URI', () => {
    expect(build({ minAcr: 'high' }).facegate_min_acr).toBe('http://eidas.europa.eu/LoA/high');
    expect(build({ minAcr: 'http://eidas.europa.eu/LoA/substantial' }).facegate_min_acr).toBe('http://eidas.europa.eu/LoA/substantial');
    expect(build({})).not.toHaveProperty('facegate_min_acr');
  });

  it('refuses a level the gateway does not have', () => {
    expect(refusal({ minAcr: 'low' })).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringContaining('minAcr: must be substantial or high') });
  });
});
