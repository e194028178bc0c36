// "This wasn't me": a citizen's report of an access she did not make (`identity_reports`). While
// one is open her face sign-ins are at high (src/capture/service.ts start), whatever the agency
// asked; it stays open until an operator closes it (`facegate reports close`). Imports db only.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';

export type ReportState = 'open' | 'closed';
export type IdentityReport = {
  id: string; citizenId: string; eventId: number | null; clientId: string | null; eventAt: number | null; state: ReportState;
  reportedAt: number; closedAt: number | null; closedBy: string | null; resolution: string | null;
};
type Row = {
  id: string; citizen_id: string; event_id: number | string | null; client_id: string | null; event_at: number | string | null; state: string;
  reported_at: number | string; closed_at: number | string | null; closed_by: string | null; resolution: string | null;
};
const table = 'identity_reports';
const num = (v: number | string | null) => (v === null ? null : Number(v));
const toReport = (r: Row): IdentityReport => ({
  id: r.id, citizenId: r.citizen_id, eventId: num(r.event_id), clientId: r.client_id, eventAt: num(r.event_at), state: r.state as ReportState,
  reportedAt: Number(r.reported_at), closedAt: num(r.closed_at), closedBy: r.closed_by, resolution: r.resolution,
});

/** Records a report (open); one per access-log row: reporting a row twice returns the first report. */
export async function openReport(db: Db, input: { citizenId: string; eventId: number; clientId: string | null; eventAt: number }, now: number): Promise<{ report: IdentityReport; created: boolean }> {
  const existing = await db<Row>(table).where({ citizen_id: input.citizenId, event_id: input.eventId }).first();
  if (existing) return { report: toReport(existing), created: false };
  const row: Row = {
    id: randomBytes(9).toString('base64url'), citizen_id: input.citizenId, event_id: input.eventId, client_id: input.clientId, event_at: input.eventAt,
    state: 'open', reported_at: now, closed_at: null, closed_by: null, resolution: null,
  };
  await db(table).insert(row);
  return { report: toReport(row), created: true };
}

/** True while the citizen has an open report: her sign-ins are at high. */
export async function hasOpenReport(db: Db, citizenId: string): Promise<boolean> {
  return Boolean(await db(table).where({ citizen_id: citizenId, state: 'open' }).first('id'));
}

/** Reports, newest first: of one citizen, or all (by state). */
export async function listReports(db: Db, filter: { citizenId?: string; state?: ReportState; limit?: number } = {}): Promise<IdentityReport[]> {
  const q = db<Row>(table).orderBy('reported_at', 'desc').limit(filter.limit ?? 500);
  if (filter.citizenId) q.where({ citizen_id: filter.citizenId });
  if (filter.state) q.where({ state: filter.state });
  return (await q).map(toReport);
}

export async function findReport(db: Db, id: string): Promise<IdentityReport | undefined> {
  const row = await db<Row>(table).where({ id }).first();
  return row ? toReport(row) : undefined;
}

/** Closes an open report; true when this call did. */
export async function closeReport(db: Db, id: string, by: string, resolution: string, now: number): Promise<boolean> {
  return (await db(table).where({ id, state: 'open' }).update({ state: 'closed', closed_at: now, closed_by: by, resolution })) === 1;
}
