// Accounts for oidc-provider: a citizen by internal id, the claims each scope releases, and the
// pairwise subject per agency sector. Imports the registry and node:crypto; no koa.
import { createHmac } from 'node:crypto';
import type { Account, AccountClaims, ClaimsParameterMember, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import { findCitizenById } from '../registry/citizens.ts';
import { buildVerifiedClaims, grantKey, namesIn, verificationOf, type AssuranceSettings } from './verified-claims.ts';

/**
 * Scope → the claims it releases. `acr`, `amr` and `auth_time` ride on `openid` so that every ID
 * token says how and when the citizen was verified, without the agency asking for them one by one.
 */
export const scopeClaims = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['given_name', 'family_name', 'birthdate'],
  national_id: ['national_id'],
  address: ['address'],
} as const;

export const supportedScopes = Object.keys(scopeClaims);

/** The `claims` configuration of oidc-provider: the scope map plus the protocol claims. */
export const claimsConfiguration = {
  ...Object.fromEntries(Object.entries(scopeClaims).map(([scope, claims]) => [scope, [...claims]])),
  acr: null, amr: null, auth_time: null, sid: null, iss: null,
  // OpenID Connect for Identity Assurance: asked for by name in the claims parameter only.
  verified_claims: null,
};

/** The claim names a client may ever receive: those of the scopes it is registered for. */
export function entitledClaims(client: { scope?: string } | undefined): Set<string> {
  const scopes = String(client?.scope ?? 'openid').split(' ');
  return new Set(scopes.flatMap((s) => [...(scopeClaims[s as keyof typeof scopeClaims] ?? [])]));
}

/**
 * Looks citizens up by internal id; only an `active` citizen can be signed in. Her claims are cut
 * to what the agency is entitled to (its registered scopes), whatever the claims parameter asks;
 * `verified_claims` is built for a request that asks for it (verified-claims.ts), from the face
 * check of the token it is loaded for (`token`: the code, or the access token at userinfo).
 */
export function createFindAccount(db: Db, assurance: AssuranceSettings): FindAccount {
  return async (ctx, id, token): Promise<Account | undefined> => {
    const citizen = await findCitizenById(db, id);
    if (!citizen || citizen.status !== 'active') return undefined;
    return {
      accountId: citizen.id,
      // oidc-provider filters these down to what the granted scopes and claims allow.
      claims: async (_use: string, _scope: string, claims: Record<string, ClaimsParameterMember | null>, _rejected: string[]) => {
        const registry: Record<string, unknown> = {
          given_name: citizen.givenName,
          family_name: citizen.familyName,
          birthdate: citizen.birthdate,
          national_id: citizen.nationalId,
          ...(citizen.address ? { address: { formatted: citizen.address } } : {}),
        };
        const entitled = entitledClaims(ctx.oidc.client);
        const released: AccountClaims = { sub: citizen.id };
        for (const [name, value] of Object.entries(registry)) if (entitled.has(name)) released[name] = value;
        const request = claims?.verified_claims;
        if (request) {
          const agreed = new Set(ctx.oidc.grant?.getOIDCClaims() ?? []);
          const releasable = new Set(namesIn(request, entitled).filter((name) => agreed.has(grantKey(name))));
          const verified = buildVerifiedClaims(request, registry, releasable, verificationOf(token), assurance);
          if (verified) released.verified_claims = verified;
        }
        return released;
      },
    };
  };
}

/** The sector a client's pairwise `sub` is computed for: its registered sector, else its redirect host. */
export function sectorOf(client: { metadata(): Record<string, unknown>; sectorIdentifier?: string }): string {
  const sector = client.metadata().facegate_sector;
  return typeof sector === 'string' && sector ? sector : String(client.sectorIdentifier);
}

/**
 * Pairwise subject (OIDC Core §8.1): HMAC of sector and citizen id under a secret salt, so agencies
 * of different sectors cannot join their records on `sub`, and nobody can derive it without the salt.
 */
export function createPairwiseIdentifier(salt: string) {
  return async (_ctx: KoaContextWithOIDC, accountId: string, client: Parameters<typeof sectorOf>[0]): Promise<string> =>
    createHmac('sha256', salt).update(`${sectorOf(client)}\n${accountId}`).digest('base64url');
}
