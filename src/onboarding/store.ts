// Persistence of remote onboarding (migration 0009): the short-lived sessions (`onboarding_sessions`,
// versioned like capture flows, the document portrait's embedding sealed with the data key and bound
// to the session) and the mark of a citizen onboarded remotely (`remote_onboardings`). Imports db,
// shared/; never koa.
import type { Queryable } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import type { Sealed, Sealer } from '../shared/sealed.ts';

/** document: waiting for a document photo; capture: for the live capture; then onboarded or refused (final). */
export type OnboardingState = 'document' | 'capture' | 'onboarded' | 'refused';

/** What is kept of the document read (no image, no names): enough for the audit and the mark. */
export type DocumentSummary = { format: string; documentType: string; issuingState: string; expiryDate: string };

export interface OnboardingSession {
  id: string;
  browserHash: string;
  /** HMAC of the typed national ID (src/risk/keys.ts): the key of the per-ID limit. */
  idKey: string;
  /** Null when the ID is not an active citizen of the registry: the session runs the same until the document. */
  citizenId: string | null;
  state: OnboardingState;
  documentAttempts: number;
  document: DocumentSummary | null;
  modelId: string | null;
  code: string | null;
  version: number;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

type SessionRow = {
  id: string; browser_hash: string; id_key: string; citizen_id: string | null; state: string; document_attempts: number;
  document: string | null; portrait: string | null; model_id: string | null; code: string | null;
  version: number; expires_at: number | string; created_at: number | string; updated_at: number | string;
};

const toSession = (r: SessionRow): OnboardingSession => ({
  id: r.id, browserHash: r.browser_hash, idKey: r.id_key, citizenId: r.citizen_id, state: r.state as OnboardingState,
  documentAttempts: r.document_attempts, document: r.document ? JSON.parse(r.document) as DocumentSummary : null,
  modelId: r.model_id, code: r.code, version: r.version,
  expiresAt: Number(r.expires_at), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export async function insertSession(db: Queryable, s: OnboardingSession): Promise<void> {
  await db('onboarding_sessions').insert({
    id: s.id, browser_hash: s.browserHash, id_key: s.idKey, citizen_id: s.citizenId, state: s.state, document_attempts: s.documentAttempts,
    document: null, portrait: null, model_id: null, code: null, version: s.version,
    expires_at: s.expiresAt, created_at: s.createdAt, updated_at: s.updatedAt,
  });
}

export async function loadSession(db: Queryable, id: string): Promise<OnboardingSession> {
  const row = await db<SessionRow>('onboarding_sessions').where({ id }).first();
  if (!row) throw new AppError('onboarding_not_found');
  return toSession(row);
}

/** Sessions started for this ID key since `since` (the per-ID limit). */
export async function countSessions(db: Queryable, idKey: string, since: number): Promise<number> {
  const [{ n }] = await db('onboarding_sessions').where({ id_key: idKey }).andWhere('created_at', '>=', since).count({ n: '*' });
  return Number(n);
}

export type SessionChange = Partial<Pick<OnboardingSession, 'state' | 'documentAttempts' | 'document' | 'modelId' | 'code' | 'citizenId'>> & {
  /** The portrait's embedding to seal (null: wipe it). */
  portrait?: ArrayLike<number> | null;
};

const aad = (sessionId: string) => `onboarding:${sessionId}:portrait`;
const seal = (sealer: Sealer, id: string, e: ArrayLike<number> | null) =>
  e === null ? null : JSON.stringify(sealer.seal(Buffer.from(new Float32Array(Array.from(e)).buffer), aad(id)));

/**
 * Writes a change if nobody changed the session since `s` was read (version); onboarding_closed
 * otherwise (a concurrent request won). A final state wipes the portrait's embedding.
 */
export async function updateSession(db: Queryable, sealer: Sealer, s: OnboardingSession, change: SessionChange, now: number): Promise<OnboardingSession> {
  const final = change.state === 'onboarded' || change.state === 'refused';
  const fields: Record<string, unknown> = { version: s.version + 1, updated_at: now };
  if (change.state) fields.state = change.state;
  if (change.documentAttempts !== undefined) fields.document_attempts = change.documentAttempts;
  if (change.document !== undefined) fields.document = change.document ? JSON.stringify(change.document) : null;
  if (change.modelId !== undefined) fields.model_id = change.modelId;
  if (change.code !== undefined) fields.code = change.code;
  if (change.citizenId !== undefined) fields.citizen_id = change.citizenId;
  if (change.portrait !== undefined) fields.portrait = seal(sealer, s.id, change.portrait);
  if (final) fields.portrait = null;
  const n = await db('onboarding_sessions').where({ id: s.id, version: s.version }).update(fields);
  if (n !== 1) throw new AppError('onboarding_closed');
  const { portrait: _p, ...rest } = change;
  return { ...s, ...rest, version: s.version + 1, updatedAt: now };
}

/** The session's document portrait embedding, opened; undefined when there is none. */
export async function openPortrait(db: Queryable, sealer: Sealer, id: string): Promise<Float32Array | undefined> {
  const row = await db<SessionRow>('onboarding_sessions').where({ id }).first('portrait');
  const sealed = row?.portrait;
  if (!sealed) return undefined;
  const buf = sealer.open(JSON.parse(sealed) as Sealed, aad(id));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Deletes sessions created before `before` (housekeeping: they are kept a day for the per-ID limit). */
export async function pruneSessions(db: Queryable, before: number): Promise<number> {
  return db('onboarding_sessions').where('created_at', '<', before).del();
}

/** The mark of a remote onboarding, as an operator lists it. */
export interface RemoteOnboarding {
  citizenId: string; sessionId: string; documentType: string; issuingState: string; documentExpiry: string; modelId: string; onboardedAt: number;
  /** The in-person check (`facegate onboarding confirm`, migration 0013): when and by whom; null before. */
  confirmedAt?: number | null; confirmedBy?: string | null;
}

type MarkRow = {
  citizen_id: string; session_id: string; document_type: string; issuing_state: string; document_expiry: string; model_id: string;
  onboarded_at: number | string; confirmed_at?: number | string | null; confirmed_by?: string | null;
};
const toMark = (r: MarkRow): RemoteOnboarding => ({
  citizenId: r.citizen_id, sessionId: r.session_id, documentType: r.document_type, issuingState: r.issuing_state,
  documentExpiry: r.document_expiry, modelId: r.model_id, onboardedAt: Number(r.onboarded_at),
  confirmedAt: r.confirmed_at == null ? null : Number(r.confirmed_at), confirmedBy: r.confirmed_by ?? null,
});

export async function insertMark(db: Queryable, m: RemoteOnboarding): Promise<void> {
  await db('remote_onboardings').insert({
    citizen_id: m.citizenId, session_id: m.sessionId, document_type: m.documentType, issuing_state: m.issuingState,
    document_expiry: m.documentExpiry, model_id: m.modelId, onboarded_at: m.onboardedAt,
  });
}

export async function findMark(db: Queryable, citizenId: string): Promise<RemoteOnboarding | undefined> {
  const row = await db<MarkRow>('remote_onboardings').where({ citizen_id: citizenId }).first();
  return row ? toMark(row) : undefined;
}

/** The marks, oldest first, with each citizen's national ID; `citizenId`: hers only. */
export async function listMarks(db: Queryable, filter: { citizenId?: string } = {}): Promise<Array<RemoteOnboarding & { nationalId: string }>> {
  const query = db('remote_onboardings').join('citizens', 'citizens.id', 'remote_onboardings.citizen_id')
    .select('remote_onboardings.*', 'citizens.national_id').orderBy('remote_onboardings.onboarded_at', 'asc');
  if (filter.citizenId) query.where('remote_onboardings.citizen_id', filter.citizenId);
  const rows = await query as Array<MarkRow & { national_id: string }>;
  return rows.map((r) => ({ ...toMark(r), nationalId: r.national_id }));
}

export async function deleteMark(db: Queryable, citizenId: string): Promise<number> {
  return db('remote_onboardings').where({ citizen_id: citizenId }).del();
}

/** Records the in-person check on her mark; false when she has no mark or it is confirmed already. */
export async function confirmMark(db: Queryable, citizenId: string, by: string, now: number): Promise<boolean> {
  return await db('remote_onboardings').where({ citizen_id: citizenId }).whereNull('confirmed_at').update({ confirmed_at: now, confirmed_by: by }) === 1;
}
