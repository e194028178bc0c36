// Enrollment of one citizen: validate the record, check the reference photo at enrollment grade,
// then write record and sealed template in one transaction. Must not import koa or oidc-provider.
import type { Knex } from 'knex';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { AppError } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import { parseCitizenInput, upsertCitizen, type Change, type Citizen, type CitizenInput, type Clock } from './citizens.ts';
import { embeddingModelId, saveTemplate, summarizeQuality, type QualitySummary } from './templates.ts';

/** What enrollment needs: the database, a face analyzer (in-thread engine or pool), the data sealer and a clock. */
export interface EnrollDeps {
  db: Knex;
  analyzer: Pick<FaceAnalyzer, 'analyze'>;
  sealer: Sealer;
  clock: Clock;
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

/**
 * Enrolls (or re-enrolls) a citizen from a record and a reference photo. Throws AppError
 * `invalid_national_id` / `invalid_citizen` before any face work; the image codes of the engine
 * (`unsupported_image`, `image_too_large`, …); or the first quality code (`no_face`,
 * `multiple_faces`, `face_too_small`, …) with every code in `details.codes`. Nothing is written
 * unless both the record and the template are. Idempotent: the same input again is 'unchanged'.
 */
export async function enrollCitizen(deps: EnrollDeps, input: CitizenInput, photo: Uint8Array): Promise<EnrollResult> {
  const { db, analyzer, sealer, clock } = deps;
  const valid = parseCitizenInput(input, clock);
  const analysis = await analyzer.analyze(photo, { grade: 'enrollment', embed: true, liveness: false });
  const quality = summarizeQuality(analysis.quality);
  const embedding = analysis.face?.embedding;
  if (!analysis.quality.ok || !embedding) {
    const codes = analysis.quality.codes.length ? analysis.quality.codes : ['no_face' as const];
    throw new AppError(codes[0], `enrollment photo rejected: ${codes.join(', ')}`, { codes, quality });
  }
  const templateModelId = embeddingModelId(analysis.models);
  return db.transaction(async (trx) => {
    const { citizen, change: citizenChange } = await upsertCitizen(trx, valid, clock);
    const templateChange = await saveTemplate(trx, sealer, citizen.id, templateModelId, embedding, quality, clock());
    const change: Change = citizenChange === 'created' ? 'created'
      : citizenChange === 'updated' || templateChange !== 'unchanged' ? 'updated' : 'unchanged';
    return { citizen, change, templateChange, templateModelId, quality };
  });
}
