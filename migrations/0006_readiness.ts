// Readiness writes (security review 15): each instance's readiness probe commits one small row
// here, so "ready" means the database takes writes, not only that it answers a select.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('readiness_probes', (t) => {
    t.string('instance', 100).primary();
    t.bigInteger('checked_at').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('readiness_probes');
}
