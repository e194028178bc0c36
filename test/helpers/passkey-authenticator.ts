// A software WebAuthn authenticator for tests: a real ES256 key (node:crypto), authenticatorData and
// clientDataJSON built per WebAuthn L3 §6.1 / §5.8.1, a "none" attestation (CBOR), assertions
// signed over authenticatorData ‖ SHA-256(clientDataJSON). What it produces is verified in full by
// @simplewebauthn/server: nothing here is a stub of the verification.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

// Minimal CBOR (RFC 8949) encoder: unsigned/negative ints, byte and text strings, maps.
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b;
}
function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') { const s = Buffer.from(v, 'utf8'); return Buffer.concat([head(3, s.length), s]); }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

const UP = 0x01, UV = 0x04, BE = 0x08, BS = 0x10, AT = 0x40;

export type SoftAuthenticator = ReturnType<typeof softAuthenticator>;

/** `synced`: backup eligible and backed up (a synced passkey, swk); otherwise device-bound (hwk). */
export function softAuthenticator(options: { rpId: string; origin: string; synced?: boolean }) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  const credentialId = randomBytes(32);
  const id = b64u(credentialId);
  let counter = 0;
  const backup = options.synced ? BE | BS : 0;
  const clientData = (type: string, challenge: string, origin = options.origin) =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  const counterBytes = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

  return {
    id,
    /** A registration response (what navigator.credentials.create answers, as JSON) to these options. */
    register(optionsJSON: { challenge: string }, o: { origin?: string } = {}) {
      const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]));
      const idLen = Buffer.alloc(2); idLen.writeUInt16BE(credentialId.length);
      const authData = Buffer.concat([sha256(options.rpId), Buffer.from([UP | UV | AT | backup]), counterBytes(counter), Buffer.alloc(16), idLen, credentialId, cose]);
      const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
      return {
        id, rawId: id, type: 'public-key', clientExtensionResults: {}, authenticatorAttachment: 'platform',
        response: { clientDataJSON: b64u(clientData('webauthn.create', optionsJSON.challenge, o.origin)), attestationObject: b64u(attestationObject), transports: ['internal'] },
      };
    },
    /** An assertion (navigator.credentials.get) to these options; the counter moves on unless `counter` is given. */
    assert(optionsJSON: { challenge: string }, o: { origin?: string; counter?: number; userHandle?: string } = {}) {
      if (o.counter === undefined) counter += 1;
      const authData = Buffer.concat([sha256(options.rpId), Buffer.from([UP | UV | backup]), counterBytes(o.counter ?? counter)]);
      const cd = clientData('webauthn.get', optionsJSON.challenge, o.origin);
      const signature = sign('sha256', Buffer.concat([authData, sha256(cd)]), privateKey);
      return {
        id, rawId: id, type: 'public-key', clientExtensionResults: {}, authenticatorAttachment: 'platform',
        response: { clientDataJSON: b64u(cd), authenticatorData: b64u(authData), signature: b64u(signature), ...(o.userHandle ? { userHandle: o.userHandle } : {}) },
      };
    },
  };
}
