// Revocation (RFC 7009) across agencies: an agency revoking another agency's token is answered as
// for an unknown token (200) and revokes nothing, so it learns nothing about the token; the agency
// it was issued to revokes it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import request from 'supertest';
import { clientAssertion, startProviderApp, type ProviderApp } from '../../helpers/provider-app.ts';

let gw: ProviderApp;
let app: Koa;
let provider: Provider;
let issuer: string;

beforeAll(async () => {
  gw = await startProviderApp({ agencies: [
    { clientId: 'pension-office', redirectUri: 'https://pension.example/callback' },
    { clientId: 'tax-office', redirectUri: 'https://tax.example/callback' },
  ] });
  ({ app, provider, issuer } = gw);
});

afterAll(async () => {
  await gw?.close();
});

const revoke = async (clientId: string, token: string) => request(app.callback()).post('/token/revocation').set('Host', new URL(issuer).host).type('form').send({
  token, client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: await clientAssertion(issuer, gw.agencies[clientId]),
});

describe('token revocation', () => {
  it('answers another agency as for an unknown token and revokes nothing; the issuing agency revokes it', async () => {
    const client = (await provider.Client.find('pension-office'))!;
    const token = await new provider.AccessToken({ accountId: 'c1', client, scope: 'openid', grantId: 'g1', gty: 'authorization_code' }).save();
    const unknown = await revoke('tax-office', 'not-a-token');
    const other = await revoke('tax-office', token);
    expect([other.status, other.body]).toEqual([unknown.status, unknown.body]);
    expect(other.status).toBe(200);
    expect(await provider.AccessToken.find(token)).toBeDefined();
    expect((await revoke('pension-office', token)).status).toBe(200);
    expect(await provider.AccessToken.find(token)).toBeUndefined();
  });
});
