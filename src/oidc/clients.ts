// Agencies (OIDC clients): their metadata as JSON in `clients`, and the one builder that turns an
// agency's registration into this gateway's fixed client profile (with its encryption key checked,
// its back-channel logout URI and its assurance floor). Imports zod, db, errors and the acr URIs of
// the config schema; never oidc-provider or koa.
import { z } from 'zod';
import type { Db } from '../db/knex.ts';
import { acrHigh, acrSubstantial } from '../../config/schema.ts';
import { AppError } from '../shared/errors.ts';
import { authorizationDetailTypes } from './authorization-details.ts';

/** OIDC client metadata as stored and handed to oidc-provider (snake_case, as registered). */
export type AgencyMetadata = { client_id: string; [key: string]: unknown };

/** What an operator gives to register an agency (the CLI's flags). */
export type AgencyInput = {
  clientId: string;
  name: string;
  redirectUris: string[];
  /** Where the agency may send the citizen after RP-initiated logout (`post_logout_redirect_uri`). */
  postLogoutRedirectUris?: string[];
  jwks?: object;
  jwksUri?: string;
  sector?: string;
  scopes?: string[];
  /** RFC 9396 authorization_details types the agency may ask the citizen to agree to (authorization-details.ts). */
  authorizationDetailsTypes?: string[];
  /** Encrypt ID tokens (and logout tokens) to the agency's `use: enc` key: RSA-OAEP-256 or ECDH-ES… */
  idTokenEncryptedResponseAlg?: string;
  /** …with this content encryption (A256GCM, the default when the alg is given). */
  idTokenEncryptedResponseEnc?: string;
  /** Userinfo as a JWT signed (PS256) then encrypted to the agency's `use: enc` key. */
  userinfoEncryptedResponseAlg?: string;
  userinfoEncryptedResponseEnc?: string;
  /** Where logout tokens are posted when a session of the agency ends (OIDC Back-Channel Logout). */
  backchannelLogoutUri?: string;
  /** The agency's assurance floor: `substantial` or `high` (or the eIDAS URI). */
  minAcr?: string;
  /** Proof of life over CIBA (docs/agencies.md#proof-of-life): needs `jwksUri`. */
  ciba?: ProofOfLifeInput;
  /** The agency requires a possession factor (a passkey after the face; docs/agencies.md#possession-factor). */
  requirePossession?: boolean;
  /** The agency refuses, at high, citizens onboarded remotely until an in-person check (docs/agencies.md#remote-onboarding). */
  refuseRemoteOnboardedAtHigh?: boolean;
};

/** The metadata member that says an agency requires a possession factor (src/passkeys/policy.ts). */
export const requirePossessionMetadata = 'facegate_require_possession';

/** The metadata member that says an agency refuses remotely onboarded citizens at high (src/onboarding/policy.ts). */
export const refuseRemoteOnboardedMetadata = 'facegate_refuse_remote_onboarded_at_high';

/** Proof of life over CIBA: how the agency gets its tokens and how the citizen is told. */
export type ProofOfLifeInput = {
  /** `poll`, or `ping` to `clientNotificationEndpoint` (https). */
  deliveryMode: 'poll' | 'ping';
  clientNotificationEndpoint?: string;
  /** `webhook` (the signed notice to `notificationUri`), `qr` (the link in the backchannel answer) or `outbox` (development). */
  notifier?: (typeof proofNotifiers)[number];
  notificationUri?: string;
};

/** How a citizen can be told of a proof-of-life request (src/proof/notifiers.ts). */
export const proofNotifiers = ['webhook', 'qr', 'outbox'] as const;
/** The client metadata of proof of life that oidc-provider does not define. */
export const proofClientMetadata = ['facegate_notifier', 'facegate_notification_uri'];
export const cibaGrantType = 'urn:openid:params:grant-type:ciba';

