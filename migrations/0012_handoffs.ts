// "Finish on my phone" (src/handoff/): one row per handoff of a capture from a desktop page (a
// sign-in interaction or a proof-of-life page) to a phone. The short code is looked up by its HMAC
// and kept sealed for the desktop's page; the phone that claimed it is the sha256 of its cookie's
// secret; the national ID typed on the desktop is sealed (AES-256-GCM, the row's id in the AAD).
// The state lives here, not in a process, so the desktop's poll may reach any instance.
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('handoffs', (t) => {
    t.string('id', 64).primary();
    t.string('code_hash', 64).notNullable().unique();
    /** The code itself, sealed: the desktop's page shows it again (reload, language switch). */
    t.text('code_sealed').notNullable();
    /** sign_in (target: the oidc-provider interaction uid) or proof_of_life (target: the proof request id). */
    t.string('kind', 16).notNullable();
    t.string('target_id', 64).notNullable();
    t.string('client_id', 255);
    t.string('acr', 64).notNullable();
    /** The typed national ID, sealed (JSON); null for a proof of life (the agency named her). */
    t.text('national_id_sealed');
    /** A coarse description of the desktop ("Chrome on Windows"), shown on the phone. */
    t.string('desktop', 64);
    t.string('state', 16).notNullable();
    t.string('phone_hash', 64);
    t.string('capture_id', 64);
    t.string('citizen_id', 36);
    t.string('verified_acr', 64);
    t.bigInteger('verified_at');
    t.bigInteger('claimed_at');
    t.bigInteger('completed_at');
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['target_id']);
    t.index(['expires_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('handoffs');
}
