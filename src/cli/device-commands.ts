// `facegate devices list | remove`: a citizen's passkeys (src/passkeys/), for an operator helping
// her (a lost or stolen device: docs/support.md#removing-a-device). Prints her typed ID back and her
// passkeys (label, kind, when added and last used), no other registry data. A removal is audited
// (passkey.removed, actor operator, the operator's login name and reason).
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { listPasskeys, removePasskey, type Passkey } from '../passkeys/store.ts';
import { findCitizenByNationalId, normalizeTypedNationalId } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import { withDb, type Run } from './db.ts';
import { print, type OutputOptions } from './output.ts';

interface RemoveOptions extends OutputOptions { reason?: string; operator?: string }

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const shown = (p: Passkey) => ({ id: p.id, label: p.label, kind: p.kind, createdAt: iso(p.createdAt), lastUsedAt: iso(p.lastUsedAt) });

/** Her registry id from a typed national ID; citizen_not_found when she is not registered. */
export async function citizenOf(db: Db, raw: string): Promise<{ nationalId: string; citizenId: string }> {
  const nationalId = normalizeTypedNationalId(raw);
  const citizen = await findCitizenByNationalId(db, nationalId);
  if (!citizen) throw new AppError('citizen_not_found');
  return { nationalId, citizenId: citizen.id };
}

export function registerDeviceCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const devices = program.command('devices').description('A citizen\'s passkeys (devices bound after a face check): list, remove a lost one');

  devices.command('list')
    .description('List the passkeys bound to a citizen (credential id, label, hwk or swk, added, last used)')
    .argument('<national-id>', 'the citizen\'s national ID number')
    .option('--json', 'JSON output')
    .action((raw: string, o: OutputOptions) => run(Boolean(o.json), async () => {
      await withDb(config, async (db) => {
        const { nationalId, citizenId } = await citizenOf(db, raw);
        const list = (await listPasskeys(db, citizenId)).map(shown);
        print(o, { nationalId, passkeys: list }, () => (list.length
          ? list.map((p) => `${p.id}  ${p.kind}  ${p.label}  added ${p.createdAt}  last used ${p.lastUsedAt ?? 'never'}`).join('\n')
          : `${nationalId}: no passkey`));
      });
    }));

  devices.command('remove')
    .description('Remove one of a citizen\'s passkeys (a lost or stolen device); audited. Her next sign-ins are face only until she adds another')
    .argument('<national-id>', 'the citizen\'s national ID number')
    .argument('<credential-id>', 'the passkey\'s credential id, as `devices list` prints it')
    .option('--reason <text>', 'why (kept in the audit trail), e.g. "phone reported lost at the desk"')
    .option('--operator <name>', 'who removes it (default: the login name)')
    .option('--json', 'JSON output')
    .action((raw: string, credentialId: string, o: RemoveOptions) => run(Boolean(o.json), async () => {
      if (!/^[A-Za-z0-9_-]{1,1400}$/.test(credentialId)) throw new AppError('invalid_input', 'the credential id is base64url, as `devices list` prints it');
      if (o.reason !== undefined && o.reason.length > 500) throw new AppError('invalid_input', '--reason: at most 500 characters');
      await withDb(config, async (db) => {
        const { nationalId, citizenId } = await citizenOf(db, raw);
        const base = createAudit(db, Date.now, config.secrets);
        const operator = o.operator ?? userInfo().username;
        // The operator and the reason ride on the removal's audit row.
        const audit: typeof base = (e) => base({ ...e, details: { ...e.details, operator, ...(o.reason ? { reason: o.reason } : {}) } });
        const removed = await removePasskey(db, audit, { citizenId, id: credentialId, actor: 'operator' });
        if (!removed) throw new AppError('invalid_input', 'this citizen has no passkey with that credential id (see `facegate devices list`)');
        print(o, { nationalId, removed: credentialId }, () => `${nationalId}: passkey ${credentialId} removed`);
      });
    }));
}
