// What an agency sees of a remote onboarding at sign-in (registered with finish.ts): a citizen whose
// template came from a remote onboarding not yet checked in person signs in with the amr value
// `remote_onboarded` (so the ID token and the grant's audit row say so); at high, an agency that
// refuses such citizens gets unmet_authentication_requirements, audited. Imports db, oidc-provider.
import type Provider from 'oidc-provider';
import type { Audit } from '../audit/log.ts';
import type { SignInGate } from '../capture/finish.ts';
import type { Db } from '../db/knex.ts';
import { acrHigh } from '../oidc/acr.ts';
import { inPersonCheckDescription, refusesRemoteOnboardedAtHigh, remoteOnboardedAmr } from './policy.ts';
import { findMark } from './store.ts';

export function createRemoteOnboardingGate({ db, provider, audit }: { db: Db; provider: Provider; audit: Audit }): SignInGate {
  return async (req, res, signIn) => {
    const mark = await findMark(db, signIn.citizenId);
    if (!mark || mark.confirmedAt != null) return { signIn };
    const marked = { ...signIn, amr: signIn.amr.includes(remoteOnboardedAmr) ? signIn.amr : [...signIn.amr, remoteOnboardedAmr] };
    if (signIn.acr !== acrHigh) return { signIn: marked };
    const details = await provider.interactionDetails(req, res);
    const clientId = String(details.params.client_id);
    if (!refusesRemoteOnboardedAtHigh(await provider.Client.find(clientId))) return { signIn: marked };
    await audit({
      type: 'onboarding.sign_in_refused', outcome: 'failure', code: 'in_person_check_required',
      interactionUid: details.uid, clientId, citizenId: signIn.citizenId,
      details: { acr: signIn.acr, onboardedAt: new Date(mark.onboardedAt).toISOString() },
    });
    return { refuse: { error: 'unmet_authentication_requirements', description: inPersonCheckDescription } };
  };
}
