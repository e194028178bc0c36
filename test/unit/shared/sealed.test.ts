// Encryption of data at rest (src/shared/sealed.ts): AES-256-GCM, a key id per row, AAD binding.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSealer, type Sealed } from '../../../src/shared/sealed.ts';
import { codeOf } from '../../helpers/errors.ts';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const plaintext = Buffer.from('{"template":[0.1,0.2,0.3]}');
const aad = 'face-template:citizen-1';


/** Flips the first bit of a base64 field. */
const flip = (b64: string): string => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[0] ^= 0x01;
  return bytes.toString('base64');
};

describe('createSealer', () => {
  const sealer = createSealer({ k1 }, 'k1');

  it('opens what it sealed', () => {
    expect(sealer.open(sealer.seal(plaintext, aad), aad).equals(plaintext)).toBe(true);
  });

  it('names the active key id on a sealed row', () => {
    expect(sealer.seal(plaintext, aad).keyId).toBe('k1');
  });

  it('does not store the plaintext', () => {
    expect(Buffer.from(sealer.seal(plaintext, aad).ciphertext, 'base64').includes(plaintext)).toBe(false);
  });

  it('uses a fresh IV each time, so the ciphertext differs', () => {
    const a = sealer.seal(plaintext, aad);
    const b = sealer.seal(plaintext, aad);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('refuses to open with another AAD (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    expect(codeOf(() => sealer.open(sealed, 'face-template:citizen-2'))).toBe('internal_error');
  });

  it('refuses an altered ciphertext (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    expect(codeOf(() => sealer.open({ ...sealed, ciphertext: flip(sealed.ciphertext) }, aad))).toBe('internal_error');
  });

  it('refuses an altered tag (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    expect(codeOf(() => sealer.open({ ...sealed, tag: flip(sealed.tag) }, aad))).toBe('internal_error');
  });

  it('refuses an altered IV (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    expect(codeOf(() => sealer.open({ ...sealed, iv: flip(sealed.iv) }, aad))).toBe('internal_error');
  });

  // Node accepts GCM tags of 4 to 16 bytes unless told the length: a cut tag must not open.
  it('refuses a truncated tag (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    const short = Buffer.from(sealed.tag, 'base64').subarray(0, 4).toString('base64');
    expect(codeOf(() => sealer.open({ ...sealed, tag: short }, aad))).toBe('internal_error');
  });

  it('refuses an empty tag (internal_error)', () => {
    const sealed = sealer.seal(plaintext, aad);
    expect(codeOf(() => sealer.open({ ...sealed, tag: '' }, aad))).toBe('internal_error');
  });

  it('opens a row sealed under an old key after the active key changed', () => {
    const old = createSealer({ k1 }, 'k1').seal(plaintext, aad);
    const rotated = createSealer({ k1, k2 }, 'k2');
    expect(rotated.seal(plaintext, aad).keyId).toBe('k2');
    expect(rotated.open(old, aad).equals(plaintext)).toBe(true);
  });

  it('refuses a row whose key id is not in the keyring (internal_error)', () => {
    const sealed: Sealed = { ...createSealer({ k2 }, 'k2').seal(plaintext, aad) };
    expect(codeOf(() => sealer.open(sealed, aad))).toBe('internal_error');
  });

  it('refuses an active key id that is not in the keyring (internal_error)', () => {
    expect(codeOf(() => createSealer({ k1 }, 'k9'))).toBe('internal_error');
  });

  it('refuses a key that is not 32 bytes (internal_error)', () => {
    expect(codeOf(() => createSealer({ short: randomBytes(16).toString('base64') }, 'short'))).toBe('internal_error');
  });
});
