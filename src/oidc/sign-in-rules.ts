// An agency's rules on how a sign-in was made (a possession factor required, citizens onboarded
// remotely refused at high), as oidc-provider sees them. Each rule is a login-prompt check (a
// session that breaks the rule for this agency signs the citizen in again, where the rule's own
// step then asks for what is missing or refuses) and the last word on the token path (no ID token
// that breaks it is issued). Imports oidc-provider only.
import Provider, { errors, interactionPolicy } from 'oidc-provider';

type ClientLike = { metadata(): Record<string, unknown> } | undefined;

export type SignInRule = {
  /** The login check's name, and what it says when it prompts. */
  name: string;
  description: string;
  /** The invalid_grant description when a token request would break the rule. */
  refusal: string;
  /** True when a sign-in at `acr` with `amr` breaks the rule for `client`. */
  breaks(client: ClientLike, acr: string | undefined, amr: readonly string[] | undefined): boolean;
};

/** Adds each rule's check to the login prompt of a policy. */
export function withSignInRules<P extends interactionPolicy.DefaultPolicy>(policy: P, rules: readonly SignInRule[]): P {
  for (const rule of rules) {
    policy.get('login')!.checks.add(new interactionPolicy.Check(rule.name, rule.description, (ctx) => (
      ctx.oidc.session?.accountId && rule.breaks(ctx.oidc.client, ctx.oidc.acr, ctx.oidc.amr)
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT
    )));
  }
  return policy;
}

/** No ID token that breaks one of `rules` (authorization code, refresh, CIBA: every grant issues through here). */
export function refuseIdTokensBreaking(provider: Provider, rules: readonly SignInRule[]): void {
  const { prototype } = provider.IdToken;
  const issue = prototype.issue;
  prototype.issue = async function issueByTheRules(this: InstanceType<Provider['IdToken']>, options) {
    if (options?.use === 'idtoken') {
      const { acr, amr } = this.available as { acr?: string; amr?: string[] };
      const broken = rules.find((rule) => rule.breaks(this.client, acr, amr));
      if (broken) throw new errors.InvalidGrant(broken.refusal);
    }
    return issue.call(this, options);
  };
}
