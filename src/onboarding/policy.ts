// An agency's "refuse remotely onboarded citizens at high" setting (client metadata
// facegate_refuse_remote_onboarded_at_high, docs/agencies.md#remote-onboarding) as oidc-provider sees
// it. A sign-in of a citizen onboarded remotely and not yet checked in person carries the amr value
// `remote_onboarded` (gate.ts adds it); for such an agency a session with it at high signs her in
// again (the gate then refuses), and no ID token at high is issued with it. A sign-in rule: src/oidc/sign-in-rules.ts.
import { acrHigh } from '../oidc/acr.ts';
import { refuseRemoteOnboardedMetadata } from '../oidc/clients.ts';
import type { SignInRule } from '../oidc/sign-in-rules.ts';

/**
 * Not an RFC 8176 value (that registry has none for how the face template was enrolled; §6.1
 * leaves other values to the parties' agreement): the face was matched against a template made
 * from a remote onboarding with an identity document that no operator has checked in person yet.
 */
export const remoteOnboardedAmr = 'remote_onboarded';

export const isRemoteOnboarded = (amr: readonly string[] | undefined): boolean => Boolean(amr?.includes(remoteOnboardedAmr));

/** True when the agency registered "refuse remotely onboarded citizens at high". */
export function refusesRemoteOnboardedAtHigh(client: { metadata(): Record<string, unknown> } | undefined): boolean {
  return client?.metadata()[refuseRemoteOnboardedMetadata] === true;
}

/** The words of the refusal (unmet_authentication_requirements) at the agency. */
export const inPersonCheckDescription = 'in_person_check_required: the agency refuses citizens onboarded remotely at high until an in-person check';

/** For such an agency: a sign-in at high that carries the mark (src/oidc/sign-in-rules.ts). */
export const remoteOnboardingRule: SignInRule = {
  name: 'remote_onboarding',
  description: 'the agency refuses citizens onboarded remotely at high until an in-person check',
  refusal: inPersonCheckDescription,
  breaks: (client, acr, amr) => acr === acrHigh && refusesRemoteOnboardedAtHigh(client) && isRemoteOnboarded(amr),
};
