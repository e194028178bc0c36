// The audit chain anchored outside the database (finding 17): each new row carries `mac`, an
// HMAC-SHA256 of its hash under an audit key from configuration (secrets.auditKeys), and the id of
// that key. Rows written before stay without a MAC: the migration has no key (and the triggers
// refuse UPDATE); `audit verify` reports them as the unanchored prefix, which the first anchored
// row covers through its hash (src/audit/chain.ts checkMac).
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.string('mac', 64);
    t.string('mac_key_id', 32);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.dropColumn('mac');
    t.dropColumn('mac_key_id');
  });
}