/** oidc-provider's validator of that metadata (throws). */
export function validateProofClientMetadata(key: string, value: unknown): void {
  if (value === undefined) return;
  if (key === 'facegate_notifier' && !proofNotifiers.includes(value as never)) throw new Error(`facegate_notifier must be one of ${proofNotifiers.join(', ')}`);
  if (key === 'facegate_notification_uri' && (typeof value !== 'string' || !isAllowedRedirect(value))) throw new Error('facegate_notification_uri must be an https URL');
}

type ClientRow = { client_id: string; metadata: string; created_at: number; updated_at: number };

/** The scopes an agency may be granted. */
export const agencyScopes = ['openid', 'profile', 'national_id', 'address'] as const;

const table = 'clients';
const privateJwkMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const loopbackHosts = new Set(['localhost', '127.0.0.1']);

/** JWE key management algorithms an agency may register for its ID tokens and userinfo. */
export const encryptionAlgs = ['RSA-OAEP-256', 'ECDH-ES'] as const;
/** JWE content encryption algorithms an agency may register. */
export const encryptionEncs = ['A256GCM'] as const;
/** The gateway's levels by the names the CLI takes. */
const floors = { substantial: acrSubstantial, high: acrHigh } as const;

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

// RFC 6749 §3.1.2: absolute, no fragment; plain http only on the loopback (RFC 8252 §7.3).
function isAllowedRedirect(value: string): boolean {
  const url = parseUrl(value);
  if (!url || url.hash !== '' || value.includes('#')) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}

const publicJwk = z.looseObject({ kty: z.string().min(1) })
  .refine((jwk) => !privateJwkMembers.some((m) => m in jwk), 'must hold public keys only (no d, p, q, dp, dq, qi or k)');

const inputSchema = z.object({
  clientId: z.string().regex(/^[A-Za-z0-9._-]{3,100}$/, 'must be 3 to 100 of A-Z a-z 0-9 . _ -'),
  name: z.string().trim().min(1, 'must not be empty'),
  redirectUris: z.array(z.string().refine(isAllowedRedirect, 'must be an absolute https URL without a fragment (http only for localhost or 127.0.0.1)'))
    .min(1, 'needs at least one redirect URI'),
  postLogoutRedirectUris: z.array(z.string().refine(isAllowedRedirect, 'must be an absolute https URL without a fragment (http only for localhost or 127.0.0.1)')).optional(),
  jwks: z.object({ keys: z.array(publicJwk).min(1, 'needs at least one key') }, 'must be an object with a keys array').optional(),
  jwksUri: z.string().refine((v) => parseUrl(v)?.protocol === 'https:', 'must be an absolute https URL').optional(),
  sector: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be a host name').optional(),
  scopes: z.array(z.enum(agencyScopes)).optional(),
  authorizationDetailsTypes: z.array(z.enum(authorizationDetailTypes)).optional(),
  idTokenEncryptedResponseAlg: z.enum(encryptionAlgs).optional(),
  idTokenEncryptedResponseEnc: z.enum(encryptionEncs).optional(),
  userinfoEncryptedResponseAlg: z.enum(encryptionAlgs).optional(),
  userinfoEncryptedResponseEnc: z.enum(encryptionEncs).optional(),
  backchannelLogoutUri: z.string().refine(isAllowedRedirect, 'must be an absolute https URL without a fragment (http only for localhost or 127.0.0.1)').optional(),
  ciba: z.object({
    deliveryMode: z.enum(['poll', 'ping']),
    // oidc-provider takes only https for the ping (CIBA §4).
    clientNotificationEndpoint: z.string().refine((v) => parseUrl(v)?.protocol === 'https:' && !v.includes('#'), 'must be an absolute https URL without a fragment').optional(),
    notifier: z.enum(proofNotifiers).default('webhook'),
    notificationUri: z.string().refine(isAllowedRedirect, 'must be an absolute https URL without a fragment (http only for localhost or 127.0.0.1)').optional(),
  }).refine((c) => (c.deliveryMode === 'ping') === Boolean(c.clientNotificationEndpoint), {
    message: 'ping needs a client notification endpoint, poll takes none', path: ['clientNotificationEndpoint'],
  }).refine((c) => (c.notifier === 'webhook') === Boolean(c.notificationUri), {
    message: 'the webhook notifier needs a notification URI, the others take none', path: ['notificationUri'],
  }).optional(),
  minAcr: z.string().transform((v, c) => {
    const acr = v in floors ? floors[v as keyof typeof floors] : v;
    if (acr === acrSubstantial || acr === acrHigh) return acr;
    c.addIssue({ code: 'custom', message: `must be substantial or high (or ${acrSubstantial} / ${acrHigh})` });
    return z.NEVER;
  }).optional(),
  requirePossession: z.boolean().optional(),
  refuseRemoteOnboardedAtHigh: z.boolean().optional(),
}).refine((i) => (i.jwks === undefined) !== (i.jwksUri === undefined), {
  message: 'give exactly one of jwks or jwksUri',
  path: ['jwks'],
});

