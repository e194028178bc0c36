// OpenID Connect for Identity Assurance 1.0 (final): `verified_claims`, asked for through the
// `claims` parameter and returned in the ID token or userinfo. What the gateway attests is the face
// check of this sign-in: the live person was compared, remotely and automatically, with the face
// template of her record in the citizen registry, with passive liveness (and the active challenge
// at high). So every answer carries one evidence, an `electronic_record` of type
// `population_register` checked with `bvr`, plus `biopad` for the liveness check (not one of the
// specification's predefined values: it has none for presentation attack detection). Only the
// claims the agency asked for inside `verified_claims`, that it is entitled to (its registered
// scopes) and that the citizen agreed to are released, and only the verification members it asked
// for (trust_framework always: the schema requires it). docs/agencies.md has a decoded example.
// Imports oidc-provider's policy Check only; no koa.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/** The claims that may appear inside `verified_claims.claims` (all come from the registry record). */
export const claimsInVerifiedClaims = ['given_name', 'family_name', 'birthdate', 'address', 'national_id'] as const;

/** The predefined values of IDA (and the one that is not) this gateway uses. */
export const evidence = {
  type: 'electronic_record',
  recordType: 'population_register',
  /** Predefined: biometric verification by an automated system, the user and capture device remote. */
  biometricCheck: 'bvr',
  /** Not predefined in IDA 1.0: presentation attack detection (liveness), as NIST's mDL profile names it. */
  livenessCheck: 'biopad',
} as const;

/** What the gateway attests for one sign-in: the level reached and when the face check was decided. */
export type Verification = { acr: string; authTime: number };

export type AssuranceSettings = {
  /** IDA `trust_framework` (oidc.trustFramework). */
  trustFramework: string;
  /** The registry's name in `evidence[].record.source.name` (oidc.registryName). */
  registryName: string;
};

/** The key a Grant keeps for a claim the citizen agreed to release inside verified_claims. */
export const grantKey = (claim: string): string => `verified_claims.${claim}`;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The discovery metadata of IDA 1.0 §8 (claims_parameter_supported comes from the feature). */
export function assuranceDiscovery(settings: AssuranceSettings) {
  return {
    verified_claims_supported: true,
    trust_frameworks_supported: [settings.trustFramework],
    evidence_supported: [evidence.type],
    electronic_records_supported: [evidence.recordType],
    claims_in_verified_claims_supported: [...claimsInVerifiedClaims],
  };
}

/** The verified_claims request objects of a claims parameter (parsed or as its JSON string). */
function requestsOf(claimsParameter: unknown): Json[] {
  let parsed = claimsParameter;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return [];
    }
  }
  if (!isObject(parsed)) return [];
  return ['id_token', 'userinfo'].map((k) => (parsed as Json)[k]).filter(isObject)
    .map((part) => part.verified_claims).filter(isObject);
}

/** The claims a claims parameter asks for by name, outside verified_claims (id_token and userinfo). */
export function claimsNamedIn(claimsParameter: unknown): string[] {
  let parsed = claimsParameter;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return [];
    }
  }
  if (!isObject(parsed)) return [];
  const names = ['id_token', 'userinfo'].map((k) => (parsed as Json)[k]).filter(isObject).flatMap((part) => Object.keys(part));
  return [...new Set(names)].filter((n) => n !== 'verified_claims');
}

/**
 * The claims a request asks to receive verified and may get: asked for inside a verified_claims
 * request (id_token or userinfo), supported there, and `entitled` (accounts.ts entitledClaims).
 */
export function requestedVerifiedClaims(claimsParameter: unknown, entitled: ReadonlySet<string>): string[] {
  return [...new Set(requestsOf(claimsParameter).flatMap((r) => namesIn(r, entitled)))];
}

/** The claims one verified_claims request asks for that are supported there and `entitled`. */
export function namesIn(request: unknown, entitled: ReadonlySet<string>): string[] {
  const supported = new Set<string>(claimsInVerifiedClaims);
  const names = isObject(request) && isObject(request.claims) ? Object.keys(request.claims) : [];
  return names.filter((n) => supported.has(n) && entitled.has(n));
}

