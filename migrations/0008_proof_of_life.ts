// Proof of life over CIBA (docs/agencies.md#proof-of-life): one row per backchannel authentication
// request in `proof_requests` (Facegate's side of it: the citizen's one-time link, stored as its
// sha256 only, the browser that claimed it, the polling interval, the outcome), and
// `pairwise_subjects`: the pairwise `sub` each agency sector received for a citizen, recorded at
// token issuance, so that a `login_hint` naming that `sub` finds her without scanning the registry.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('proof_requests', (t) => {
    t.string('id', 64).primary();
    t.string('auth_req_id', 255).notNullable().unique();
    t.string('client_id', 255).notNullable();
    t.string('citizen_id', 36).notNullable();
    t.text('scope').notNullable();
    t.string('binding_message', 200).notNullable();
    t.string('delivery_mode', 8).notNullable();
    t.string('notifier', 16).notNullable();
    t.string('link_hash', 64).notNullable().unique();
    t.string('browser_hash', 64);
    t.string('state', 16).notNullable();
    t.integer('interval_seconds').notNullable();
    t.bigInteger('polled_at').notNullable();
    t.bigInteger('opened_at');
    t.bigInteger('claimed_at');
    t.bigInteger('decided_at');
    t.bigInteger('token_issued_at');
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['expires_at']);
    t.index(['state']);
  });
  await db.schema.createTable('pairwise_subjects', (t) => {
    t.string('sector', 255).notNullable();
    t.string('sub', 128).notNullable();
    t.string('citizen_id', 36).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_issued_at').notNullable();
    t.primary(['sector', 'sub']);
    t.index(['citizen_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('pairwise_subjects');
  await db.schema.dropTableIfExists('proof_requests');
}
