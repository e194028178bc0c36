// Registering an agency for proof of life over CIBA (clients.ts), and the requests the gateway makes
// to agencies (outbound.ts): special-use addresses refused unless allowed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { buildAgencyMetadata, type AgencyInput } from '../../../src/oidc/clients.ts';
import { createOutboundFetch, isSpecialUse } from '../../../src/oidc/outbound.ts';

const base: AgencyInput = {
  clientId: 'pension-office', name: 'Pension office', redirectUris: ['https://pension.example/callback'],
  jwksUri: 'https://pension.example/jwks', scopes: ['openid', 'profile', 'national_id'],
};
const refusal = (input: AgencyInput) => {
  try {
    buildAgencyMetadata(input);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('CIBA registration', () => {
  it('poll with the webhook notifier: the ciba grant next to the code flow, the sector carried by sector_identifier_uri', () => {
    expect(buildAgencyMetadata({ ...base, ciba: { deliveryMode: 'poll', notifier: 'webhook', notificationUri: 'https://pension.example/notify' } })).toMatchObject({
      grant_types: ['authorization_code', 'urn:openid:params:grant-type:ciba'],
      backchannel_token_delivery_mode: 'poll', facegate_notifier: 'webhook', facegate_notification_uri: 'https://pension.example/notify',
      sector_identifier_uri: 'https://pension.example/', facegate_sector: 'pension.example', subject_type: 'pairwise', token_endpoint_auth_method: 'private_key_jwt',
    });
  });

  it('ping with the QR notifier, and a shared sector', () => {
    const m = buildAgencyMetadata({ ...base, sector: 'pensions.gov', ciba: { deliveryMode: 'ping', clientNotificationEndpoint: 'https://pension.example/ping', notifier: 'qr' } });
    expect(m).toMatchObject({ backchannel_client_notification_endpoint: 'https://pension.example/ping', facegate_notifier: 'qr', sector_identifier_uri: 'https://pensions.gov/' });
    expect(m).not.toHaveProperty('facegate_notification_uri');
    expect(buildAgencyMetadata(base)).not.toHaveProperty('backchannel_token_delivery_mode');
    expect(buildAgencyMetadata(base).grant_types).toEqual(['authorization_code']);
  });

  it.each([
    ['an inline jwks', { ...base, jwksUri: undefined, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, ciba: { deliveryMode: 'poll', notifier: 'qr' } }, 'jwksUri'],
    ['ping without its endpoint', { ...base, ciba: { deliveryMode: 'ping', notifier: 'qr' } }, 'clientNotificationEndpoint'],
    ['poll with a ping endpoint', { ...base, ciba: { deliveryMode: 'poll', clientNotificationEndpoint: 'https://pension.example/ping', notifier: 'qr' } }, 'clientNotificationEndpoint'],
    ['a plain http ping endpoint', { ...base, ciba: { deliveryMode: 'ping', clientNotificationEndpoint: 'http://127.0.0.1/ping', notifier: 'qr' } }, 'clientNotificationEndpoint'],
    ['the webhook without its URI', { ...base, ciba: { deliveryMode: 'poll', notifier: 'webhook' } }, 'notificationUri'],
    ['an unknown notifier', { ...base, ciba: { deliveryMode: 'poll', notifier: 'pigeon' } }, 'notifier'],
  ] as Array<[string, AgencyInput, string]>)('refuses %s', (_what, input, field) => {
    expect(refusal(input)).toMatchObject({ code: 'invalid_client_metadata', message: expect.stringContaining(field) });
  });
});

describe('requests to agencies', () => {
  it.each([
    ['127.0.0.1', true], ['10.1.2.3', true], ['172.20.0.1', true], ['192.168.1.1', true], ['169.254.169.254', true], ['100.64.0.1', true],
    ['::1', true], ['fd00::1', true], ['fe80::1', true], ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false], ['2a00:1450:4007:80e::200e', false], ['::ffff:8.8.8.8', false],
  ])('%s is special-use: %s', (address, special) => {
    expect(isSpecialUse(address)).toBe(special);
  });

  it('refuses loopback by address and by name unless oidc.outbound.allowPrivateNetworks, then reaches it', async () => {
    const server = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const guarded = createOutboundFetch({ allowPrivateNetworks: false });
      await expect(guarded(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ESPECIALUSE' });
      await expect(guarded(`http://localhost:${port}/`, { method: 'POST', body: '{}' })).rejects.toMatchObject({ code: 'ESPECIALUSE' });
      const open = createOutboundFetch({ allowPrivateNetworks: true });
      const res = await open(`http://localhost:${port}/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(204);
    } finally {
      server.close();
    }
  });
});
