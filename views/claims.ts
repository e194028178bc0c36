// Plain words for claims and assurance levels, shared by the sign-in and consent pages, in the
// page language (views/i18n). The labels are what a citizen reads before sharing her data.
import { messagesOf, type Lang } from './i18n/index.ts';

/** The assurance level a page describes (the short form of the eIDAS LoA URI). */
export type AssuranceLevel = 'substantial' | 'high';

/** Maps an eIDAS LoA URI (or the short form) to the level; anything not "high" is "substantial". */
export function toAssuranceLevel(acr: string): AssuranceLevel {
  return acr === 'high' || acr.endsWith('/high') ? 'high' : 'substantial';
}

/** English labels for the claims an agency may receive, keyed by claim name. */
export const claimLabels: Readonly<Record<string, string>> = Object.freeze({ ...messagesOf('en').claims });

/** Labels for claim names, without duplicates (acr and amr share one); unknown names are shown as is. */
export function labelClaims(names: readonly string[], lang: Lang = 'en'): string[] {
  const labels = messagesOf(lang).claims;
  return [...new Set(names.map((n) => labels[n] ?? n))];
}

/** One sentence saying what the level means for the citizen. */
export function describeLevel(level: AssuranceLevel, lang: Lang = 'en'): string {
  return messagesOf(lang).levels[level];
}
