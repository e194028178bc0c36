// An agency's "requires a possession factor" setting (client metadata facegate_require_possession,
// docs/agencies.md#possession-factor) as oidc-provider sees it: a login-prompt check (a session
// signed in with the face alone signs her in again for that agency) and the last word on the token
// path (no ID token without hwk or swk in its amr for that agency). Imports oidc-provider only.
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import { requirePossessionMetadata } from '../oidc/clients.ts';

/** RFC 8176 values that say a possession factor (a passkey) was used. */
export const possessionAmr = ['hwk', 'swk'] as const;

export const hasPossession = (amr: readonly string[] | undefined): boolean => Boolean(amr?.some((v) => (possessionAmr as readonly string[]).includes(v)));

/** True when the agency registered "requires a possession factor". */
export function requiresPossession(client: { metadata(): Record<string, unknown> } | undefined): boolean {
  return client?.metadata()[requirePossessionMetadata] === true;
}

/** Login check: for an agency that requires a possession factor, a session without one prompts a new sign-in. */
export function possessionCheck(): InstanceType<typeof interactionPolicy.Check> {
  return new interactionPolicy.Check(
    'possession_factor',
    'the agency requires a possession factor (a passkey) that the session does not have',
    (ctx) => (ctx.oidc.session?.accountId && requiresPossession(ctx.oidc.client) && !hasPossession(ctx.oidc.amr)
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  );
}

/** Adds the possession check to the login prompt of a policy. */
export function withPossessionCheck<P extends interactionPolicy.DefaultPolicy>(policy: P): P {
  policy.get('login')!.checks.add(possessionCheck());
  return policy;
}

/** No ID token for an agency that requires a possession factor unless the sign-in used one. */
export function refuseIdTokensWithoutPossession(provider: Provider): void {
  const { prototype } = provider.IdToken;
  const issue = prototype.issue;
  prototype.issue = async function issueWithPossession(this: InstanceType<Provider['IdToken']>, options) {
    if (options?.use === 'idtoken' && requiresPossession(this.client) && !hasPossession(this.available.amr as string[] | undefined)) {
      throw new errors.InvalidGrant('the agency requires a possession factor (a passkey) and the sign-in used none');
    }
    return issue.call(this, options);
  };
}
