// `facegate risk status | reset`: what the attempt limits hold against one national ID, and lifting
// it (audited). Prints the typed ID back and whether it is registered, no other registry data.
import { userInfo } from 'node:os';
import { Redis } from 'ioredis';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { createAudit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { findCitizenByNationalId, normalizeTypedNationalId, type Citizen } from '../registry/citizens.ts';
import { createRiskKeys } from '../risk/keys.ts';
import { createAttemptLimits, type AttemptLimits, type IdLimitState } from '../risk/limits.ts';
import { AppError } from '../shared/errors.ts';
import { withDb, type Run } from './db.ts';
import { print, type OutputOptions } from './output.ts';

interface IdOptions extends OutputOptions { nationalId: string }
interface ResetOptions extends IdOptions { reason: string; operator?: string }

const maxReasonLength = 500;

/**
 * One ID's limits as the commands print them (`lock.until` in ISO 8601): `lock` the ID's lock
 * everywhere (scope `id`), else its longest lock on a network (`id_network`); `failures` across
 * all networks; `lockouts` everywhere, `networkLockouts` on networks (summed); retries summed.
 */
type IdReport = {
  nationalId: string; registered: boolean; locked: boolean; lock: { scope: string; reason: string; until: string } | null;
  failures: number; lockouts: number; retries: number; lockedNetworks: number; networkLockouts: number;
};

type Target = { nationalId: string; idKey: string; citizen?: Citizen };

/**
 * The database and the limiters the gateway uses: the database store, or Redis when REDIS_URL is
 * set (otherwise the command would read a table the gateway never writes).
 */
async function withLimits<T>(config: Readonly<Config>, body: (db: Db, limits: AttemptLimits) => Promise<T>): Promise<T> {
  return withDb(config, async (db) => {
    const redis = config.risk.redisUrl ? new Redis(config.risk.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
    // A connection error fails the command through the pending call; no unhandled 'error' event.
    redis?.on('error', () => {});
    try {
      return await body(db, createAttemptLimits(db, config, redis));
    } finally {
      redis?.disconnect();
    }
  });
}

/** The ID in the registry's form, its risk key (as the capture service computes it) and its record. */
async function target(db: Db, config: Readonly<Config>, raw: string): Promise<Target> {
  const nationalId = normalizeTypedNationalId(raw);
  const idKey = createRiskKeys(config.secrets.pairwiseSalt).id(nationalId);
  return { nationalId, idKey, citizen: await findCitizenByNationalId(db, nationalId) };
}

const reportOf = (t: Target, s: IdLimitState): IdReport => ({
  nationalId: t.nationalId, registered: Boolean(t.citizen), locked: Boolean(s.lock),
  lock: s.lock ? { scope: s.lock.scope, reason: s.lock.reason, until: new Date(s.lock.retryAt).toISOString() } : null,
  failures: s.failures, lockouts: s.lockouts, retries: s.retries, lockedNetworks: s.lockedNetworks, networkLockouts: s.networkLockouts,
});

const clearedOf = (r: IdReport) => ({ lock: r.lock, lockedNetworks: r.lockedNetworks, failures: r.failures, lockouts: r.lockouts, networkLockouts: r.networkLockouts, retries: r.retries });

const span = (seconds: number) => (seconds % 86_400 === 0 ? `${seconds / 86_400} d` : seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`);

function describeStatus(r: IdReport, config: Readonly<Config>): string {
  const { lockout, retriesPerIdPerHour } = config.risk;
  const why = r.lock?.reason === 'retries' ? 'quality retry budget spent' : 'lockout';
  const networks = `${r.lockedNetworks} network${r.lockedNetworks === 1 ? '' : 's'}`;
  const anyNetwork = Math.max(lockout.maxFailures, lockout.maxFailuresAnyNetwork);
  return [
    `national ID ${r.nationalId}: ${r.registered ? 'in the registry' : 'not in the registry'}`,
    !r.lock ? 'not locked'
      : r.lock.scope === 'id' ? `locked everywhere until ${r.lock.until} (${why})${r.lockedNetworks ? `, and on ${networks}` : ''}`
        : `locked on ${networks} until ${r.lock.until} (${why}); not locked elsewhere${r.failures >= lockout.maxFailures ? ', where the active challenge is required' : ''}`,
    `failures in the current window, all networks: ${r.failures} of ${anyNetwork} (one network locks at ${lockout.maxFailures})`,
    `past lockouts (last ${span(lockout.memorySeconds)}): ${r.lockouts} everywhere, ${r.networkLockouts} on networks`,
    `quality retries this hour: ${r.retries} (${retriesPerIdPerHour} a network)`,
  ].join('\n');
}

function operatorOf(option: string | undefined): string {
  if (option !== undefined) {
    if (!option.trim()) throw new AppError('invalid_input', '--operator must not be empty');
    return option.trim();
  }
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for the uid (some containers).
    return 'unknown';
  }
}

export function registerRiskCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const risk = program.command('risk').description('Attempt limits on a national ID: what is counted, and lifting a lockout');

  risk.command('status')
    .description('Whether the ID is locked (everywhere, or on how many networks) and until when, its failures in the current window, past lockouts, and whether it is in the registry')
    .requiredOption('--national-id <id>', 'the national ID as typed (spaces and dashes are dropped)')
    .option('--json', 'JSON output')
    .action((o: IdOptions) => run(Boolean(o.json), async () => {
      const report = await withLimits(config, async (db, limits) => {
        const t = await target(db, config, o.nationalId);
        return reportOf(t, await limits.idState(t.idKey));
      });
      print(o, report, () => describeStatus(report, config));
    }));

  risk.command('reset')
    .description('Clear the ID\'s failures, locks (everywhere and on every network), lockout histories (the next lockout is the base length) and quality retries; audited as risk.reset')
    .requiredOption('--national-id <id>', 'the national ID as typed (spaces and dashes are dropped)')
    .requiredOption('--reason <text>', 'why (kept in the audit trail; no personal data)')
    .option('--operator <name>', 'who resets (default: the OS user name)')
    .option('--json', 'JSON output')
    .action((o: ResetOptions) => run(Boolean(o.json), async () => {
      const reason = o.reason.trim();
      if (!reason) throw new AppError('invalid_input', '--reason must not be empty');
      if (reason.length > maxReasonLength) throw new AppError('invalid_input', `--reason: at most ${maxReasonLength} characters`);
      const operator = operatorOf(o.operator);
      const result = await withLimits(config, async (db, limits) => {
        const t = await target(db, config, o.nationalId);
        const before = reportOf(t, await limits.idState(t.idKey));
        await limits.reset(t.idKey);
        // The citizen's internal id as in capture events, and for an ID not in the registry the
        // limiter's key (an HMAC): never the national ID itself.
        await createAudit(db, Date.now, config.secrets)({
          type: 'risk.reset', outcome: 'info', citizenId: t.citizen?.id ?? null,
          details: { idKey: t.idKey, operator, reason, cleared: clearedOf(before) },
        });
        return { nationalId: t.nationalId, registered: before.registered, operator, reason, cleared: clearedOf(before) };
      });
      const c = result.cleared;
      print(o, result, () => [
        `national ID ${result.nationalId}: reset by ${operator}`,
        `cleared: ${c.lock ? `lock until ${c.lock.until}${c.lock.scope === 'id' ? ' everywhere' : ''}` : 'no lock'}, locks on ${c.lockedNetworks} networks, ${c.failures} failures, ${c.lockouts} past lockouts everywhere and ${c.networkLockouts} on networks, ${c.retries} quality retries`,
        'written to the audit trail (risk.reset)',
      ].join('\n'));
    }));
}
