// Where a sign-in finishes once the face is verified (the capture stream, a phone's handoff, the
// passkey step): `finishSignIn` hands oidc-provider the login (accountId, acr, amr, auth_time) and
// answers where the browser goes next. A step after the face (the passkey step, src/passkeys/) is
// registered per provider with `registerSignInStep`: while the login is the face's alone, that step
// may answer a page to continue at instead; the step itself finishes with `{ final: true }`. A gate
// (`registerSignInGate`, src/onboarding/gate.ts) sees every sign-in first: it may add an amr value or refuse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

export type SignIn = {
  citizenId: string;
  /** The level the face was verified at. */
  acr: string;
  /** RFC 8176 values: ['face', 'user'], plus 'hwk' or 'swk' after a passkey. */
  amr: string[];
  /** When the face check was decided, in seconds (auth_time). */
  ts: number;
};

/** Answers the path of the step's page, or undefined to finish the sign-in now. */
export type SignInStep = (req: IncomingMessage, res: ServerResponse, signIn: SignIn) => Promise<string | undefined>;

/**
 * Runs before the step and at the end of every sign-in (src/onboarding/gate.ts): answers the
 * sign-in to finish with (its amr may gain a value), or a refusal for the agency.
 */
export type SignInGate = (req: IncomingMessage, res: ServerResponse, signIn: SignIn) =>
  Promise<{ signIn: SignIn } | { refuse: { error: string; description: string } }>;

const steps = new WeakMap<Provider, SignInStep>();
const gates = new WeakMap<Provider, SignInGate>();

/** Registers the step that follows a verified face for this provider's sign-ins (one per provider). */
export function registerSignInStep(provider: Provider, step: SignInStep): void {
  steps.set(provider, step);
}

/** Registers the gate of this provider's sign-ins (one per provider). */
export function registerSignInGate(provider: Provider, gate: SignInGate): void {
  gates.set(provider, gate);
}

/**
 * Finishes the interaction of this request (its cookie) with the login; answers the URL to send the
 * browser to (the agency's callback through the provider, or the registered step's page).
 * `final`: the step after the face is done (or declined): finish without it.
 */
export async function finishSignIn(
  provider: Provider, req: IncomingMessage, res: ServerResponse, given: SignIn, options: { final?: boolean } = {},
): Promise<string> {
  const gated = await gates.get(provider)?.(req, res, given) ?? { signIn: given };
  if ('refuse' in gated) return refuseSignIn(provider, req, res, gated.refuse.error, gated.refuse.description);
  const { signIn } = gated;
  const step = options.final ? undefined : steps.get(provider);
  if (step) {
    const page = await step(req, res, signIn);
    if (page) return page;
  }
  return provider.interactionResult(req, res, {
    login: { accountId: signIn.citizenId, acr: signIn.acr, amr: signIn.amr, remember: false, ts: signIn.ts },
  }, { mergeWithLastSubmission: false });
}

/** Ends the interaction with an error for the agency (OAuth error and description). */
export async function refuseSignIn(provider: Provider, req: IncomingMessage, res: ServerResponse, error: string, description: string): Promise<string> {
  return provider.interactionResult(req, res, { error, error_description: description }, { mergeWithLastSubmission: false });
}
