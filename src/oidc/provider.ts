// The oidc-provider configuration for agencies: oidc-provider's FAPI 2.0 Security Profile plus
// the choices it leaves open set explicitly (code flow, PAR, PKCE S256, private_key_jwt, DPoP,
// PS256/ES256), eIDAS acr, pairwise sub, scope → claims. Protocol work stays in oidc-provider; this
// module only configures it, plus three hooks: CORS closed beyond discovery and the JWKS, replay
// detection that holds across instances, and DPoP proofs from the future refused. No koa routes here.
import { decodeJwt } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Db } from '../db/knex.ts';
import { isOutage, outageRetrySeconds } from '../shared/errors.ts';
import { acrHigh, acrSubstantial, createInteractionPolicy, floorOf, isAcr, minAcrMetadata, satisfies } from './acr.ts';
import { claimsConfiguration, createFindAccount, createPairwiseIdentifier, entitledClaims, supportedScopes } from './accounts.ts';
import { createAdapterFactory, replayDetectedCode } from './adapter.ts';
import { encryptionAlgs, encryptionEncs, proofClientMetadata, refuseRemoteOnboardedMetadata, requirePossessionMetadata, validateProofClientMetadata } from './clients.ts';
import { loadExistingGrant } from './first-party.ts';
import { signingAlgs } from './keys.ts';
import { possessionRule } from '../passkeys/policy.ts';
import { remoteOnboardingRule } from '../onboarding/policy.ts';
import { refuseIdTokensBreaking, withSignInRules } from './sign-in-rules.ts';
import { renderProviderError, renderLogout, renderLoggedOut } from './pages.ts';
import { resourceIndicators, richAuthorizationRequests } from './rar.ts';
import { accessTokenVerification, assuranceDiscovery, verifiedClaimsConsentCheck, verifiedClaimsRequestProblem } from './verified-claims.ts';

export type ProviderDeps = {
  config: Readonly<Config>; db: Db; jwks: { keys: object[] };
  /** Proof of life over CIBA (src/proof/service.ts): features.ciba and the request lifetime. */
  ciba?: { feature: NonNullable<NonNullable<Configuration['features']>['ciba']>; requestTtl: (ctx?: KoaContextWithOIDC) => number };
  /** Requests to agencies (jwks_uri, CIBA pings): src/oidc/outbound.ts. */
  fetch?: Configuration['fetch'];
};

const algs = [...signingAlgs];

/**
 * The protocol profile every agency gets (FAPI 2.0 Security Profile), independent of storage,
 * accounts and secrets; the benchmark's bare provider uses the same one. `clockTolerance`: how far
 * (seconds) an agency's clock may run ahead (oidc.clockToleranceSeconds).
 */