/**
 * `claimsParameter.assertClaimsParameter`: a verified_claims request must be an object (or an array
 * of objects) with a `verification` object and a non-empty `claims` object (IDA 1.0 §5); anything
 * else is a malformed request. Returns the problem, or undefined.
 */
export function verifiedClaimsRequestProblem(parameter: object): string | undefined {
  const claims = parameter as Json;
  for (const part of ['id_token', 'userinfo']) {
    const member = isObject(claims[part]) ? (claims[part] as Json).verified_claims : undefined;
    if (member === undefined) continue;
    const requests = Array.isArray(member) ? member : [member];
    if (!requests.length) return `claims.${part}.verified_claims must not be an empty array`;
    for (const r of requests) {
      if (!isObject(r)) return `claims.${part}.verified_claims must be an object`;
      if (!isObject(r.verification)) return `claims.${part}.verified_claims.verification must be an object`;
      if (!isObject(r.claims) || !Object.keys(r.claims).length) return `claims.${part}.verified_claims.claims must be a non-empty object`;
      for (const [name, value] of Object.entries(r.claims)) {
        if (value !== null && !isObject(value)) return `claims.${part}.verified_claims.claims.${name} must be null or an object`;
      }
      if (r.verification.evidence !== undefined && r.verification.evidence !== null && !Array.isArray(r.verification.evidence)) {
        return `claims.${part}.verified_claims.verification.evidence must be an array`;
      }
    }
  }
  return undefined;
}

/** A request member's constraint (`value` / `values`, OIDC Core §5.5.1) holds for `actual`. */
function meets(request: unknown, actual: unknown): boolean {
  if (!isObject(request)) return true;
  if ('value' in request && request.value !== actual) return false;
  if (Array.isArray(request.values) && !request.values.includes(actual)) return false;
  return true;
}

const isoSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The level a sign-in's acr reached, as IDA `assurance_level` (eIDAS: substantial / high). */
const assuranceLevelOf = (acr: string) => (acr.endsWith('/high') ? 'high' : 'substantial');

/**
 * The one evidence of a face check, shaped by the RP's evidence templates (IDA 1.0 §5.3): each
 * member only when asked for (type always); undefined when no template's filter matches it.
 */
function evidenceFor(templates: unknown[], at: string, settings: AssuranceSettings): Json | undefined {
  const template = templates.filter(isObject).find((t) => meets(t.type, evidence.type));
  if (!template) return undefined;
  const out: Json = { type: evidence.type };
  if ('check_details' in template) {
    const checks = [
      { check_method: evidence.biometricCheck, time: at },
      { check_method: evidence.livenessCheck, time: at },
    ];
    const filters = Array.isArray(template.check_details) ? template.check_details.filter(isObject) : [];
    const kept = filters.length ? checks.filter((c) => filters.some((f) => meets(f.check_method, c.check_method))) : checks;
    if (!kept.length) return undefined;
    const wantsTime = !filters.length || filters.some((f) => 'time' in f);
    out.check_details = kept.map((c) => (wantsTime ? c : { check_method: c.check_method }));
  }
  if ('time' in template) {
    if (!meets(template.time, at)) return undefined;
    out.time = at;
  }
  if ('record' in template) {
    const asked = isObject(template.record) ? template.record : undefined;
    if (asked && !meets(asked.type, evidence.recordType)) return undefined;
    out.record = {
      type: evidence.recordType,
      ...(!asked || 'source' in asked ? { source: { name: settings.registryName } } : {}),
    };
  }
  return out;
}

/**
 * Builds the `verified_claims` answer to one request for a citizen: `available` her claims,
 * `releasable` the names this agency may receive verified (entitled, supported, agreed to),
 * `verification` this sign-in's face check. Undefined when nothing can be released or the
 * verification does not meet the request's constraints (IDA 1.0 §5.7: then the whole element is
 * omitted, never an error). `now` in epoch seconds, for max_age.
 */
