// `facegate audit verify | export | citizen`: checks the audit trail's hash chain, exports it as
// JSON lines, and lists which agencies signed a citizen in and what they received.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { acrHigh, acrSubstantial, type Config } from '../../config/schema.ts';
import { listConsents } from '../audit/consents.ts';
import { createAudit } from '../audit/log.ts';
import { exportEvents, listSignIns, verifyChain } from '../audit/query.ts';
import { listClients } from '../oidc/clients.ts';
import { findCitizenByNationalId } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import { print, type OutputOptions } from './output.ts';
import { withDb, type Run } from './db.ts';

// The level names by acr, without importing oidc-provider into the CLI (src/oidc/acr.ts does).
const levels: Record<string, string> = { [acrSubstantial]: 'substantial', [acrHigh]: 'high' };


function instant(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new AppError('invalid_input', `${option}: not an ISO 8601 date or time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`);
  return ms;
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain');
}

interface ExportOptions extends OutputOptions { since?: string; until?: string; out?: string }

export function registerAuditCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const audit = program.command('audit').description('The audit trail: chain check, export, a citizen\'s sign-ins');

  audit.command('verify')
    .description('Recompute the hash chain in id order; exit 1 naming the first broken row (altered, missing or out of order)')
    .option('--json', 'JSON output')
    .action((o: OutputOptions) => run(Boolean(o.json), async () => {
      const r = await withDb(config, (db) => verifyChain(db));
      print(o, r, () => (r.ok
        ? `audit chain intact: ${r.rows} rows verified in ${r.ms} ms${r.head ? `; head row ${r.head.id} ${r.head.hash}` : ''}`
        : `audit chain broken at row ${r.broken!.id} (${r.broken!.reason}): ${r.broken!.message}; ${r.rows} rows before it verified`));
      if (!r.ok) process.exitCode = 1;
    }));

  audit.command('export')
    .description('Audit events as JSON lines (one object per line), in id order; no images or templates are ever in them')
    .option('--since <iso>', 'events at or after this time')
    .option('--until <iso>', 'events before this time')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--json', 'with --out: print a JSON summary')
    .action((o: ExportOptions) => run(Boolean(o.json), async () => {
      const range = { since: instant(o.since, '--since'), until: instant(o.until, '--until') };
      const file = o.out ? await open(o.out, 'w').catch(() => { throw new AppError('file_not_found', `${o.out}: cannot be written`); }) : undefined;
      const out = file ? file.createWriteStream() : process.stdout;
      let events: number;
      try {
        events = await withDb(config, (db) => exportEvents(db, range, (e) => writeLine(out, `${JSON.stringify(e)}\n`)));
      } finally {
        if (file) { out.end(); await once(out, 'close'); }
      }
      if (o.out) print(o, { events, out: o.out }, () => `${events} events written to ${o.out}`);
    }));

  audit.command('citizen <nationalId>')
    .description('Which agencies signed this citizen in, when, at what level and which claims they received; her current consents')
    .option('--json', 'JSON output')
    .action((nationalId: string, o: OutputOptions) => run(Boolean(o.json), async () => {
      const report = await withDb(config, async (db) => {
        const citizen = await findCitizenByNationalId(db, nationalId);
        if (!citizen) throw new AppError('citizen_not_found');
        const names = new Map((await listClients(db)).map((c) => [c.client_id, String(c.client_name ?? c.client_id)]));
        const agency = (id: string | null) => ({ clientId: id, name: id ? names.get(id) ?? null : null });
        const signIns = (await listSignIns(db, citizen.id)).map((s) => ({
          agency: agency(s.clientId), at: new Date(s.at).toISOString(), level: levels[s.acr as string] ?? null, acr: s.acr, amr: s.amr, scopes: s.scopes, claims: s.claims,
        }));
        const consents = (await listConsents(db, citizen.id)).map((c) => ({ agency: agency(c.clientId), decision: c.decision, scopes: c.scopes, claims: c.claims, decidedAt: new Date(c.decidedAt).toISOString() }));
        // Looking a citizen up is itself an event she may later ask about.
        await createAudit(db)({ type: 'audit.citizen_viewed', outcome: 'info', citizenId: citizen.id });
        return { citizen: { nationalId: citizen.nationalId }, signIns, consents };
      });
      print(o, report, () => [
        `citizen ${report.citizen.nationalId}: ${report.signIns.length} sign-ins`,
        ...report.signIns.map((s) => `  ${s.at}  ${s.agency.name ?? s.agency.clientId}  ${s.level ?? s.acr ?? '-'}  ${s.claims.join(',')}`),
        `consents: ${report.consents.length}`,
        ...report.consents.map((c) => `  ${c.decidedAt}  ${c.agency.name ?? c.agency.clientId}  ${c.decision}  ${c.claims.join(',')}`),
      ].join('\n'));
    }));
}