export function agencyProfile(dpopNonceSecret: Buffer, clockTolerance = 15) {
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
      // ID tokens and userinfo encrypted to the agency's `use: enc` key when it registered for it
      // (src/oidc/clients.ts checks the key); nothing symmetric, nothing derived from a secret.
      idTokenEncryptionAlgValues: [...encryptionAlgs],
      idTokenEncryptionEncValues: [...encryptionEncs],
      userinfoEncryptionAlgValues: [...encryptionAlgs],
      userinfoEncryptionEncValues: [...encryptionEncs],
    },
    pkce: { required: () => true },
    // FAPI 2.0 §5.3.1.2: the redirect_uri is always sent, even when only one is registered.
    allowOmittingSingleRegisteredRedirectUri: false,
    // No refresh tokens: issueRefreshToken is left at its default (only to a client allowed the
    // refresh_token grant, for offline_access). Without offline_access in `scopes` the provider
    // neither offers that grant (discovery, client metadata) nor handles it. Overriding it, even
    // with () => false, would make the provider advertise and handle the grant.

    // Agencies are server-side confidential clients: no browser origin may call their endpoints.
    clientBasedCORS: () => false,
    features: {
      // Client assertions' aud only the issuer, PKCE, the redirect_uri always sent, no access token
      // in the query (FAPI 2.0 Security Profile, final).
      fapi: { enabled: true, profile: '2.0' },
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      dPoP: { enabled: true, nonceSecret: dpopNonceSecret },
      // RFC 7662 §4 / RFC 9700: a token is introspected only by the agency it was issued to; any
      // other caller learns nothing (active: false), not even that it exists.
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      // RFC 7009: only the agency a token was issued to revokes it. Another agency's request is
      // answered like one for an unknown token (200, nothing revoked): it learns nothing, not
      // even that the token is valid (oidc-provider's default answers it with an error saying so).
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      // JWE for the agencies that registered id_token_/userinfo_encrypted_response_alg; userinfo
      // is then a JWT, signed then encrypted (oidc-provider requires userinfo_signed_response_alg
      // with the encryption). Agencies that did not register get plain ID tokens and JSON userinfo.
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      // Logout tokens to the agency's backchannel_logout_uri when a session ends (retries and the
      // audit: src/oidc/backchannel-logout.ts).
      backchannelLogout: { enabled: true },
      // The claims parameter, for OpenID Connect for Identity Assurance's verified_claims (a
      // malformed verified_claims request is refused); claims by name are still cut to what the
      // agency is entitled to (accounts.ts).
      claimsParameter: {
        enabled: true,
        assertClaimsParameter(_ctx, claims) {
          const problem = verifiedClaimsRequestProblem(claims);
          if (problem) throw new errors.InvalidRequest(problem);
        },
      },
      // Required by rich authorization requests. There are no resource servers: the access token
      // of a code is for userinfo; only the agency's own resource (rar.ts) is known, any other
      // `resource` is refused (invalid_target).
      resourceIndicators,
      // RFC 9396 authorization_details, per agency (authorization_details_types): src/oidc/rar.ts.
      richAuthorizationRequests,
    },
    conformIdTokenClaims: true,
    clockTolerance,
    // FAPI 2.0 SP 5.3.2.1-14: a client assertion issued (iat) or valid (nbf) further ahead than the
    // tolerance is refused; oidc-provider checks nbf, and iat only when exp is absent. Its FAPI 2.0
    // check (aud must be the issuer identifier, as a string) is kept: this replaces the hook.
    async assertJwtClientAuthClaimsAndHeader(ctx, claims) {
      if (claims.aud !== ctx.oidc.issuer) throw new errors.InvalidClientAuth('audience (aud) must equal the issuer identifier url');
      const ahead = Math.floor(Date.now() / 1000) + clockTolerance;
      if (typeof claims.iat === 'number' && claims.iat > ahead) throw new errors.InvalidClientAuth('the client assertion was issued (iat) in the future');
    },
  } satisfies Configuration;
}

/** Builds the provider; the caller mounts `provider.app` (or its callback) under the koa app. */
/** The agencies' rules on how a sign-in was made: checked at login and on every ID token. */
const signInRules = [possessionRule, remoteOnboardingRule];

