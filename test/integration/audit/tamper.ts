// What an attacker with the database owner's rights does to the audit trail: switch the
// append-only triggers off, change or delete rows, switch them back on.
import type { Db } from '../../../src/db/knex.ts';
import { isPostgres } from '../../../src/db/knex.ts';

export async function withTriggersOff(db: Db, body: () => Promise<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await db.raw('ALTER TABLE audit_events DISABLE TRIGGER USER');
    try { await body(); } finally { await db.raw('ALTER TABLE audit_events ENABLE TRIGGER USER'); }
    return;
  }
  const triggers = await db('sqlite_master').where({ type: 'trigger', tbl_name: 'audit_events' }).select('sql', 'name') as { sql: string; name: string }[];
  for (const t of triggers) await db.raw(`DROP TRIGGER ${t.name}`);
  try { await body(); } finally { for (const t of triggers) await db.raw(t.sql); }
}
