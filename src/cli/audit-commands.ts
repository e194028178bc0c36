// `facegate audit verify | checkpoint | export | citizen`: checks the audit trail's hash chain and
// MACs (against heads kept outside: --head, --checkpoints), signs checkpoints of its head, exports
// it as JSON lines, and lists which agencies signed a citizen in and what they received.
import { once } from 'node:events';
import { appendFile, open, readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { acrHigh, acrSubstantial, type Config } from '../../config/schema.ts';
import type { AuditRow } from '../audit/chain.ts';
import { checkpointHeads, headStatement, parseCheckpointLines, signCheckpoint } from '../audit/checkpoint.ts';
import { listConsents } from '../audit/consents.ts';
import { createAudit } from '../audit/log.ts';
import { exportEvents, listSignIns, verifyChain, type ExpectedHead, type VerifyResult } from '../audit/query.ts';
import type { Db } from '../db/knex.ts';
import { listClients } from '../oidc/clients.ts';
import { ensureSigningKeys, loadSigningJwks } from '../oidc/keys.ts';
import { createSealer } from '../shared/sealed.ts';
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
interface VerifyOptions extends OutputOptions { head: string[]; checkpoints?: string }

const collect = (v: string, all: string[]) => [...all, v];

function headOption(hash: string): ExpectedHead {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new AppError('invalid_input', `--head: not a row hash (64 hex digits): ${hash}`);
  return { source: '--head', hash };
}

async function readCheckpointFile(file: string, missingOk = false): Promise<{ source: string; jws: string }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AppError('file_not_found', `${file}: cannot be read`);
  }
  try {
    return parseCheckpointLines(text, file);
  } catch (err) {
    throw new AppError('invalid_input', (err as Error).message);
  }
}

/** The chain checked against the heads and checkpoints kept outside (signatures first). */
async function verifyAgainst(db: Db, config: Readonly<Config>, heads: ExpectedHead[], checkpoints: { source: string; jws: string }[]): Promise<VerifyResult> {
  if (checkpoints.length) {
    const keys = (await loadSigningJwks(db, createSealer(config.secrets.dataKeys, config.secrets.dataKeyId))).keys;
    const checked = await checkpointHeads(checkpoints, keys);
    if (checked.invalid) return { ok: false, rows: 0, ms: 0, head: null, unanchored: 0, heads: heads.length + checkpoints.length, broken: checked.invalid };
    heads = [...heads, ...checked.heads];
  }
  return verifyChain(db, { secrets: config.secrets, heads });
}

function verifyText(r: VerifyResult): string {
  if (!r.ok) {
    const b = r.broken!;
    return b.reason === 'checkpoint_invalid'
      ? `audit checkpoint refused (${b.reason}): ${b.message}`
      : `audit chain broken at row ${b.id} (${b.reason}): ${b.message}; ${r.rows} rows verified`;
  }
  const notes = [
    `audit chain intact: ${r.rows} rows verified in ${r.ms} ms${r.head ? `; head row ${r.head.id} ${r.head.hash}` : ''}`,
    r.heads ? `; ${r.heads} head${r.heads > 1 ? 's' : ''} kept outside found unchanged` : '',
    r.unanchored > 0 && r.unanchored === r.rows ? `\nwarning: no row carries a MAC (rows written before migration 0005, or MACs stripped: check against a checkpoint)` : '',
    r.unanchored > 0 && r.unanchored < r.rows ? `\nrows 1..${r.unanchored} carry no MAC (written before migration 0005); the MACs after them cover them` : '',
  ];
  return notes.join('');
}

export function registerAuditCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const audit = program.command('audit').description('The audit trail: chain check, export, a citizen\'s sign-ins');

  audit.command('verify')
    .description('Recompute the hash chain and each row\'s MAC (audit key) in id order, and check heads kept outside; exit 1 naming the first broken row (altered, re-chained, forged, missing, out of order) or the head the chain no longer holds (tail cut)')
    .option('--head <hash>', 'a head hash recorded earlier (verify or checkpoint output): the chain must still hold it (repeatable)', collect, [])
    .option('--checkpoints <file>', 'a file of signed checkpoints (`audit checkpoint`): the chain must still hold each one, unchanged')
    .option('--json', 'JSON output')
    .action((o: VerifyOptions) => run(Boolean(o.json), async () => {
      const heads = o.head.map(headOption);
      const checkpoints = o.checkpoints ? await readCheckpointFile(o.checkpoints) : [];
      const r = await withDb(config, (db) => verifyAgainst(db, config, heads, checkpoints));
      print(o, r, () => verifyText(r));
      if (!r.ok) process.exitCode = 1;
    }));

  audit.command('checkpoint')
    .description('Verify the chain (against the checkpoints already in --out), then print a signed statement of its head (JWS, the gateway\'s ES256 key) as one JSON line, or append it to --out; ship it to a store outside the database')
    .option('--out <file>', 'append the checkpoint to this file (its earlier checkpoints are checked first)')
    .option('--json', 'with --out: print the checkpoint as JSON too')
    .action((o: OutputOptions & { out?: string }) => run(Boolean(o.json), async () => {
      const earlier = o.out ? await readCheckpointFile(o.out, true) : [];
      const outcome = await withDb(config, async (db) => {
        const r = await verifyAgainst(db, config, [], earlier);
        if (!r.ok) return { r };
        if (!r.head) throw new AppError('invalid_input', 'the audit trail is empty: nothing to checkpoint');
        const row = await db<AuditRow>('audit_events').where({ id: r.head.id }).first('at', 'mac', 'mac_key_id');
        const statement = headStatement(r, { at: Number(row!.at), mac: row!.mac ?? null, mac_key_id: row!.mac_key_id ?? null }, config.server.issuer)!;
        const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
        await ensureSigningKeys(db, sealer);
        return { r, line: await signCheckpoint(statement, (await loadSigningJwks(db, sealer)).keys) };
      });
      if (!outcome.line) {
        print(o, outcome.r, () => `no checkpoint taken: ${verifyText(outcome.r)}`);
        process.exitCode = 1;
        return;
      }
      const { line } = outcome;
      if (!o.out) {
        process.stdout.write(`${JSON.stringify(line)}\n`);
        return;
      }
      await appendFile(o.out, `${JSON.stringify(line)}\n`).catch(() => { throw new AppError('file_not_found', `${o.out}: cannot be written`); });
      print(o, { ...line, out: o.out }, () => `checkpoint of row ${line.seq} ${line.hash} appended to ${o.out}`);
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
          agency: agency(s.clientId), kind: s.kind, at: new Date(s.at).toISOString(), level: levels[s.acr as string] ?? null, acr: s.acr, amr: s.amr, scopes: s.scopes, claims: s.claims,
        }));
        const consents = (await listConsents(db, citizen.id)).map((c) => ({ agency: agency(c.clientId), decision: c.decision, scopes: c.scopes, claims: c.claims, authorizationDetails: c.authorizationDetails, decidedAt: new Date(c.decidedAt).toISOString() }));
        // Looking a citizen up is itself an event she may later ask about.
        await createAudit(db, Date.now, config.secrets)({ type: 'audit.citizen_viewed', outcome: 'info', citizenId: citizen.id });
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
