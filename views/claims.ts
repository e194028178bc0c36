// Plain-English words for claims and assurance levels, shared by the sign-in and consent pages.
// Imports nothing; the labels are what a citizen reads before sharing her data.

/** The assurance level a page describes (the short form of the eIDAS LoA URI). */
export type AssuranceLevel = 'substantial' | 'high';

/** Maps an eIDAS LoA URI (or the short form) to the level; anything not "high" is "substantial". */
export function toAssuranceLevel(acr: string): AssuranceLevel {
  return acr === 'high' || acr.endsWith('/high') ? 'high' : 'substantial';
}

/** Human labels for the claims an agency may receive, keyed by claim name. */
export const claimLabels: Readonly<Record<string, string>> = Object.freeze({
  sub: 'A pseudonymous identifier for this agency',
  name: 'Your full name',
  given_name: 'Your first name',
  family_name: 'Your family name',
  birthdate: 'Your date of birth',
  national_id: 'Your national ID number',
  address: 'Your address',
  acr: 'How you were verified',
  amr: 'How you were verified',
});

/** Labels for claim names, without duplicates (acr and amr share one); unknown names are shown as is. */
export function labelClaims(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => claimLabels[n] ?? n))];
}

/** One sentence saying what the level means for the citizen. */
export function describeLevel(level: AssuranceLevel): string {
  return level === 'high'
    ? 'Level: high. We take a few photos while you follow short instructions on the screen, such as blinking, and compare them with your photo in the national registry.'
    : 'Level: substantial. We take a photo of your face and compare it with your photo in the national registry.';
}
