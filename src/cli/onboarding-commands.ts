// `facegate onboarding list | revoke | confirm`: the citizens onboarded remotely with an identity
// document (src/onboarding/, docs/onboarding.md#operators). Lists print the mark (document type,
// issuing state, expiry, when, the in-person check), never names or document numbers; viewing the
// list is audited, and so is every revocation and confirmation (with the operator).
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import { confirmOnboarding, revokeOnboarding } from '../onboarding/operator.ts';
import { listMarks, type RemoteOnboarding } from '../onboarding/store.ts';
import { AppError } from '../shared/errors.ts';
import { withDb, type Run } from './db.ts';
import { citizenOf } from './device-commands.ts';
import { print, type OutputOptions } from './output.ts';
import { operatorOf } from './report-commands.ts';

interface ListOptions extends OutputOptions { nationalId?: string }
interface ChangeOptions extends OutputOptions { reason?: string; note?: string; operator?: string }

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
const shown = (m: RemoteOnboarding & { nationalId: string }) => ({
  nationalId: m.nationalId, documentType: m.documentType, issuingState: m.issuingState, documentExpiry: m.documentExpiry, modelId: m.modelId,
  onboardedAt: iso(m.onboardedAt), inPersonCheck: m.confirmedAt != null ? { at: iso(m.confirmedAt), by: m.confirmedBy } : null,
});

function text(option: string | undefined, name: string, required: boolean): string | undefined {
  const v = option?.trim();
  if (required && !v) throw new AppError('invalid_input', `${name} must not be empty`);
  if (v && v.length > 500) throw new AppError('invalid_input', `${name}: at most 500 characters`);
  return v || undefined;
}

export function registerOnboardingCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const onboarding = program.command('onboarding')
    .description('Citizens onboarded remotely with an identity document: list, revoke, confirm after an in-person check');

  onboarding.command('list')
    .description('The remote onboardings, oldest first: national ID, document type and issuing state, expiry, when, the in-person check; audited as a view')
    .option('--national-id <id>', 'only this citizen\'s')
    .option('--json', 'JSON output')
    .action((o: ListOptions) => run(Boolean(o.json), async () => {
      const rows = await withDb(config, async (db) => {
        const citizenId = o.nationalId !== undefined ? (await citizenOf(db, o.nationalId)).citizenId : undefined;
        const marks = await listMarks(db, citizenId ? { citizenId } : {});
        // Who onboarded remotely is itself registry data: reading it is an event.
        await createAudit(db, Date.now, config.secrets)({
          type: 'onboarding.list_viewed', outcome: 'info', citizenId: citizenId ?? null, details: { count: marks.length },
        });
        return marks.map(shown);
      });
      print(o, { onboardings: rows }, () => [
        `${rows.length} remote onboarding${rows.length === 1 ? '' : 's'}`,
        ...rows.map((r) => `  ${r.nationalId}  ${r.documentType} ${r.issuingState}  expires ${r.documentExpiry}  onboarded ${r.onboardedAt}  ${
          r.inPersonCheck ? `checked in person ${r.inPersonCheck.at} by ${r.inPersonCheck.by}` : 'not checked in person'}`),
      ].join('\n'));
    }));

  onboarding.command('revoke')
    .description('Revokes a remote onboarding: removes the template it made (she onboards again or goes to a desk) and the mark; audited')
    .argument('<national-id>', 'the citizen\'s national ID number')
    .requiredOption('--reason <text>', 'why (kept in the audit trail), e.g. "document reported stolen"')
    .option('--operator <name>', 'who revokes (default: the login name)')
    .option('--json', 'JSON output')
    .action((raw: string, o: ChangeOptions) => run(Boolean(o.json), async () => {
      const reason = text(o.reason, '--reason', true)!;
      const operator = operatorOf(o.operator);
      const out = await withDb(config, async (db) => {
        const { nationalId, citizenId } = await citizenOf(db, raw);
        const { templateRemoved } = await revokeOnboarding(db, { citizenId, operator, reason, secrets: config.secrets });
        return { nationalId, revoked: true, templateRemoved };
      });
      const kept = ' (her template was made at a desk since: kept)';
      print(o, out, () => `${out.nationalId}: remote onboarding revoked${out.templateRemoved ? ', its template removed' : kept}`);
    }));

  onboarding.command('confirm')
    .description('Records that an operator checked the citizen and her document in person: agencies that refuse remote onboardings at high accept her; audited')
    .argument('<national-id>', 'the citizen\'s national ID number')
    .option('--operator <name>', 'who checked her (default: the login name)')
    .option('--note <text>', 'what was checked (kept in the audit trail), e.g. "passport seen at the Lyon desk"')
    .option('--json', 'JSON output')
    .action((raw: string, o: ChangeOptions) => run(Boolean(o.json), async () => {
      const note = text(o.note, '--note', false);
      const operator = operatorOf(o.operator);
      const out = await withDb(config, async (db) => {
        const { nationalId, citizenId } = await citizenOf(db, raw);
        const mark = await confirmOnboarding(db, { citizenId, operator, note, secrets: config.secrets });
        return { nationalId, inPersonCheck: { at: iso(mark.confirmedAt), by: operator } };
      });
      print(o, out, () => `${out.nationalId}: checked in person by ${operator}`);
    }));
}
