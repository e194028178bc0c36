// Rich authorization requests (RFC 9396): the `authorization_details` types an agency may ask
// the citizen to agree to, each with the exact shape it must have (zod, strict: an unknown member
// is refused). Imports zod only: the provider's feature (rar.ts), the agency registration
// (clients.ts) and the consent page share it.
import { z } from 'zod';

/** One authorization detail as it travels (RFC 9396 §2: an object with a `type`). */
export type AuthorizationDetail = { type: string; [member: string]: unknown };

/**
 * The types this gateway understands. Each is purpose-bound: what the agency will do with the
 * sign-in, shown to the citizen in words (views/i18n `authorizationDetails`) and kept with her consent.
 * - `pension_life_certificate`: the pension office records that the citizen is alive (her proof of
 *   life for her pension); no other member.
 * - `tax_record_access`: the tax office opens her tax record of one `year` (an integer, 1900 to the
 *   current year); no other member.
 */
export const authorizationDetailSchemas = {
  pension_life_certificate: z.strictObject({ type: z.literal('pension_life_certificate') }),
  tax_record_access: z.strictObject({
    type: z.literal('tax_record_access'),
    year: z.number().int().min(1900).refine((y) => y <= new Date().getUTCFullYear(), 'must not be in the future'),
  }),
} as const;

export type AuthorizationDetailType = keyof typeof authorizationDetailSchemas;
export const authorizationDetailTypes = Object.keys(authorizationDetailSchemas) as AuthorizationDetailType[];

export const isAuthorizationDetailType = (value: unknown): value is AuthorizationDetailType =>
  typeof value === 'string' && Object.hasOwn(authorizationDetailSchemas, value);

/** Checks a detail against its type's shape: undefined when it is valid, else what is wrong. */
export function authorizationDetailProblem(detail: AuthorizationDetail): string | undefined {
  if (!isAuthorizationDetailType(detail.type)) return `unsupported authorization details type '${String(detail.type)}'`;
  const parsed = authorizationDetailSchemas[detail.type].safeParse(detail);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  const where = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'detail';
  return `${detail.type}: ${where}: ${issue.message}`;
}

/** A detail's canonical JSON (members sorted): two details are the same when these are equal. */
export function canonicalDetail(detail: AuthorizationDetail): string {
  const sort = (v: unknown): unknown => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v);
  return JSON.stringify(sort(detail));
}

/** The details of `wanted` that are among `held` (by canonical JSON), in `wanted`'s order, without repeats. */
export function detailsWithin(wanted: readonly AuthorizationDetail[], held: readonly AuthorizationDetail[]): AuthorizationDetail[] {
  const have = new Set(held.map(canonicalDetail));
  const seen = new Set<string>();
  return wanted.filter((d) => {
    const key = canonicalDetail(d);
    if (!have.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses an `authorization_details` value as oidc-provider hands it on (a JSON string or the array). */
export function detailsOf(value: unknown): AuthorizationDetail[] {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return [];
    }
  }
  return Array.isArray(parsed) ? parsed.filter((d): d is AuthorizationDetail => !!d && typeof d === 'object' && typeof (d as { type?: unknown }).type === 'string') : [];
}
