// A retry after a crash is not a replay (finding 18): each frame digest also records the capture
// that sent it (`owner`), the flow version of the submission that holds it (`submission`) and
// when that submission got its answer (`settled_at`, null while it has none). Digests recorded
// before this migration have no owner and count as answered: they stay replays for everyone.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('frame_hashes', (t) => {
    t.string('owner', 64);
    t.integer('submission');
    t.bigInteger('settled_at');
  });
  await db('frame_hashes').update({ settled_at: db.ref('seen_at') });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('frame_hashes', (t) => {
    t.dropColumn('settled_at');
    t.dropColumn('submission');
    t.dropColumn('owner');
  });
}
