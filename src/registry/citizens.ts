// Citizen records of the registry: the input schema, the row and domain shapes, lookups, the
// create-only insert and the upsert. Imports knex types, zod, shared/ (never koa, oidc or biometrics).
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { AppError } from '../shared/errors.ts';

/** Epoch milliseconds now; injected so tests freeze time. */
export type Clock = () => number;

/** A knex instance or a transaction on it: every query here runs on whichever it is given. */
export type Queryable = Knex | Knex.Transaction;

export const citizenStatuses = ['active', 'suspended', 'deceased'] as const;
export type CitizenStatus = (typeof citizenStatuses)[number];

/** The `citizens` table as stored (times are epoch ms). */
export interface CitizenRow {
  id: string;
  national_id: string;
  given_name: string;
  family_name: string;
  birthdate: string;
  address: string | null;
  status: CitizenStatus;
  created_at: number;
  updated_at: number;
}

/** A citizen as the rest of the gateway sees it. */
export interface Citizen {
  id: string;
  nationalId: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD. */
  birthdate: string;
  address?: string;
  status: CitizenStatus;
}

/** Whether the upsert inserted, changed or left the record as it was. */
export type Change = 'created' | 'updated' | 'unchanged';

const nationalIdPattern = /^[A-Z0-9]{6,20}$/;
const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD (2023-02-29 is not one). */
function isCalendarDate(value: string): boolean {
  const m = isoDate.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const name = z.string().trim().min(1).max(200);

/**
 * The schema of a citizen record as an operator supplies it. A factory because "not in the
 * future" needs the clock. National IDs are trimmed and uppercased; an empty address is none.
 */
export const citizenInput = (clock: Clock) => z.object({
  nationalId: z.string().trim().toUpperCase().regex(nationalIdPattern, 'expected 6-20 letters A-Z or digits'),
  givenName: name,
  familyName: name,
  birthdate: z.string().trim()
    .refine(isCalendarDate, 'expected a real calendar date, YYYY-MM-DD')
    // Compared as strings: YYYY-MM-DD sorts like the date, in UTC.
    .refine((d) => d <= new Date(clock()).toISOString().slice(0, 10), 'birthdate is in the future'),
  address: z.string().trim().max(500).optional().transform((a) => a || undefined),
});

/** A citizen record as supplied; after `parseCitizenInput` also validated and normalised. */
export interface CitizenInput {
  nationalId: string;
  givenName: string;
  familyName: string;
  birthdate: string;
  address?: string;
}

/**
 * Validates and normalises a citizen record. Throws AppError `invalid_national_id` when the ID is
 * wrong, else `invalid_citizen`, with the failing fields in `details` (never the values).
 */
export function parseCitizenInput(value: unknown, clock: Clock): CitizenInput {
  const parsed = citizenInput(clock).safeParse(value);
  if (parsed.success) {
    const { address, ...fields } = parsed.data;
    return address ? { ...fields, address } : fields;
  }
  const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  const fields = [...new Set(issues.map((i) => i.field))];
  const code = fields.includes('nationalId') ? 'invalid_national_id' : 'invalid_citizen';
  throw new AppError(code, `citizen record: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { fields, issues });
}

/** Trims and uppercases a national ID; throws `invalid_national_id` if it is not in the format. */
export function normalizeNationalId(value: string): string {
  const id = value.trim().toUpperCase();
  if (!nationalIdPattern.test(id)) throw new AppError('invalid_national_id');
  return id;
}

/**
 * A national ID as a person types it, in the registry's form: spaces and dashes typed for
 * readability are dropped, then normalized. The same ID therefore gives the same risk key
 * wherever it is typed (the sign-in page, `facegate risk`).
 */
export function normalizeTypedNationalId(raw: unknown): string {
  return normalizeNationalId(typeof raw === 'string' ? raw.replace(/[\s-]/g, '') : '');
}

/** The domain shape of a row. */
export function toCitizen(row: CitizenRow): Citizen {
  return {
    id: row.id,
    nationalId: row.national_id,
    givenName: row.given_name,
    familyName: row.family_name,
    birthdate: row.birthdate,
    ...(row.address != null ? { address: row.address } : {}),
    status: row.status,
  };
}

/** True when the stored citizen already says exactly what the (validated) input says. */
export function isSameRecord(citizen: Citizen, input: CitizenInput): boolean {
  return citizen.nationalId === input.nationalId && citizen.givenName === input.givenName
    && citizen.familyName === input.familyName && citizen.birthdate === input.birthdate
    && (citizen.address ?? undefined) === (input.address ?? undefined);
}

/** The citizen with this national ID, if registered. Throws `invalid_national_id` on a malformed ID. */
export async function findCitizenByNationalId(db: Queryable, nationalId: string): Promise<Citizen | undefined> {
  const row = await db<CitizenRow>('citizens').where({ national_id: normalizeNationalId(nationalId) }).first();
  return row ? toCitizen(row) : undefined;
}

/** The citizen with this internal id (a UUID), if any. */
export async function findCitizenById(db: Queryable, id: string): Promise<Citizen | undefined> {
  const row = await db<CitizenRow>('citizens').where({ id }).first();
  return row ? toCitizen(row) : undefined;
}

/** The record fields an update may change, by their domain names (what the audit trail names, never their values). */
export const recordFields = ['givenName', 'familyName', 'birthdate', 'address'] as const;
export type RecordField = (typeof recordFields)[number];

/** The record fields whose value differs between the stored citizen and the (validated) input. */
export function changedFields(citizen: Citizen, input: CitizenInput): RecordField[] {
  return recordFields.filter((f) => (citizen[f] ?? undefined) !== (input[f] ?? undefined));
}

// pg: unique_violation; better-sqlite3: SQLITE_CONSTRAINT_UNIQUE.
const isUniqueViolation = (err: unknown): boolean => {
  const code = String((err as { code?: unknown }).code ?? '');
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/**
 * Creates the citizen, and only that: throws AppError `citizen_exists` (with `details.citizenId`
 * when known) if the national ID is already registered, also when a concurrent insert wins the
 * unique index. Re-validates its input. Writes no audit event: go through `enrollCitizen`.
 */
export async function insertCitizen(db: Queryable, input: CitizenInput, clock: Clock): Promise<Citizen> {
  const valid = parseCitizenInput(input, clock);
  const existing = await db<CitizenRow>('citizens').where({ national_id: valid.nationalId }).first('id');
  if (existing) throw new AppError('citizen_exists', undefined, { citizenId: existing.id });
  const now = clock();
  const row: CitizenRow = {
    id: randomUUID(), national_id: valid.nationalId, given_name: valid.givenName, family_name: valid.familyName,
    birthdate: valid.birthdate, address: valid.address ?? null, status: 'active', created_at: now, updated_at: now,
  };
  try {
    await db('citizens').insert(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('citizen_exists');
    throw err;
  }
  return toCitizen(row);
}

/**
 * Creates the citizen, or updates the record registered under the same national ID (`fields`: the
 * names of those that changed). Re-validates its input. The status of an existing citizen is kept:
 * an import never reactivates a suspended or deceased citizen. Run it in the caller's transaction
 * when other writes depend on it. Writes no audit event: go through `enrollCitizen`.
 */
export async function upsertCitizen(db: Queryable, input: CitizenInput, clock: Clock): Promise<{ citizen: Citizen; change: Change; fields: RecordField[] }> {
  const valid = parseCitizenInput(input, clock);
  const existing = await db<CitizenRow>('citizens').where({ national_id: valid.nationalId }).first();
  if (!existing) return { citizen: await insertCitizen(db, valid, clock), change: 'created', fields: [] };
  const fields = changedFields(toCitizen(existing), valid);
  if (fields.length === 0) return { citizen: toCitizen(existing), change: 'unchanged', fields };
  const now = clock();
  const values = { given_name: valid.givenName, family_name: valid.familyName, birthdate: valid.birthdate, address: valid.address ?? null };
  await db('citizens').where({ id: existing.id }).update({ ...values, updated_at: now });
  return { citizen: toCitizen({ ...existing, ...values, updated_at: now }), change: 'updated', fields };
}