function invalid(detail: string): AppError {
  return new AppError('invalid_client_metadata', detail);
}

type Jwk = { kty: string; use?: unknown; alg?: unknown; kid?: unknown; crv?: unknown; n?: unknown; x?: unknown; y?: unknown; key_ops?: unknown };

/** The key types (and curves) oidc-provider encrypts to with each algorithm. */
const encryptionKeyTypes: Record<(typeof encryptionAlgs)[number], { kty: string[]; crv?: string[]; label: string }> = {
  'RSA-OAEP-256': { kty: ['RSA'], label: 'an RSA key (kty RSA, 2048 bits or more)' },
  'ECDH-ES': { kty: ['EC', 'OKP'], crv: ['P-256', 'P-384', 'P-521', 'X25519'], label: 'an EC key on P-256, P-384 or P-521, or an OKP X25519 key' },
};

const keyName = (jwk: Jwk, i: number) => (typeof jwk.kid === 'string' ? `key "${jwk.kid}"` : `key #${i + 1}`);
const material = (jwk: Jwk) => JSON.stringify([jwk.kty, jwk.crv, jwk.n, jwk.x, jwk.y]);
const rsaBits = (jwk: Jwk) => (typeof jwk.n === 'string' ? Buffer.from(jwk.n, 'base64url').length * 8 : 0);

/**
 * Checks that a JWKS can receive `alg` (`field` names the registration option): a key of the right
 * type marked `use: enc`, its alg (when it says one) that alg, not the key material of a signing
 * key; and that no key of that type is left without a `use`, which oidc-provider could take for
 * either purpose. Throws invalid_client_metadata naming the problem.
 */
