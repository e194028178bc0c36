// The in-person check of a remote onboarding (docs/onboarding.md#what-agencies-see): when an
// operator saw the citizen and her document at a desk (`facegate onboarding confirm`), and who.
// Until then an agency registered with facegate_refuse_remote_onboarded_at_high refuses her at high.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('remote_onboardings', (t) => {
    t.bigInteger('confirmed_at');
    t.string('confirmed_by', 128);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('remote_onboardings', (t) => {
    t.dropColumn('confirmed_by');
    t.dropColumn('confirmed_at');
  });
}
