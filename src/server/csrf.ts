// CSRF tokens of the sign-in pages: an HMAC of the interaction uid under a server secret, so a
// page of one interaction cannot post into another, and no state is kept. Imports node:crypto.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/errors.ts';

export type Csrf = { token(uid: string): string; verify(uid: string, token: unknown): void };

export function createCsrf(secret: string): Csrf {
  const token = (uid: string) => createHmac('sha256', secret).update(`csrf:${uid}`).digest('base64url');
  return {
    token,
    verify(uid, given) {
      const expected = Buffer.from(token(uid));
      const actual = Buffer.from(typeof given === 'string' ? given : '');
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw new AppError('csrf_invalid');
    },
  };
}