function checkEncryptionKey(jwks: { keys: Jwk[] }, alg: (typeof encryptionAlgs)[number], field: string): void {
  const want = encryptionKeyTypes[alg];
  const fits = (k: Jwk) => want.kty.includes(k.kty) && (!want.crv || k.kty === 'RSA' || want.crv.includes(String(k.crv)));
  const unmarked = jwks.keys.findIndex((k) => fits(k) && k.use === undefined);
  if (unmarked >= 0) {
    throw invalid(`${field} ${alg}: jwks ${keyName(jwks.keys[unmarked], unmarked)} has no "use": mark the encryption key "use": "enc" and the signing keys "use": "sig"`);
  }
  const enc = jwks.keys.map((k, i) => ({ k, i })).filter(({ k }) => k.use === 'enc');
  if (!enc.length) {
    throw invalid(`${field} ${alg}: jwks has no encryption key ("use": "enc"), only signing keys: add ${want.label} with "use": "enc"`);
  }
  const usable = enc.filter(({ k }) => fits(k));
  if (!usable.length) {
    const found = enc.map(({ k, i }) => `${keyName(k, i)} is kty ${k.kty}${k.crv ? ` ${String(k.crv)}` : ''}`).join(', ');
    throw invalid(`${field} ${alg}: no "use": "enc" key of the type ${alg} needs (${found}): add ${want.label}`);
  }
  const signing = new Set(jwks.keys.filter((k) => k.use !== 'enc').map(material));
  const problems = usable.map(({ k, i }) => {
    if (k.alg !== undefined && k.alg !== alg) return `${keyName(k, i)} says "alg": "${String(k.alg)}", not ${alg}`;
    if (Array.isArray(k.key_ops) && k.kty === 'RSA' && !k.key_ops.includes('encrypt')) return `${keyName(k, i)} has key_ops without "encrypt"`;
    if (k.kty === 'RSA' && rsaBits(k) < 2048) return `${keyName(k, i)} is an RSA key under 2048 bits`;
    if (signing.has(material(k))) return `${keyName(k, i)} is the same key as a signing key: encrypt to a key of its own`;
    return undefined;
  });
  if (problems.every(Boolean)) throw invalid(`${field} ${alg}: no usable encryption key (${problems.join('; ')})`);
}

/** The encryption members of the metadata, checked against the agency's JWKS when it gave one. */
function encryptionMetadata(i: z.infer<typeof inputSchema>): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = [
    ['idTokenEncryptedResponse', 'id_token_encrypted_response'],
    ['userinfoEncryptedResponse', 'userinfo_encrypted_response'],
  ] as const;
  for (const [input, member] of parts) {
    const alg = i[`${input}Alg`];
    const enc = i[`${input}Enc`];
    if (!alg) {
      if (enc) throw invalid(`${input}Enc: given without ${input}Alg`);
      continue;
    }
    // With a jwks_uri the keys are not fetched here: oidc-provider fetches them when it encrypts,
    // and refuses to issue (invalid_client_metadata) when no usable `use: enc` key is published.
    if (i.jwks) checkEncryptionKey(i.jwks as { keys: Jwk[] }, alg, `${input}Alg`);
    out[`${member}_alg`] = alg;
    out[`${member}_enc`] = enc ?? 'A256GCM';
  }
  // oidc-provider encrypts userinfo only as a nested JWT: signed first, as the ID token is.
  if (out.userinfo_encrypted_response_alg) out.userinfo_signed_response_alg = 'PS256';
  return out;
}

// One redirect host per agency: oidc-provider would otherwise demand a sector_identifier_uri and
// fetch it. The sector defaults to that host (as oidc-provider derives it); --sector lets several
// agencies of one sector share their pairwise subjects.
function sectorOf(redirectUris: string[], sector: string | undefined): string {
  const hosts = [...new Set(redirectUris.map((u) => new URL(u).host))];
  if (hosts.length > 1) throw invalid(`redirectUris span several hosts (${hosts.join(', ')}): register one agency per host`);
  return sector ?? hosts[0];
}

/**
 * Validates an agency registration and returns its client metadata for this gateway's profile:
 * authorization code only, private_key_jwt, PAR and DPoP required, pairwise subjects, PS256 ID tokens.
 * Throws AppError('invalid_client_metadata') naming the offending field.
 */
