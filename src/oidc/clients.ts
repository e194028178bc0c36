// Agencies (OIDC clients): their metadata as JSON in `clients`, and the one builder that turns an
// agency's registration into this gateway's fixed client profile. Imports zod, db and errors; never oidc-provider or koa.
import { z } from 'zod';
import type { Db } from '../db/knex.ts';
import { AppError } from '../shared/errors.ts';

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
};

type ClientRow = { client_id: string; metadata: string; created_at: number; updated_at: number };

/** The scopes an agency may be granted. */
export const agencyScopes = ['openid', 'profile', 'national_id', 'address'] as const;

const table = 'clients';
const privateJwkMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const loopbackHosts = new Set(['localhost', '127.0.0.1']);

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
}).refine((i) => (i.jwks === undefined) !== (i.jwksUri === undefined), {
  message: 'give exactly one of jwks or jwksUri',
  path: ['jwks'],
});

function invalid(detail: string): AppError {
  return new AppError('invalid_client_metadata', detail);
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
  return {
    client_id: i.clientId,
    client_name: i.name,
    redirect_uris: i.redirectUris,
    ...(i.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: [...new Set(i.postLogoutRedirectUris)] } : {}),
    ...(i.jwks ? { jwks: i.jwks } : { jwks_uri: i.jwksUri }),
    scope: scopes.join(' '),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    id_token_signed_response_alg: 'PS256',
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: true,
    subject_type: 'pairwise',
    facegate_sector: sectorOf(i.redirectUris, i.sector),
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