export function createProvider({ config, db, jwks, ciba, fetch }: ProviderDeps): Provider {
  const { ttl } = config.oidc;
  const profile = agencyProfile(Buffer.from(config.secrets.dpopNonceSecret, 'base64'), config.oidc.clockToleranceSeconds);
  const configuration: Configuration = {
    adapter: createAdapterFactory(db),
    findAccount: createFindAccount(db, { trustFramework: config.oidc.trustFramework, registryName: config.oidc.registryName }),
    // The citizen's space (src/account/) is first-party: no consent page for it (first-party.ts).
    loadExistingGrant,
    // OpenID Connect for Identity Assurance 1.0 §8 (verified-claims.ts).
    discovery: assuranceDiscovery({ trustFramework: config.oidc.trustFramework, registryName: config.oidc.registryName }),
    // Access tokens remember the level and time of the face check, for verified_claims at userinfo.
    extraTokenClaims: (ctx, token) => accessTokenVerification(ctx, token as Parameters<typeof accessTokenVerification>[1]),
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: [...config.secrets.cookieKeys],
      // In production every request reaching the provider came over https (src/server/app.ts):
      // Secure is stated outright, so a cookie can never be set without it.
      long: { httpOnly: true, sameSite: 'lax', ...(config.env === 'production' ? { secure: true } : {}) },
      short: { httpOnly: true, sameSite: 'lax', ...(config.env === 'production' ? { secure: true } : {}) },
    },
    ...profile,
    pairwiseIdentifier: createPairwiseIdentifier(config.secrets.pairwiseSalt) as Configuration['pairwiseIdentifier'],
    extraClientMetadata: {
      properties: ['facegate_sector', minAcrMetadata, requirePossessionMetadata, refuseRemoteOnboardedMetadata, ...proofClientMetadata],
      validator(_ctx, key, value) {
        validateProofClientMetadata(key, value);
        if (key === 'facegate_sector' && value !== undefined && (typeof value !== 'string' || !value)) {
          throw new Error('facegate_sector must be a non-empty string');
        }
        if (key === requirePossessionMetadata && value !== undefined && typeof value !== 'boolean') throw new Error(`${requirePossessionMetadata} must be a boolean`);
        if (key === refuseRemoteOnboardedMetadata && value !== undefined && typeof value !== 'boolean') throw new Error(`${refuseRemoteOnboardedMetadata} must be a boolean`);
        if (key === minAcrMetadata && value !== undefined && !isAcr(value)) {
          throw new Error(`${minAcrMetadata} must be ${acrSubstantial} or ${acrHigh}`);
        }
      },
    },
    features: {
      ...profile.features,
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogout, postLogoutSuccessSource: renderLoggedOut },
      ...(ciba ? { ciba: ciba.feature } : {}),
    },
    ...(fetch ? { fetch } : {}),
    // A CIBA agency's sector_identifier_uri only carries its registered sector (clients.ts): the pairwise
    // sub is computed on facegate_sector, so the URI is never fetched.
    sectorIdentifierUriValidate: () => false,
    ttl: {
      AuthorizationCode: ttl.authorizationCode,
      AccessToken: ttl.accessToken,
      IdToken: ttl.idToken,
      Interaction: ttl.interaction,
      Session: ttl.session,
      Grant: ttl.grant,
      ...(ciba ? { BackchannelAuthenticationRequest: (ctx: KoaContextWithOIDC) => ciba.requestTtl(ctx) } : {}),
    },
    interactions: {
      policy: withSignInRules(withVerifiedClaimsConsent(createInteractionPolicy(config.oidc.defaultAcr)), signInRules),
      url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: renderProviderError,
  };
  const provider = new Provider(config.server.issuer, configuration);
  // As the app (src/server/app.ts): the provider's own audit events read the client IP too.
  provider.proxy = config.server.trustProxy;
  provider.maxIpsCount = config.server.proxyHops;
  reportReplaysAsDuplicates(provider);
  closeCors(provider);
  outagesAreRetryable(provider);
  refuseFutureDpopProofs(provider, config.oidc.clockToleranceSeconds);
  refuseIdTokensBelowFloor(provider);
  refuseIdTokensBreaking(provider, signInRules);
  return provider;
}

/**
 * The login check (src/oidc/acr.ts) makes a session below an agency's floor sign the citizen in
 * again; this is the last word on the token path: an ID token whose acr is below the agency's
 * registered floor is never issued (a code from before the floor was raised gets invalid_grant).
 */
function refuseIdTokensBelowFloor(provider: Provider): void {
  const { prototype } = provider.IdToken;
  const issue = prototype.issue;
  prototype.issue = async function issueAboveFloor(this: InstanceType<Provider['IdToken']>, options) {
    const floor = options?.use === 'idtoken' ? floorOf(this.client) : undefined;
    if (floor && !satisfies(this.available.acr, floor)) {
      throw new errors.InvalidGrant(`the sign-in did not reach the agency's minimum assurance level (${floor})`);
    }
    return issue.call(this, options);
  };
}

