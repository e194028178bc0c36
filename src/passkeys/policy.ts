// An agency's "requires a possession factor" setting (client metadata facegate_require_possession,
// docs/agencies.md#possession-factor) as a sign-in rule (src/oidc/sign-in-rules.ts): a session
// signed in with the face alone signs her in again for that agency, and no ID token without hwk or
// swk in its amr is issued to it.
import { requirePossessionMetadata } from '../oidc/clients.ts';
import type { SignInRule } from '../oidc/sign-in-rules.ts';

/** RFC 8176 values that say a possession factor (a passkey) was used. */
export const possessionAmr = ['hwk', 'swk'] as const;

export const hasPossession = (amr: readonly string[] | undefined): boolean => Boolean(amr?.some((v) => (possessionAmr as readonly string[]).includes(v)));

/** True when the agency registered "requires a possession factor". */
export function requiresPossession(client: { metadata(): Record<string, unknown> } | undefined): boolean {
  return client?.metadata()[requirePossessionMetadata] === true;
}

/** For an agency that requires a possession factor: a sign-in without hwk or swk in its amr (src/oidc/sign-in-rules.ts). */
export const possessionRule: SignInRule = {
  name: 'possession_factor',
  description: 'the agency requires a possession factor (a passkey) that the session does not have',
  refusal: 'the agency requires a possession factor (a passkey) and the sign-in used none',
  breaks: (client, _acr, amr) => requiresPossession(client) && !hasPossession(amr),
};
