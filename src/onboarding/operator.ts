// What an operator does to a remote onboarding (`facegate onboarding`, docs/onboarding.md#operators):
// revoke it (the template made remotely removed with the mark: she onboards again or goes to a desk)
// or record the in-person check that lifts an agency's refusal at high. Each change and its audit
// event commit together. Imports registry, db, shared/; never koa.
import type { AuditSecrets } from '../audit/chain.ts';
import type { Db } from '../db/knex.ts';
import { registryAudit } from '../registry/changes.ts';
import { AppError } from '../shared/errors.ts';
import { confirmMark, deleteMark, findMark, type RemoteOnboarding } from './store.ts';

export type OperatorAction = { citizenId: string; operator: string; clock?: () => number; secrets?: AuditSecrets };

/**
 * Removes her mark and the template the onboarding made (still hers only if no desk enrolled
 * her since: a template written after the onboarding is left). Audited as `onboarding.revoked`.
 */
export async function revokeOnboarding(db: Db, a: OperatorAction & { reason: string }): Promise<{ mark: RemoteOnboarding; templateRemoved: boolean }> {
  const clock = a.clock ?? Date.now;
  return db.transaction(async (trx) => {
    const mark = await findMark(trx, a.citizenId);
    if (!mark) throw new AppError('remote_onboarding_not_found');
    const removed = await trx('face_templates').where({ citizen_id: a.citizenId, model_id: mark.modelId }).andWhere('created_at', '<=', mark.onboardedAt).del();
    await deleteMark(trx, a.citizenId);
    await registryAudit(trx, clock, a.secrets)({
      type: 'onboarding.revoked', outcome: 'info', citizenId: a.citizenId,
      details: {
        operator: a.operator, reason: a.reason, sessionId: mark.sessionId, modelId: mark.modelId,
        templateRemoved: removed > 0, confirmed: mark.confirmedAt != null,
      },
    });
    return { mark, templateRemoved: removed > 0 };
  });
}

/** Records that an operator checked her and her document in person. Audited as `onboarding.confirmed`. */
export async function confirmOnboarding(db: Db, a: OperatorAction & { note?: string }): Promise<RemoteOnboarding> {
  const clock = a.clock ?? Date.now;
  return db.transaction(async (trx) => {
    const mark = await findMark(trx, a.citizenId);
    if (!mark) throw new AppError('remote_onboarding_not_found');
    if (mark.confirmedAt != null) throw new AppError('invalid_input', `already checked in person by ${mark.confirmedBy ?? 'an operator'}`);
    const now = clock();
    await confirmMark(trx, a.citizenId, a.operator.slice(0, 128), now);
    await registryAudit(trx, clock, a.secrets)({
      type: 'onboarding.confirmed', outcome: 'success', citizenId: a.citizenId,
      details: { operator: a.operator, sessionId: mark.sessionId, ...(a.note ? { note: a.note } : {}) },
    });
    return { ...mark, confirmedAt: now, confirmedBy: a.operator };
  });
}
