// Risk control (issue 5): the attempt limiters' counters (rate-limiter-flexible's table layout),
// the digests of received frames for replay detection, the networks and user agents each
// citizen signed in from, and the claimed ID's HMAC on each capture session. Keys are HMACs: no national ID, IP address or user agent is stored.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  // The layout rate-limiter-flexible's SQLite and PostgreSQL stores expect (tableCreated: true).
  await db.schema.createTable('risk_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
  });

  await db.schema.createTable('frame_hashes', (t) => {
    t.string('digest', 64).primary();
    t.bigInteger('seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });

  await db.schema.createTable('citizen_devices', (t) => {
    t.string('citizen_id', 36).notNullable().references('id').inTable('citizens').onDelete('CASCADE');
    t.string('network', 64).notNullable();
    t.string('agent', 64).notNullable();
    t.bigInteger('last_seen').notNullable();
    t.primary(['citizen_id', 'network', 'agent']);
    t.index(['last_seen']);
  });

  // The HMAC of the claimed national ID, so each submission is counted against the ID's limits.
  await db.schema.alterTable('capture_sessions', (t) => {
    t.string('id_key', 64);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('capture_sessions', (t) => {
    t.dropColumn('id_key');
  });
  for (const table of ['citizen_devices', 'frame_hashes', 'risk_limits']) await db.schema.dropTableIfExists(table);
}
