// The oidc-provider configuration for agencies: FAPI 2.0-style profile set explicitly (code flow,
// PAR, PKCE S256, private_key_jwt, DPoP, PS256/ES256), eIDAS acr, pairwise sub, scope → claims.
// Protocol work stays in oidc-provider; this module only configures it. No koa routes here.
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Db } from '../db/knex.ts';
import { acrHigh, acrSubstantial, createInteractionPolicy } from './acr.ts';
import { claimsConfiguration, createFindAccount, createPairwiseIdentifier, supportedScopes } from './accounts.ts';
import { createAdapterFactory } from './adapter.ts';
import { signingAlgs } from './keys.ts';
import { renderProviderError, renderLogout, renderLoggedOut } from './pages.ts';

export type ProviderDeps = { config: Readonly<Config>; db: Db; jwks: { keys: object[] } };

const algs = [...signingAlgs];

/**
 * The protocol profile every agency gets (FAPI 2.0 Security Profile style), independent of storage,
 * accounts and secrets; the benchmark's bare provider uses the same one.
 */
export function agencyProfile(dpopNonceSecret: Buffer) {
  return {
    acrValues: [acrSubstantial, acrHigh],
    claims: claimsConfiguration,
    scopes: supportedScopes,
    subjectTypes: ['pairwise'],
    responseTypes: ['code'],
    clientAuthMethods: ['private_key_jwt'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'PS256',
      subject_type: 'pairwise',
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
    },
    enabledJWA: {
      clientAuthSigningAlgValues: algs,
      idTokenSigningAlgValues: algs,
      requestObjectSigningAlgValues: algs,
      userinfoSigningAlgValues: algs,
      introspectionSigningAlgValues: algs,
      authorizationSigningAlgValues: algs,
      dPoPSigningAlgValues: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
    },
    pkce: { required: () => true },
    // FAPI 2.0 §5.3.1.2: the redirect_uri is always sent, even when only one is registered.
    allowOmittingSingleRegisteredRedirectUri: false,
    issueRefreshToken: () => false,
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      dPoP: { enabled: true, nonceSecret: dpopNonceSecret },
      // RFC 7662 §4 / RFC 9700: a token is introspected only by the agency it was issued to; any
      // other caller learns nothing (active: false), not even that it exists.
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      claimsParameter: { enabled: false },
      resourceIndicators: { enabled: false },
    },
    conformIdTokenClaims: true,
  } satisfies Configuration;
}

/** Builds the provider; the caller mounts `provider.app` (or its callback) under the koa app. */
export function createProvider({ config, db, jwks }: ProviderDeps): Provider {
  const { ttl } = config.oidc;
  const profile = agencyProfile(Buffer.from(config.secrets.dpopNonceSecret, 'base64'));
  const configuration: Configuration = {
    adapter: createAdapterFactory(db),
    findAccount: createFindAccount(db),
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: [...config.secrets.cookieKeys],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    ...profile,
    pairwiseIdentifier: createPairwiseIdentifier(config.secrets.pairwiseSalt) as Configuration['pairwiseIdentifier'],
    extraClientMetadata: {
      properties: ['facegate_sector'],
      validator(_ctx, key, value) {
        if (key === 'facegate_sector' && value !== undefined && (typeof value !== 'string' || !value)) {
          throw new Error('facegate_sector must be a non-empty string');
        }
      },
    },
    features: {
      ...profile.features,
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogout, postLogoutSuccessSource: renderLoggedOut },
    },
    ttl: {
      AuthorizationCode: ttl.authorizationCode,
      AccessToken: ttl.accessToken,
      IdToken: ttl.idToken,
      Interaction: ttl.interaction,
      Session: ttl.session,
      Grant: ttl.grant,
    },
    interactions: {
      policy: createInteractionPolicy(config.oidc.defaultAcr),
      url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: renderProviderError,
  };
  const provider = new Provider(config.server.issuer, configuration);
  provider.proxy = config.server.trustProxy;
  return provider;
}