export function buildAgencyMetadata(input: AgencyInput): AgencyMetadata {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const i = parsed.data;
  const scopes = [...new Set(['openid', ...(i.scopes ?? ['profile'])])];
  if (i.jwks && i.jwks.keys.every((k) => k.use === 'enc')) throw invalid('jwks: needs a signing key ("use": "sig") for private_key_jwt, not only encryption keys');
  const encryption = encryptionMetadata(i);
  // oidc-provider: a pairwise CIBA client has its keys at a jwks_uri.
  if (i.ciba && !i.jwksUri) throw invalid('ciba: proof of life (CIBA) needs the agency\'s keys at a jwksUri, not an inline jwks');
  const sector = sectorOf(i.redirectUris, i.sector);
  return {
    client_id: i.clientId,
    client_name: i.name,
    redirect_uris: i.redirectUris,
    ...(i.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: [...new Set(i.postLogoutRedirectUris)] } : {}),
    ...(i.jwks ? { jwks: i.jwks } : { jwks_uri: i.jwksUri }),
    scope: scopes.join(' '),
    // RFC 9396 §10; without it oidc-provider refuses every authorization_details type for the agency.
    ...(i.authorizationDetailsTypes?.length ? { authorization_details_types: [...new Set(i.authorizationDetailsTypes)] } : {}),
    grant_types: ['authorization_code', ...(i.ciba ? [cibaGrantType] : [])],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    ...(i.ciba ? cibaMetadata(i.ciba, sector) : {}),
    id_token_signed_response_alg: 'PS256',
    ...encryption,
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: true,
    subject_type: 'pairwise',
    ...(i.backchannelLogoutUri ? { backchannel_logout_uri: i.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    facegate_sector: sector,
    ...(i.minAcr ? { facegate_min_acr: i.minAcr } : {}),
    ...(i.requirePossession ? { [requirePossessionMetadata]: true } : {}),
    ...(i.refuseRemoteOnboardedAtHigh ? { [refuseRemoteOnboardedMetadata]: true } : {}),
  };
}

/**
 * The CIBA members. oidc-provider wants a sector_identifier_uri from a pairwise client with both the
 * code and the ciba grant; its host is the registered sector, and it is never fetched
 * (sectorIdentifierUriValidate in provider.ts): the sub is computed on facegate_sector.
 */
function cibaMetadata(c: NonNullable<z.infer<typeof inputSchema>['ciba']>, sector: string): Record<string, string> {
  return {
    backchannel_token_delivery_mode: c.deliveryMode,
    ...(c.clientNotificationEndpoint ? { backchannel_client_notification_endpoint: c.clientNotificationEndpoint } : {}),
    sector_identifier_uri: `https://${sector}/`,
    facegate_notifier: c.notifier,
    ...(c.notificationUri ? { facegate_notification_uri: c.notificationUri } : {}),
  };
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Stores a new agency; AppError('client_exists') when its client_id is taken. */
export async function registerClient(db: Db, metadata: AgencyMetadata, clock: () => number = Date.now): Promise<void> {
  const now = clock();
  try {
    await db(table).insert({ client_id: metadata.client_id, metadata: JSON.stringify(metadata), created_at: now, updated_at: now });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('client_exists', undefined, { clientId: metadata.client_id });
    throw err;
  }
}

/** Stores an agency, replacing its metadata if it exists (the demo agency, provider writes). */
export async function upsertClient(db: Db, metadata: AgencyMetadata, clock: () => number = Date.now): Promise<void> {
  const now = clock();
  await db(table)
    .insert({ client_id: metadata.client_id, metadata: JSON.stringify(metadata), created_at: now, updated_at: now })
    .onConflict('client_id')
    .merge(['metadata', 'updated_at']);
}

/** The agency's stored metadata, or undefined. */
export async function findClient(db: Db, clientId: string): Promise<AgencyMetadata | undefined> {
  const row = await db<ClientRow>(table).where({ client_id: clientId }).first();
  return row ? (JSON.parse(row.metadata) as AgencyMetadata) : undefined;
}

/** Every agency's metadata, ordered by client_id. */
export async function listClients(db: Db): Promise<AgencyMetadata[]> {
  const rows = await db<ClientRow>(table).select('metadata').orderBy('client_id');
  return rows.map((r) => JSON.parse(r.metadata) as AgencyMetadata);
}

/** Removes an agency; true when one was removed. */
export async function removeClient(db: Db, clientId: string): Promise<boolean> {
  return (await db(table).where({ client_id: clientId }).delete()) > 0;
}
