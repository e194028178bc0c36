// The gateway's own relying party: the citizen's space (src/account/) signs her in through this
// provider as the client `facegate-account`. It is first-party: she is not asked to consent to
// her own space reading her national ID; every other client gets oidc-provider's default.
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The client id of the citizen's space. */
export const accountClientId = 'facegate-account';
/** The only scopes the space is given without a consent page. */
export const accountScopes = 'openid national_id';

/**
 * `loadExistingGrant`: oidc-provider's default (the grant of the consent just given, or the one the
 * session holds for the client); for the space, a grant of `accountScopes` for the signed-in citizen.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
  if (grantId) return oidc.provider.Grant.find(grantId);
  if (oidc.client!.clientId !== accountClientId || !oidc.session?.accountId) return undefined;
  const grant = new oidc.provider.Grant({ accountId: oidc.session.accountId, clientId: accountClientId });
  grant.addOIDCScope(accountScopes);
  await grant.save();
  return grant;
}
