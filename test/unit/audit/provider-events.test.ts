// The provider's events mapped to audit events: who, from where, which error code, which claims;
// nothing of the request's secrets. A plain EventEmitter stands in for oidc-provider.
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { AuditEvent } from '../../../src/audit/log.ts';
import { auditProviderEvents, claimsReceived } from '../../../src/audit/provider-events.ts';
import { scopeClaims } from '../../../src/oidc/accounts.ts';

function setup() {
  const provider = new EventEmitter();
  const events: AuditEvent[] = [];
  const errors: string[] = [];
  auditProviderEvents(provider, async (e) => { events.push(e); }, { scopeClaims, onError: (_e, type) => errors.push(type) });
  return { provider, events, errors };
}

const ctx = (oidc: object) => ({ ip: '203.0.113.9', get: (h: string) => (h === 'user-agent' ? 'agency-client/1.0' : ''), oidc });
const flush = () => new Promise((r) => setImmediate(r));

describe('provider events in the audit trail', () => {
  it('maps scopes and named claims to the claims an agency received', () => {
    expect(claimsReceived({ scope: 'openid profile' }, scopeClaims)).toEqual(['acr', 'amr', 'auth_time', 'birthdate', 'family_name', 'given_name', 'sub']);
    expect(claimsReceived({ scope: 'openid', claims: JSON.stringify({ id_token: { national_id: null } }) }, scopeClaims)).toContain('national_id');
    expect(claimsReceived({ scope: 'openid unknown', claims: '{not json' }, scopeClaims)).toEqual(['acr', 'amr', 'auth_time', 'sub']);
  });

  it('records a token issued by code exchange with citizen, level and claims, and no code or token', async () => {
    const { provider, events } = setup();
    const code = { accountId: 'citizen-1', acr: 'http://eidas.europa.eu/LoA/high', amr: ['face', 'user'], scope: 'openid national_id', grantId: 'grant-1', jti: 'SECRET-CODE-VALUE' };
    provider.emit('grant.success', ctx({ client: { clientId: 'tax-office' }, params: { grant_type: 'authorization_code', code: 'SECRET-CODE-VALUE', code_verifier: 'SECRET-VERIFIER' }, entities: { AuthorizationCode: code, AccessToken: { jti: 'SECRET-AT' } } }));
    await flush();
    expect(events).toEqual([expect.objectContaining({
      type: 'oidc.grant.success', outcome: 'success', clientId: 'tax-office', citizenId: 'citizen-1', ip: '203.0.113.9', userAgent: 'agency-client/1.0',
      details: expect.objectContaining({ grant_type: 'authorization_code', acr: code.acr, claims: ['acr', 'amr', 'auth_time', 'national_id', 'sub'] }),
    })]);
    expect(JSON.stringify(events)).not.toMatch(/SECRET/);
  });

  it('records endpoint errors with their OAuth error code', async () => {
    const { provider, events } = setup();
    provider.emit('grant.error', ctx({ client: { clientId: 'tax-office' } }), { error: 'invalid_grant', statusCode: 400, error_description: 'grant request is invalid' });
    provider.emit('authorization.error', ctx({ session: { accountId: 'citizen-2' } }), { error: 'access_denied', statusCode: 400 });
    provider.emit('revocation.error', ctx({}), { error: 'invalid_client', statusCode: 401 });
    provider.emit('server_error', ctx({}), Object.assign(new TypeError('boom with a token eyJhbGciOi'), { error: 'server_error' }));
    await flush();
    expect(events.map((e) => [e.type, e.code, e.clientId ?? null, e.citizenId ?? null])).toEqual([
      ['oidc.grant.error', 'invalid_grant', 'tax-office', null],
      ['oidc.authorization.error', 'access_denied', null, 'citizen-2'],
      ['oidc.revocation.error', 'invalid_client', null, null],
      ['oidc.server_error', 'server_error', null, null],
    ]);
    expect(JSON.stringify(events)).not.toContain('eyJhbGciOi');
  });

  it('does not record the answers to a CIBA poll (pending, slow_down) as errors', async () => {
    const { provider, events } = setup();
    provider.emit('grant.error', ctx({ client: { clientId: 'pension-office' } }), { error: 'authorization_pending', statusCode: 400 });
    provider.emit('grant.error', ctx({ client: { clientId: 'pension-office' } }), { error: 'slow_down', statusCode: 400 });
    provider.emit('grant.error', ctx({ client: { clientId: 'pension-office' } }), { error: 'expired_token', statusCode: 400 });
    await flush();
    expect(events.map((e) => [e.type, e.code])).toEqual([['oidc.grant.error', 'expired_token']]);
  });

  it('reports a failed write without failing the request', async () => {
    const provider = new EventEmitter();
    const errors: string[] = [];
    auditProviderEvents(provider, async () => { throw new Error('database down'); }, { scopeClaims, onError: (_e, type) => errors.push(type) });
    expect(() => provider.emit('grant.revoked', ctx({}), 'grant-9')).not.toThrow();
    await flush();
    expect(errors).toEqual(['oidc.grant.revoked']);
  });
});
