// The space's own relying party: the built-in client `facegate-account`, registered at start with
// a key pair generated once and kept sealed under the data key (`account_client_keys`), the same on
// every instance; and openid-client 6 configured against the gateway's own issuer (PAR, PKCE,
// DPoP, private_key_jwt: the FAPI 2.0 profile every agency gets). With account.internalUrl its
// requests go to the gateway's own listener instead of the public issuer URL (behind a proxy).
// Imports oidc (clients, first-party), db and the sealer; no koa.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import type { Db } from '../db/knex.ts';
import { buildAgencyMetadata, upsertClient } from '../oidc/clients.ts';
import { accountClientId } from '../oidc/first-party.ts';
import type { Sealer } from '../shared/sealed.ts';

export { accountClientId };
const table = 'account_client_keys';
const aad = (kid: string) => `account-client-key:${kid}`;

type KeyRow = { kid: string; sealed: string; created_at: number | string };
export type AccountClientKey = { kid: string; privateKey: CryptoKey; publicJwk: JWK };

async function loadKey(db: Db, sealer: Sealer): Promise<AccountClientKey | undefined> {
  const row = await db<KeyRow>(table).orderBy('created_at', 'desc').first();
  if (!row) return undefined;
  const jwk = JSON.parse(sealer.open(JSON.parse(row.sealed), aad(row.kid)).toString('utf8')) as JWK;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return { kid: row.kid, privateKey: await importJWK(jwk, 'ES256') as CryptoKey, publicJwk };
}

/**
 * The space's client key (created on first start; of instances starting together the first insert
 * wins and all use it) and the client's registration, refreshed with the current issuer.
 */
export async function ensureAccountClient(db: Db, sealer: Sealer, issuer: string, clock: () => number = Date.now): Promise<AccountClientKey> {
  let key = await loadKey(db, sealer);
  if (!key) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `account-${randomBytes(6).toString('base64url')}`;
    const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
    const sealed = sealer.seal(Buffer.from(JSON.stringify(jwk)), aad(kid));
    await db(table).insert({ kid, sealed: JSON.stringify(sealed), created_at: clock() }).onConflict('kid').ignore();
    key = (await loadKey(db, sealer))!;
  }
  await upsertClient(db, buildAgencyMetadata({
    clientId: accountClientId, name: 'Facegate: your space', redirectUris: [`${issuer}/account/callback`],
    jwks: { keys: [key.publicJwk] }, scopes: ['openid', 'national_id'],
  }));
  return key;
}

/** Sends the requests for `issuer` to `internalUrl`, with the issuer's host and scheme in X-Forwarded-*. */
export function internalFetch(issuer: string, internalUrl: string): client.CustomFetch {
  const pub = new URL(issuer);
  const inner = new URL(internalUrl);
  return (url, options) => {
    const target = new URL(url);
    if (target.origin !== pub.origin) return fetch(url, options as RequestInit);
    target.protocol = inner.protocol;
    target.host = inner.host;
    const headers = new Headers(options.headers);
    headers.set('x-forwarded-host', pub.host);
    headers.set('x-forwarded-proto', pub.protocol.replace(':', ''));
    return fetch(target, { ...(options as RequestInit), headers });
  };
}

/** openid-client's Configuration for the space (discovered once, retried after a failure). */
export function createAccountRelyingParty(issuer: string, key: AccountClientKey, internalUrl?: string): () => Promise<client.Configuration> {
  let configuration: Promise<client.Configuration> | undefined;
  const customFetch = internalUrl ? internalFetch(issuer, internalUrl) : undefined;
  return () => (configuration ??= client.discovery(new URL(issuer), accountClientId, { id_token_signed_response_alg: 'PS256' },
    client.PrivateKeyJwt(key.privateKey, { [client.modifyAssertion]: (h) => { h.kid = key.kid; } }), {
      execute: issuer.startsWith('http://') ? [client.allowInsecureRequests, client.enableNonRepudiationChecks] : [client.enableNonRepudiationChecks],
      ...(customFetch ? { [client.customFetch]: customFetch } : {}),
    }).then((c) => {
      if (customFetch) c[client.customFetch] = customFetch;
      return c;
    }).catch((err: unknown) => { configuration = undefined; throw err; }));
}
