// The audit trail becomes tamper-evident: request address and user agent, and a hash chain
// (prev_hash, hash; src/audit/chain.ts). Rows written before are chained from genesis here, in id
// order. Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit rows.
// Also `consents`: the latest consent decision per citizen and agency.
import type { Knex } from 'knex';
import { genesisHash, rowHash, type AuditRow } from '../src/audit/chain.ts';

const isPg = (db: Knex) => db.client.config.client === 'pg';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.string('ip', 64);
    t.string('user_agent', 512);
    t.string('prev_hash', 64);
    t.string('hash', 64);
    t.index(['client_id']);
  });

  // Rows written before this migration keep their ids and are hashed in id order (a gap among
  // them is reported by `audit verify` as a gap, which is what it is).
  let prev = genesisHash;
  let after = 0;
  for (;;) {
    const rows = await db<AuditRow>('audit_events').where('id', '>', after).orderBy('id').limit(1000);
    if (rows.length === 0) break;
    for (const r of rows) {
      const hash = rowHash(prev, { ...r, ip: null, user_agent: null });
      await db('audit_events').where({ id: r.id }).update({ prev_hash: prev, hash });
      prev = hash;
      after = Number(r.id);
    }
  }

  if (isPg(db)) {
    await db.raw(`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege'; END $$`);
    await db.raw('CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()');
    await db.raw('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()');
  } else {
    await db.raw("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END");
    await db.raw("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END");
  }

  await db.schema.createTable('consents', (t) => {
    t.string('citizen_id', 36).notNullable().references('id').inTable('citizens').onDelete('CASCADE');
    t.string('client_id', 255).notNullable();
    t.string('decision', 8).notNullable();
    t.text('scopes').notNullable();
    t.text('claims').notNullable();
    t.bigInteger('decided_at').notNullable();
    t.primary(['citizen_id', 'client_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('consents');
  if (isPg(db)) {
    await db.raw('DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events');
    await db.raw('DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events');
    await db.raw('DROP FUNCTION IF EXISTS audit_events_append_only()');
  } else {
    await db.raw('DROP TRIGGER IF EXISTS audit_events_no_update');
    await db.raw('DROP TRIGGER IF EXISTS audit_events_no_delete');
  }
  await db.schema.alterTable('audit_events', (t) => {
    t.dropIndex(['client_id']);
    t.dropColumn('ip');
    t.dropColumn('user_agent');
    t.dropColumn('prev_hash');
    t.dropColumn('hash');
  });
}
