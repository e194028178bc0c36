// The audit events of registry changes: one per change to a citizen (created, record updated,
// template replaced) and one per refused enrollment, naming who did it. Imports audit/ and types.
import type { Knex } from 'knex';
import type { AuditSecrets } from '../audit/chain.ts';
import { createAudit, type Audit, type AuditEvent } from '../audit/log.ts';
import type { Change, Clock, Queryable, RecordField } from './citizens.ts';

/** Who changes the registry, as the audit trail records it. */
export interface RegistryActor {
  /** The operator's name (CLI `--operator`, default the OS user), or 'demo' for the demo page. */
  actor: string;
  /** Through what: 'registry add', 'registry import', 'demo enroll'. */
  source: string;
  /** Of the request, for a change made from a web page. */
  ip?: string;
  userAgent?: string;
}

/** The actor of a caller that names none (tests, scripts): still audited, as such. */
export const unnamedActor: RegistryActor = { actor: 'unknown', source: 'unknown' };

export const registryEvents = {
  created: 'registry.citizen_created',
  updated: 'registry.citizen_updated',
  templateReplaced: 'registry.template_replaced',
  refused: 'registry.enrollment_refused',
} as const;

/** What one enrollment changed. */
export interface EnrollmentChanges {
  citizenId: string;
  citizenChange: Change;
  /** The record fields that changed (names only). */
  fields: RecordField[];
  templateChange: Change;
  modelId: string;
}

/**
 * The audit writer on this connection or transaction: given the enrollment's transaction, the
 * event commits or rolls back with the change (PostgreSQL: the chain's lock is held until then).
 * `secrets`: the audit keys (config.secrets; default the development ones).
 */
export function registryAudit(db: Queryable, clock: Clock, secrets?: AuditSecrets): Audit {
  return createAudit(db as Knex, clock, secrets);
}

const context = (by: RegistryActor) => ({ ip: by.ip, userAgent: by.userAgent });

/**
 * Writes the events of one enrollment: `registry.citizen_created` for a new citizen (her template
 * with her); else `registry.citizen_updated` (the names of the changed fields) and/or
 * `registry.template_replaced`; nothing when nothing changed. Details hold the actor, the source
 * and the model id: never the national ID, a name, a birthdate, an address, the image or the embedding.
 */
export async function auditEnrollment(audit: Audit, by: RegistryActor, c: EnrollmentChanges): Promise<void> {
  const who = { actor: by.actor, source: by.source };
  const event = (type: string, details: Record<string, unknown>): AuditEvent =>
    ({ type, outcome: 'success', citizenId: c.citizenId, ...context(by), details: { ...who, ...details } });
  if (c.citizenChange === 'created') {
    await audit(event(registryEvents.created, { modelId: c.modelId }));
    return;
  }
  if (c.citizenChange === 'updated') await audit(event(registryEvents.updated, { fields: c.fields }));
  // 'created' here: her first template for this model (e.g. after a model change) replaces the one she was matched with.
  if (c.templateChange !== 'unchanged') await audit(event(registryEvents.templateReplaced, { modelId: c.modelId, templateChange: c.templateChange }));
}

/** Writes `registry.enrollment_refused` (`citizen_exists`): an enrollment for a national ID already registered. */
export async function auditRefusal(audit: Audit, by: RegistryActor, citizenId: string | null): Promise<void> {
  await audit({
    type: registryEvents.refused, outcome: 'failure', code: 'citizen_exists', citizenId, ...context(by),
    details: { actor: by.actor, source: by.source },
  });
}
