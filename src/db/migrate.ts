// Runs the knex migrations from a list in code (no folder scanning: the same list works under
// tsx, jest and a build). Imports the migration files and knex types only.
import type { Knex } from 'knex';
import * as initial from '../../migrations/0001_initial.ts';
import * as auditChain from '../../migrations/0002_audit_chain.ts';
import * as risk from '../../migrations/0003_risk.ts';
import * as frameOwner from '../../migrations/0004_frame_owner.ts';
import * as auditMac from '../../migrations/0005_audit_mac.ts';
import * as readiness from '../../migrations/0006_readiness.ts';
import * as consentDetails from '../../migrations/0007_consent_details.ts';
import * as proofOfLife from '../../migrations/0008_proof_of_life.ts';
import * as onboarding from '../../migrations/0009_onboarding.ts';
import * as account from '../../migrations/0010_account.ts';
import * as passkeys from '../../migrations/0011_passkeys.ts';
import * as handoffs from '../../migrations/0012_handoffs.ts';
import * as onboardingChecks from '../../migrations/0013_onboarding_checks.ts';
import type { Db } from './knex.ts';
import { isPostgres } from './knex.ts';

type Migration = { up: (db: Knex) => Promise<void>; down: (db: Knex) => Promise<void> };

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_audit_chain': auditChain,
  '0003_risk': risk,
  '0004_frame_owner': frameOwner,
  '0005_audit_mac': auditMac,
  '0006_readiness': readiness,
  '0007_consent_details': consentDetails,
  '0008_proof_of_life': proofOfLife,
  '0009_onboarding': onboarding,
  '0010_account': account,
  '0011_passkeys': passkeys,
  '0012_handoffs': handoffs,
  '0013_onboarding_checks': onboardingChecks,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

async function ensureSchema(db: Db, schema?: string): Promise<void> {
  if (schema && isPostgres(db)) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
}

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrateLatest(db: Db, schema?: string): Promise<string[]> {
  await ensureSchema(db, schema);
  const [, ran] = await db.migrate.latest({ migrationSource: source, schemaName: schema }) as [number, string[]];
  return ran;
}
