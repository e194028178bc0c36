// `facegate reports list | close`: the "This wasn't me" reports citizens made in their space
// (src/account/reports.ts). While a report is open every face sign-in of hers is at high; an
// operator closes it once the access has been looked into (docs/support.md). Audited.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { closeReport, findReport, listReports, type IdentityReport, type ReportState } from '../account/reports.ts';
import { createAudit } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { listClients } from '../oidc/clients.ts';
import { findCitizenById, findCitizenByNationalId } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import { withDb, type Run } from './db.ts';
import { print, type OutputOptions } from './output.ts';

interface ListOptions extends OutputOptions { state: string; nationalId?: string }
interface CloseOptions extends OutputOptions { resolution: string; operator?: string }

/** The operator's name: `--operator` (not empty), else the OS user name. */
export function operatorOf(option: string | undefined): string {
  if (option !== undefined) {
    if (!option.trim()) throw new AppError('invalid_input', '--operator must not be empty');
    return option.trim();
  }
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function describe(db: Db, reports: IdentityReport[]) {
  const names = new Map((await listClients(db)).map((c) => [c.client_id, String(c.client_name ?? c.client_id)]));
  return Promise.all(reports.map(async (r) => ({
    id: r.id, state: r.state, nationalId: (await findCitizenById(db, r.citizenId))?.nationalId ?? null,
    agency: { clientId: r.clientId, name: r.clientId ? names.get(r.clientId) ?? null : null }, eventId: r.eventId, eventAt: iso(r.eventAt),
    reportedAt: iso(r.reportedAt), closedAt: iso(r.closedAt), closedBy: r.closedBy, resolution: r.resolution,
  })));
}

export function registerReportCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const reports = program.command('reports').description('Citizens\' "This wasn\'t me" reports from their space: list them, close one after looking into it');

  reports.command('list')
    .description('The reports, newest first: the citizen\'s national ID, the access she reported (agency, time), when, and for closed ones who closed it and why')
    .option('--state <state>', 'open, closed or all', 'open')
    .option('--national-id <id>', 'only this citizen\'s reports')
    .option('--json', 'JSON output')
    .action((o: ListOptions) => run(Boolean(o.json), async () => {
      if (!['open', 'closed', 'all'].includes(o.state)) throw new AppError('invalid_input', '--state must be open, closed or all');
      const rows = await withDb(config, async (db) => {
        let citizenId: string | undefined;
        if (o.nationalId) {
          const citizen = await findCitizenByNationalId(db, o.nationalId);
          if (!citizen) throw new AppError('citizen_not_found');
          citizenId = citizen.id;
        }
        const found = await listReports(db, { ...(o.state === 'all' ? {} : { state: o.state as ReportState }), ...(citizenId ? { citizenId } : {}) });
        // Reading reports shows who was targeted: itself an event.
        await createAudit(db, Date.now, config.secrets)({ type: 'identity.reports_viewed', outcome: 'info', citizenId: citizenId ?? null, details: { state: o.state, count: found.length } });
        return describe(db, found);
      });
      print(o, { reports: rows }, () => [
        `${rows.length} ${o.state === 'all' ? '' : `${o.state} `}report${rows.length === 1 ? '' : 's'}`,
        ...rows.map((r) => `  ${r.id}  ${r.state}  reported ${r.reportedAt}  citizen ${r.nationalId ?? '?'}  access ${r.eventAt ?? '-'} by ${r.agency.name ?? r.agency.clientId ?? '-'}${r.closedBy ? `  closed by ${r.closedBy}: ${r.resolution}` : ''}`),
      ].join('\n'));
    }));

  reports.command('close <reportId>')
    .description('Closes an open report (her sign-ins are back at the level agencies ask for); audited as identity.report_closed with the operator and the resolution')
    .requiredOption('--resolution <text>', 'what was found and done (e.g. "her daughter signed in with her consent" or "revoked the agency\'s consent, police report filed")')
    .option('--operator <name>', 'who closes (default: the OS user name)')
    .option('--json', 'JSON output')
    .action((reportId: string, o: CloseOptions) => run(Boolean(o.json), async () => {
      const operator = operatorOf(o.operator);
      const resolution = o.resolution.trim();
      if (!resolution) throw new AppError('invalid_input', '--resolution must not be empty');
      const closed = await withDb(config, async (db) => {
        const report = await findReport(db, reportId);
        if (!report || !await closeReport(db, reportId, operator, resolution.slice(0, 1000), Date.now())) throw new AppError('report_not_found');
        await createAudit(db, Date.now, config.secrets)({
          type: 'identity.report_closed', outcome: 'info', citizenId: report.citizenId, clientId: report.clientId ?? undefined,
          details: { reportId, operator, resolution: resolution.slice(0, 1000) },
        });
        return (await describe(db, [(await findReport(db, reportId))!]))[0];
      });
      print(o, closed, () => `report ${closed.id} closed by ${operator}: ${closed.resolution}`);
    }));
}
