// Encryption of data at rest (face templates, private signing keys): AES-256-GCM with a key id
// per row, so keys can be added and rotated without re-encrypting at once. Imports node:crypto only.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from './errors.ts';

/** What a row stores: which key, the nonce, the GCM tag and the ciphertext, all base64. */
export type Sealed = { keyId: string; iv: string; tag: string; ciphertext: string };

export type Sealer = {
  /** Encrypts with the active key; `aad` binds the ciphertext to its row (e.g. the citizen id). */
  seal(plaintext: Buffer, aad: string): Sealed;
  /** Decrypts with the row's key; fails with internal_error if the key is unknown or the data altered. */
  open(sealed: Sealed, aad: string): Buffer;
  readonly activeKeyId: string;
};

/** A sealer over the configured keyring (`secrets.dataKeys`, `secrets.dataKeyId`). */
export function createSealer(keys: Readonly<Record<string, string>>, activeKeyId: string): Sealer {
  const ring = new Map(Object.entries(keys).map(([id, b64]) => [id, Buffer.from(b64, 'base64')]));
  const key = (id: string) => {
    const k = ring.get(id);
    if (!k || k.length !== 32) throw new AppError('internal_error', `data key "${id}" is not configured`);
    return k;
  };
  key(activeKeyId);
  return {
    activeKeyId,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key(activeKeyId), iv);
      cipher.setAAD(Buffer.from(aad));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { keyId: activeKeyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
    },
    open(sealed, aad) {
      // The full 16-byte tag only: Node would otherwise accept tags cut down to 4 bytes.
      const decipher = createDecipheriv('aes-256-gcm', key(sealed.keyId), Buffer.from(sealed.iv, 'base64'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(aad));
      try {
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
      } catch {
        throw new AppError('internal_error', 'sealed data failed authentication (altered, or bound to another row)');
      }
    },
  };
}