export function buildVerifiedClaims(
  request: unknown, available: Json, releasable: ReadonlySet<string>, verification: Verification | undefined,
  settings: AssuranceSettings, now = Math.floor(Date.now() / 1000),
): Json | undefined {
  if (!isObject(request) || !isObject(request.verification) || !isObject(request.claims) || !verification) return undefined;
  const asked = request.verification;
  const at = isoSeconds(verification.authTime);
  const out: Json = {};
  if (!meets(asked.trust_framework, settings.trustFramework)) return undefined;
  out.trust_framework = settings.trustFramework;
  if ('assurance_level' in asked) {
    const level = assuranceLevelOf(verification.acr);
    if (!meets(asked.assurance_level, level)) return undefined;
    out.assurance_level = level;
  }
  if ('time' in asked) {
    const maxAge = isObject(asked.time) ? asked.time.max_age : undefined;
    if (typeof maxAge === 'number' && now - verification.authTime > maxAge) return undefined;
    out.time = at;
  }
  if (Array.isArray(asked.evidence)) {
    const one = evidenceFor(asked.evidence, at, settings);
    if (!one) return undefined;
    out.evidence = [one];
  }
  const claims: Json = {};
  for (const [name, constraint] of Object.entries(request.claims)) {
    if (!releasable.has(name) || available[name] === undefined || !meets(constraint, available[name])) continue;
    claims[name] = available[name];
  }
  if (!Object.keys(claims).length) return undefined;
  return { verification: out, claims };
}

/** The face check a token stands for: the code (acr, authTime) or an access token (extra, see provider.ts). */
export function verificationOf(token: unknown): Verification | undefined {
  const t = token as { acr?: unknown; authTime?: unknown; extra?: { acr?: unknown; auth_time?: unknown } } | undefined;
  const acr = t?.acr ?? t?.extra?.acr;
  const authTime = t?.authTime ?? t?.extra?.auth_time;
  return typeof acr === 'string' && typeof authTime === 'number' ? { acr, authTime } : undefined;
}

/**
 * `extraTokenClaims` for access tokens: the level and time of the face check of the code (or CIBA
 * request) they are issued for, so that userinfo can attest them too (RFC 9470 names them `acr`
 * and `auth_time`; introspection, only by the same agency, returns them).
 */
export function accessTokenVerification(ctx: KoaContextWithOIDC, token: { kind?: string; extra?: Json }): Json | undefined {
  if (token.kind !== 'AccessToken') return undefined;
  if (token.extra) return token.extra;
  const entities = ctx?.oidc?.entities as Record<string, { acr?: string; authTime?: number } | undefined> | undefined;
  const source = entities?.AuthorizationCode ?? entities?.BackchannelAuthenticationRequest ?? entities?.DeviceCode;
  return source?.acr && typeof source.authTime === 'number' ? { acr: source.acr, auth_time: source.authTime } : undefined;
}

/**
 * A consent check: the citizen agrees to each claim released inside verified_claims (a Grant that
 * holds `verified_claims` from an earlier consent does not cover a claim asked for now). Details:
 * `missingVerifiedClaims`, the names the consent page lists and its submission adds (grantKey).
 */
export function verifiedClaimsConsentCheck(entitled: (client: KoaContextWithOIDC['oidc']['client']) => ReadonlySet<string>) {
  const missingOf = (ctx: KoaContextWithOIDC) => {
    const agreed = new Set(ctx.oidc.grant?.getOIDCClaimsEncountered() ?? []);
    return requestedVerifiedClaims(ctx.oidc.params?.claims, entitled(ctx.oidc.client)).filter((n) => !agreed.has(grantKey(n)));
  };
  return new interactionPolicy.Check(
    'verified_claims_missing',
    'requested verified claims not granted',
    (ctx) => (missingOf(ctx).length ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT),
    (ctx) => ({ missingVerifiedClaims: missingOf(ctx) }),
  );
}
