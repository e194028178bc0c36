// oidc-provider's Rich Authorization Requests feature (RFC 9396) for this gateway: the types of
// authorization-details.ts, each validated in full; an agency asks only for the types registered
// for it (client metadata `authorization_details_types`, checked by oidc-provider); the citizen
// agrees to them on the consent page, which adds them to the Grant; the code, the access token and
// the token response carry exactly the details of this request that the Grant holds. No koa.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import {
  authorizationDetailProblem, authorizationDetailSchemas, detailsOf, detailsWithin, type AuthorizationDetail,
} from './authorization-details.ts';

type Holder = { rar?: AuthorizationDetail[] | readonly AuthorizationDetail[] };

/**
 * oidc-provider binds authorization details to a resource indicator. There are no resource servers
 * here: the details are the agency's own purposes, so a request with details gets the agency's own
 * resource, `urn:facegate:agency:<client_id>`, as its default. The code's access token stays for
 * userinfo (the openid scope, no resource asked at the token endpoint) and carries the details.
 */
export const agencyResource = (clientId: string): string => `urn:facegate:agency:${encodeURIComponent(clientId)}`;

/** The `features.resourceIndicators` configuration that goes with it (any other resource: invalid_target). */
export const resourceIndicators = {
  enabled: true,
  defaultResource(ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: readonly string[]) {
    if (oneOf) return oneOf;
    return ctx.oidc.params?.authorization_details !== undefined ? agencyResource(client.clientId) : undefined;
  },
  getResourceServerInfo(_ctx: KoaContextWithOIDC, resource: string, client: { clientId: string }) {
    if (resource !== agencyResource(client.clientId)) throw new errors.InvalidTarget('this gateway has no resource servers');
    return { scope: '', audience: client.clientId, accessTokenFormat: 'opaque' as const };
  },
  useGrantedResource: () => false,
};

const types = Object.fromEntries(Object.keys(authorizationDetailSchemas).map((type) => [type, {
  validate(_ctx: KoaContextWithOIDC, detail: AuthorizationDetail) {
    const problem = authorizationDetailProblem(detail);
    if (problem) throw new errors.InvalidAuthorizationDetails(problem);
  },
}]));

/** The `features.richAuthorizationRequests` configuration. */
export const richAuthorizationRequests = {
  enabled: true,
  types,
  /**
   * What the code keeps: the details this request asked for, as far as the Grant holds them (the
   * citizen agreed to them); details agreed to in an earlier sign-in are not carried over.
   */
  authorizationDetailsForGrantSource(ctx: KoaContextWithOIDC) {
    const asked = detailsOf(ctx.oidc.params?.authorization_details);
    const held = detailsOf((ctx.oidc.grant as Holder | undefined)?.rar ?? []);
    const kept = detailsWithin(asked, held);
    return kept.length ? kept : undefined;
  },
  /**
   * What the access token carries (and the token response returns): the code's details; a token
   * request may name a subset of them (RFC 9396 §6.1), never a detail the code does not hold.
   */
  authorizationDetailsForAccessToken(ctx: KoaContextWithOIDC, _token: unknown, source: Holder | undefined) {
    const held = detailsOf(source?.rar ?? []);
    const asked = ctx.oidc.params?.authorization_details;
    if (asked === undefined) return held.length ? held : undefined;
    const wanted = detailsOf(asked);
    const kept = detailsWithin(wanted, held);
    if (kept.length !== wanted.length) throw new errors.InvalidAuthorizationDetails('authorization_details not granted for this code');
    return kept.length ? kept : undefined;
  },
  /** Introspection (only by the agency the token was issued to) returns the token's details. */
  authorizationDetailsForIntrospection(_ctx: KoaContextWithOIDC, token: Holder) {
    const held = detailsOf(token.rar ?? []);
    return held.length ? held : undefined;
  },
};
