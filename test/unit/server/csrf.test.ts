// CSRF tokens of the sign-in pages (src/server/csrf.ts): bound to one interaction uid, stateless.
import { describe, expect, it } from '@jest/globals';
import { createCsrf } from '../../../src/server/csrf.ts';
import { codeOf } from '../../helpers/errors.ts';

const csrf = createCsrf('test-csrf-secret-0123456789abcdef0123456789');


describe('createCsrf', () => {
  it('verifies a token for the uid it was made for', () => {
    expect(() => csrf.verify('uid-1', csrf.token('uid-1'))).not.toThrow();
  });

  it('makes the same token for the same uid (no state kept)', () => {
    expect(csrf.token('uid-1')).toBe(csrf.token('uid-1'));
  });

  it('refuses the token of another uid with csrf_invalid', () => {
    expect(codeOf(() => csrf.verify('uid-2', csrf.token('uid-1')))).toBe('csrf_invalid');
  });

  it('refuses a token made under another secret with csrf_invalid', () => {
    const other = createCsrf('another-csrf-secret-0123456789abcdef01234567');
    expect(codeOf(() => csrf.verify('uid-1', other.token('uid-1')))).toBe('csrf_invalid');
  });

  it('refuses a missing token with csrf_invalid', () => {
    expect(codeOf(() => csrf.verify('uid-1', undefined))).toBe('csrf_invalid');
  });

  it('refuses an empty token with csrf_invalid', () => {
    expect(codeOf(() => csrf.verify('uid-1', ''))).toBe('csrf_invalid');
  });

  it('refuses a non-string token with csrf_invalid', () => {
    expect(codeOf(() => csrf.verify('uid-1', [csrf.token('uid-1')]))).toBe('csrf_invalid');
  });

  it('refuses a truncated token with csrf_invalid', () => {
    expect(codeOf(() => csrf.verify('uid-1', csrf.token('uid-1').slice(0, -1)))).toBe('csrf_invalid');
  });

  it('refuses a token with one character changed with csrf_invalid', () => {
    const token = csrf.token('uid-1');
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(codeOf(() => csrf.verify('uid-1', altered))).toBe('csrf_invalid');
  });
});
