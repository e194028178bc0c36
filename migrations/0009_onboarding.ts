// Remote onboarding with an identity document (docs/onboarding.md): `onboarding_sessions`, the
// short-lived state of one onboarding (the national ID's HMAC, the browser's secret as sha256, the
// step, the document portrait's embedding sealed like a template, the refusal code), kept a day
// for the per-ID limit and then pruned; `remote_onboardings`, the mark of a citizen whose template
// was made remotely (what the document was, when; removed by `facegate onboarding revoke`); and
// the registry's optional `document_number`, compared with the document's when present.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('onboarding_sessions', (t) => {
    t.string('id', 64).primary();
    t.string('browser_hash', 64).notNullable();
    t.string('id_key', 128).notNullable();
    t.string('citizen_id', 36);
    t.string('state', 16).notNullable();
    t.integer('document_attempts').notNullable().defaultTo(0);
    t.text('document');
    t.text('portrait');
    t.string('model_id', 128);
    t.string('code', 64);
    t.integer('version').notNullable().defaultTo(0);
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['id_key', 'created_at']);
    t.index(['created_at']);
  });
  await db.schema.createTable('remote_onboardings', (t) => {
    t.string('citizen_id', 36).primary();
    t.string('session_id', 64).notNullable();
    t.string('document_type', 8).notNullable();
    t.string('issuing_state', 3).notNullable();
    t.string('document_expiry', 10).notNullable();
    t.string('model_id', 128).notNullable();
    t.bigInteger('onboarded_at').notNullable();
  });
  await db.schema.alterTable('citizens', (t) => {
    t.string('document_number', 20);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('citizens', (t) => { t.dropColumn('document_number'); });
  await db.schema.dropTableIfExists('remote_onboardings');
  await db.schema.dropTableIfExists('onboarding_sessions');
}
