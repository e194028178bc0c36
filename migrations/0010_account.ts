// The citizen's own space (/account, docs/support.md): `account_sessions` (her signed-in sessions in
// the space: only the sha256 of the cookie's token is kept, with an idle and an absolute expiry),
// `account_logins` (a sign-in to the space under way: state, PKCE verifier, nonce and the sealed
// DPoP key, for ten minutes), `account_client_keys` (the private key of the space's own client,
// `facegate-account`, sealed under the data key) and `identity_reports` ("This wasn't me": her
// reports of an access she did not make, open until an operator closes them).
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('account_sessions', (t) => {
    t.string('id', 64).primary();
    t.string('citizen_id', 36).notNullable();
    t.string('acr', 64).notNullable();
    t.text('amr').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['citizen_id']);
    t.index(['expires_at']);
  });
  await db.schema.createTable('account_logins', (t) => {
    t.string('id', 64).primary();
    t.text('sealed').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });
  await db.schema.createTable('account_client_keys', (t) => {
    t.string('kid', 64).primary();
    t.text('sealed').notNullable();
    t.bigInteger('created_at').notNullable();
  });
  await db.schema.createTable('identity_reports', (t) => {
    t.string('id', 32).primary();
    t.string('citizen_id', 36).notNullable();
    t.bigInteger('event_id');
    t.string('client_id', 255);
    t.bigInteger('event_at');
    t.string('state', 8).notNullable();
    t.bigInteger('reported_at').notNullable();
    t.bigInteger('closed_at');
    t.string('closed_by', 128);
    t.text('resolution');
    t.index(['citizen_id', 'state']);
    t.index(['state']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['identity_reports', 'account_client_keys', 'account_logins', 'account_sessions']) await db.schema.dropTableIfExists(table);
}
