// The first schema: provider state, citizens and their encrypted face templates, agencies,
// signing keys, capture sessions and the audit trail. Runs unchanged on SQLite and PostgreSQL.
// Times are epoch milliseconds (bigint) so both databases compare them the same way.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('oidc_payloads', (t) => {
    t.string('type', 64).notNullable();
    t.string('id', 255).notNullable();
    t.text('payload').notNullable();
    t.string('grant_id', 255);
    t.string('user_code', 255);
    t.string('uid', 255);
    t.bigInteger('expires_at');
    t.bigInteger('consumed_at');
    t.primary(['type', 'id']);
    t.index(['grant_id']);
    t.index(['uid']);
    t.index(['user_code']);
    t.index(['expires_at']);
  });

  await db.schema.createTable('citizens', (t) => {
    t.string('id', 36).primary();
    t.string('national_id', 32).notNullable().unique();
    t.string('given_name', 200).notNullable();
    t.string('family_name', 200).notNullable();
    t.string('birthdate', 10).notNullable();
    t.text('address');
    t.string('status', 16).notNullable().defaultTo('active');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await db.schema.createTable('face_templates', (t) => {
    t.string('id', 36).primary();
    t.string('citizen_id', 36).notNullable().references('id').inTable('citizens').onDelete('CASCADE');
    t.string('model_id', 80).notNullable();
    t.string('key_id', 32).notNullable();
    t.string('iv', 32).notNullable();
    t.string('tag', 32).notNullable();
    t.text('ciphertext').notNullable();
    t.text('quality');
    t.bigInteger('created_at').notNullable();
    t.unique(['citizen_id', 'model_id']);
  });

  await db.schema.createTable('clients', (t) => {
    t.string('client_id', 255).primary();
    t.text('metadata').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await db.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('alg', 16).notNullable();
    t.string('status', 16).notNullable();
    t.text('public_jwk').notNullable();
    t.string('key_id', 32).notNullable();
    t.string('iv', 32).notNullable();
    t.string('tag', 32).notNullable();
    t.text('ciphertext').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('activated_at');
    t.bigInteger('retired_at');
    t.index(['status']);
  });
  // At most one active and one staged key per algorithm, even with several instances starting at once.
  await db.raw("CREATE UNIQUE INDEX signing_keys_one_per_status ON signing_keys (alg, status) WHERE status IN ('active', 'next')");

  await db.schema.createTable('capture_sessions', (t) => {
    t.string('id', 64).primary();
    t.string('interaction_uid', 255).notNullable();
    t.string('client_id', 255);
    t.string('citizen_id', 36);
    t.string('purpose', 32).notNullable();
    t.string('acr', 100).notNullable();
    t.text('actions').notNullable();
    t.string('state', 16).notNullable();
    t.integer('attempts_used').notNullable().defaultTo(0);
    t.integer('submissions').notNullable().defaultTo(0);
    t.integer('version').notNullable().defaultTo(0);
    t.text('result');
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['interaction_uid']);
    t.index(['expires_at']);
  });

  await db.schema.createTable('audit_events', (t) => {
    t.increments('id').primary();
    t.bigInteger('at').notNullable();
    t.string('type', 64).notNullable();
    t.string('outcome', 16).notNullable();
    t.string('code', 64);
    t.string('interaction_uid', 255);
    t.string('client_id', 255);
    t.string('citizen_id', 36);
    t.text('details');
    t.index(['at']);
    t.index(['citizen_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['audit_events', 'capture_sessions', 'signing_keys', 'clients', 'face_templates', 'citizens', 'oidc_payloads']) {
    await db.schema.dropTableIfExists(table);
  }
}
