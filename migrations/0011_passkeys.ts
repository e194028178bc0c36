// Passkeys (issue 14, part 2; docs/agencies.md#possession-factor): `passkeys`, one row per WebAuthn
// credential bound to a citizen after a verified face check (its id is the credential id, base64url;
// the COSE public key, the signature counter, the transports, the device type and backup flags, a
// label, when it was created and last used), and `passkey_steps`, the step after a verified face at
// sign-in: one row per interaction, holding the verified face (citizen, level, time), what the step
// is (an offer to register, or an assertion), the current single-use challenge and the failures.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('passkeys', (t) => {
    t.string('id', 1400).primary();
    t.string('citizen_id', 36).notNullable().references('id').inTable('citizens').onDelete('CASCADE');
    t.text('public_key').notNullable();
    t.bigInteger('counter').notNullable();
    t.text('transports').notNullable();
    t.string('device_type', 16).notNullable();
    t.boolean('backed_up').notNullable();
    t.string('kind', 3).notNullable();
    t.string('aaguid', 36);
    t.string('label', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at');
    t.index(['citizen_id']);
  });
  await db.schema.createTable('passkey_steps', (t) => {
    t.string('interaction_uid', 64).primary();
    t.string('citizen_id', 36).notNullable();
    t.string('client_id', 255).notNullable();
    t.string('acr', 128).notNullable();
    t.bigInteger('face_at').notNullable();
    t.string('mode', 16).notNullable();
    t.boolean('required').notNullable();
    t.string('challenge', 128);
    t.bigInteger('challenge_expires_at');
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['expires_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('passkey_steps');
  await db.schema.dropTableIfExists('passkeys');
}
