// Assurance levels (eIDAS LoA URIs), their order, an agency's floor, and the login-prompt check that
// keeps a session at substantial from answering a request for high (or an agency whose floor is
// high). Imports oidc-provider's policy types only.
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

/** The higher of two levels. */
const higher = (a: Acr, b: Acr): Acr => (rank[a] >= rank[b] ? a : b);

/**
 * The level a request needs. Without a floor: the lowest supported level among `acr_values` (the
 * agency accepts any of them: OIDC Core §3.1.2.1), else the agency's `default_acr_values`, else
 * the gateway default. With a floor (the agency's registered minimum, `facegate_min_acr`): the
 * highest supported level among them, and never less than the floor (values below it are dropped;
 * when none remains, the floor). Unknown values are ignored, as acr_values are voluntary claims.
 */
export function requiredAcr(acrValues: string | undefined, clientDefaults: readonly string[] | undefined, fallback: Acr, floor?: Acr): Acr {
  for (const list of [acrValues?.split(' '), clientDefaults]) {
    const known = (list ?? []).filter(isAcr);
    if (!known.length) continue;
    if (!floor) return known.reduce((a, b) => (rank[a] <= rank[b] ? a : b));
    return higher(floor, known.reduce(higher));
  }
  return floor ? higher(floor, fallback) : fallback;
}

/** The metadata member that holds an agency's assurance floor (an eIDAS acr URI). */
export const minAcrMetadata = 'facegate_min_acr';

/** An agency's assurance floor, from its registered metadata; undefined when it has none. */
export function floorOf(client: { metadata(): Record<string, unknown> } | undefined): Acr | undefined {
  const floor = client?.metadata()[minAcrMetadata];
  return isAcr(floor) ? floor : undefined;
}

/**
 * Login check: the session's acr must reach the required level (never below the agency's floor),
 * or a new face check is needed.
 */
export function acrLevelCheck(fallback: Acr): InstanceType<typeof interactionPolicy.Check> {
  const need = (ctx: KoaContextWithOIDC) => requiredAcr(
    ctx.oidc.params?.acr_values as string | undefined,
    ctx.oidc.client?.defaultAcrValues as string[] | undefined,
    fallback,
    floorOf(ctx.oidc.client),
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
