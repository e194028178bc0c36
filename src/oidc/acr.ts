// Assurance levels (eIDAS LoA URIs), their order, and the login-prompt check that keeps a session
// at substantial from answering a request for high. Imports oidc-provider's policy types only.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { acrHigh, acrSubstantial } from '../../config/schema.ts';

export { acrHigh, acrSubstantial };
export type Acr = typeof acrSubstantial | typeof acrHigh;
export type Level = 'substantial' | 'high';

const rank: Record<Acr, number> = { [acrSubstantial]: 1, [acrHigh]: 2 };

export const levelOf = (acr: Acr): Level => (acr === acrHigh ? 'high' : 'substantial');
export const acrOf = (level: Level): Acr => (level === 'high' ? acrHigh : acrSubstantial);
export const isAcr = (value: unknown): value is Acr => value === acrSubstantial || value === acrHigh;

/** True when a session authenticated at `have` satisfies a request that needs `need`. */
export const satisfies = (have: unknown, need: Acr): boolean => isAcr(have) && rank[have] >= rank[need];

/**
 * The level a request needs: the lowest supported level among `acr_values` (the agency accepts any
 * of them: OIDC Core §3.1.2.1), else the agency's `default_acr_values`, else the gateway default.
 * Unknown values are ignored, as acr_values are voluntary claims.
 */
export function requiredAcr(acrValues: string | undefined, clientDefaults: readonly string[] | undefined, fallback: Acr): Acr {
  for (const list of [acrValues?.split(' '), clientDefaults]) {
    const known = (list ?? []).filter(isAcr);
    if (known.length) return known.reduce((a, b) => (rank[a] <= rank[b] ? a : b));
  }
  return fallback;
}

/** Login check: the session's acr must reach the required level, or a new face check is needed. */
export function acrLevelCheck(fallback: Acr): InstanceType<typeof interactionPolicy.Check> {
  const need = (ctx: KoaContextWithOIDC) => requiredAcr(
    ctx.oidc.params?.acr_values as string | undefined,
    ctx.oidc.client?.defaultAcrValues as string[] | undefined,
    fallback,
  );
  return new interactionPolicy.Check(
    'acr_level',
    'the session does not reach the requested assurance level',
    (ctx) => (ctx.oidc.session?.accountId && !satisfies(ctx.oidc.acr, need(ctx))
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT),
    (ctx) => ({ required_acr: need(ctx) }),
  );
}

/** The default policy with the acr check added to the login prompt. */
export function createInteractionPolicy(fallback: Acr): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(acrLevelCheck(fallback));
  return policy;
}
