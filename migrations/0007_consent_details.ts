// Purpose-bound consent (RFC 9396 rich authorization requests): the latest consent of a citizen
// to an agency keeps the authorization details she agreed to (a JSON array), null when the
// agency asked for none. Older rows read as none.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('consents', (t) => {
    t.text('authorization_details').nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('consents', (t) => {
    t.dropColumn('authorization_details');
  });
}
