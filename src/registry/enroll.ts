// Enrollment of one citizen: validate the record, check the reference photo at enrollment grade,
// then write record, sealed template and audit events in one transaction. Create-only unless the
// caller (the operator CLI) asks to replace. Must not import koa or oidc-provider.
import type { Knex } from 'knex';
import type { AuditSecrets } from '../audit/chain.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import { auditEnrollment, auditRefusal, registryAudit, unnamedActor, type RegistryActor } from './changes.ts';
import {
  findCitizenByNationalId, insertCitizen, parseCitizenInput, upsertCitizen, type Change, type Citizen, type CitizenInput, type Clock,
} from './citizens.ts';
import { embeddingModelId, saveTemplate, summarizeQuality, type QualitySummary } from './templates.ts';

/** What enrollment needs: the database, a face analyzer (in-thread engine or pool), the data sealer and a clock. */
export interface EnrollDeps {
  db: Knex;
  analyzer: Pick<FaceAnalyzer, 'analyze'>;
  sealer: Sealer;
  clock: Clock;
  /** The audit keys that MAC the enrollment's events (config.secrets); default the development ones. */
  auditSecrets?: AuditSecrets;
}

export interface EnrollResult {
  citizen: Citizen;
  /** 'created' for a new citizen; 'updated' when the record or the template changed; else 'unchanged'. */
  change: Change;
  /** What happened to the template alone. */
  templateChange: Change;
  templateModelId: string;
  quality: QualitySummary;
}

/** How an enrollment may change the registry, and who makes it. */
export interface EnrollOptions {
  /**
   * Update the citizen already registered under the national ID (record and template): for the
   * operator CLI only (`registry add --replace`, `registry import`). Without it an enrollment only
   * creates, and one for a registered national ID is refused with `citizen_exists`.
   */
  replace?: boolean;
  /** Who enrolls, for the audit trail; default `unnamedActor`. */
  by?: RegistryActor;
}

/**
 * Enrolls a citizen from a record and a reference photo, or with `replace` re-enrolls her. Throws
 * AppError `invalid_national_id` / `invalid_citizen`, or `citizen_exists` (without `replace`)
 * before any face work; the image codes of the engine (`unsupported_image`, `image_too_large`, …);
 * or the first quality code (`no_face`, `multiple_faces`, `face_too_small`, …) with every code in
 * `details.codes`. Nothing is written unless the record, the template and the audit events are
 * (one transaction); a refused existing ID is audited (`registry.enrollment_refused`). With
 * `replace`, idempotent: the same input again is 'unchanged' and writes no event.
 */
export async function enrollCitizen(deps: EnrollDeps, input: CitizenInput, photo: Uint8Array, options: EnrollOptions = {}): Promise<EnrollResult> {
  const { db, analyzer, sealer, clock, auditSecrets } = deps;
  const by = options.by ?? unnamedActor;
  const replace = options.replace === true;
  const valid = parseCitizenInput(input, clock);
  const refuse = async (): Promise<never> => {
    const existing = await findCitizenByNationalId(db, valid.nationalId);
    await auditRefusal(registryAudit(db, clock, auditSecrets), by, existing?.id ?? null);
    throw new AppError('citizen_exists', 'this national ID is already in the registry: an enrollment only creates citizens');
  };
  // Checked again in the transaction (insertCitizen), for a concurrent enrollment of the same ID.
  if (!replace && await findCitizenByNationalId(db, valid.nationalId)) await refuse();
  const analysis = await analyzer.analyze(photo, { grade: 'enrollment', embed: true, liveness: false });
  const quality = summarizeQuality(analysis.quality);
  const embedding = analysis.face?.embedding;
  if (!analysis.quality.ok || !embedding) {
    const codes = analysis.quality.codes.length ? analysis.quality.codes : ['no_face' as const];
    throw new AppError(codes[0], `enrollment photo rejected: ${codes.join(', ')}`, { codes, quality });
  }
  const templateModelId = embeddingModelId(analysis.models);
  try {
    return await db.transaction(async (trx) => {
      const { citizen, change: citizenChange, fields } = replace
        ? await upsertCitizen(trx, valid, clock)
        : { citizen: await insertCitizen(trx, valid, clock), change: 'created' as const, fields: [] };
      const templateChange = await saveTemplate(trx, sealer, citizen.id, templateModelId, embedding, quality, clock());
      await auditEnrollment(registryAudit(trx, clock, auditSecrets), by, { citizenId: citizen.id, citizenChange, fields, templateChange, modelId: templateModelId });
      const change: Change = citizenChange === 'created' ? 'created'
        : citizenChange === 'updated' || templateChange !== 'unchanged' ? 'updated' : 'unchanged';
      return { citizen, change, templateChange, templateModelId, quality };
    });
  } catch (err) {
    if (!replace && isAppError(err) && err.code === 'citizen_exists') await refuse();
    throw err;
  }
}
