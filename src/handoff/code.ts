// The short code of a handoff (what the citizen types on her phone, and what the QR code carries):
// 8 symbols of a 30-symbol alphabet without look-alikes (no 0, O, 1, I, L, U), shown as
// XXXX-XXXX: 30^8 ≈ 6.6 × 10^11 codes (39.3 bits), above RFC 8628 §6.1's 8 base-20 symbols (34.5
// bits) for the same use (a user code typed on a second device, short-lived, lookups rate-limited).
// Stored as an HMAC only. Imports node:crypto only.
import { createHmac, randomInt } from 'node:crypto';

export const codeAlphabet = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const codeLength = 8;

/** A fresh random code (crypto randomInt per symbol: uniform, no modulo bias). */
export function newCode(): string {
  let code = '';
  for (let i = 0; i < codeLength; i++) code += codeAlphabet[randomInt(codeAlphabet.length)];
  return code;
}

/**
 * What the citizen typed, as a code: case, spaces and dashes ignored; undefined unless it is 8
 * symbols of the alphabet (so a malformed entry never reaches the database).
 */
export function normalizeCode(typed: unknown): string | undefined {
  if (typeof typed !== 'string' || typed.length > 40) return undefined;
  const code = typed.toUpperCase().replace(/[\s\-–—.]/g, '');
  if (code.length !== codeLength) return undefined;
  for (const c of code) if (!codeAlphabet.includes(c)) return undefined;
  return code;
}

/** XXXX-XXXX, the way the desktop shows it. */
export const displayCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/** The code's keyed hash (the database never holds a code it could be read back from). */
export const codeHasher = (secret: string) => (code: string): string => createHmac('sha256', secret).update(`handoff-code:${code}`).digest('base64url');