/** The consent prompt also asks for each claim to be released inside verified_claims. */
function withVerifiedClaimsConsent(policy: ReturnType<typeof createInteractionPolicy>): ReturnType<typeof createInteractionPolicy> {
  policy.get('consent')!.checks.add(verifiedClaimsConsentCheck(entitledClaims));
  return policy;
}

/**
 * oidc-provider accepts a DPoP proof whose iat is up to five minutes away (either side) without a
 * nonce, and checks no iat with one. FAPI 2.0 SP 5.3.2.1-14 refuses proofs from further in the
 * future than the tolerance; this does, before the proof is verified (a proof it lets through is
 * still verified in full by oidc-provider). The proof's age in the past stays bounded by
 * oidc-provider's window and its jti by replay detection; server nonces are not required.
 */
function refuseFutureDpopProofs(provider: Provider, toleranceSeconds: number): void {
  provider.use(async (ctx, next) => {
    const proof = ctx.get('DPoP');
    let iat: unknown;
    try {
      iat = proof ? decodeJwt(proof).iat : undefined;
    } catch {
      iat = undefined; // not a JWT: oidc-provider refuses it with its own error
    }
    if (typeof iat !== 'number' || iat <= Math.floor(Date.now() / 1000) + toleranceSeconds) return next();
    const error = 'invalid_dpop_proof';
    const description = 'DPoP proof iat is in the future';
    // The userinfo endpoint is a resource: its errors go in WWW-Authenticate (RFC 9449 §7.1).
    if (ctx.path === new URL(provider.urlFor('userinfo')).pathname) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `DPoP error="${error}", error_description="${description}", algs="ES256 PS256 Ed25519 EdDSA"`);
    } else {
      ctx.status = 400;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error, error_description: description };
  });
}

/**
 * oidc-provider answers any error of its own storage 500 server_error. When that error is a
 * dependency outage (src/shared/errors.ts isOutage: the database down, full or failing over), the
 * answer is 503 with Retry-After instead, and in JSON `temporarily_unavailable` (RFC 6749
 * §4.1.2.1's code for it): an agency's server may send the same request again shortly.
 */
function outagesAreRetryable(provider: Provider): void {
  const outages = new WeakSet<object>();
  provider.on('server_error', (ctx: object, err: unknown) => { if (isOutage(err)) outages.add(ctx); });
  provider.use(async (ctx, next) => {
    await next();
    if (!outages.has(ctx)) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(outageRetrySeconds));
    if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is briefly unavailable; try again in a few seconds' };
    }
  });
}

// Discovery and the JWKS are public documents; every other endpoint is for agencies' servers.
const openCorsRoutes = new Set(['discovery', 'cors.discovery', 'jwks', 'cors.jwks']);

/**
 * clientBasedCORS refuses a cross-origin request once its client is known, but oidc-provider still
 * answers every preflight, and a request that fails before its client is known, with the caller's
 * Origin. This removes the CORS headers of every endpoint but discovery and the JWKS.
 */
function closeCors(provider: Provider): void {
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = (ctx as KoaContextWithOIDC).oidc?.route;
      if (route && !openCorsRoutes.has(route)) {
        for (const header of Object.keys(ctx.response.headers)) {
          if (header.startsWith('access-control-')) ctx.remove(header);
        }
      }
    }
  });
}

/**
 * `ReplayDetection.unique` finds, then saves: two instances can both find nothing. The adapter's
 * save of a stored id throws `replay_detected`; here that loser answers "not unique" (false), as a
 * found id does, so the caller refuses the assertion or proof with its own error.
 */
function reportReplaysAsDuplicates(provider: Provider): void {
  const { ReplayDetection } = provider;
  const unique = ReplayDetection.unique.bind(ReplayDetection);
  ReplayDetection.unique = async (iss, jti, exp) => {
    try {
      return await unique(iss, jti, exp);
    } catch (err) {
      if ((err as { code?: unknown }).code === replayDetectedCode) return false;
      throw err;
    }
  };
}
