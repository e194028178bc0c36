// What the citizen's space shows and does, without koa: her access log (the same rows as `facegate
// audit citizen`, paged), her consents, her pending requests, her devices (src/passkeys/), and the
// three things she can do: revoke a consent (its grants and tokens go: the agency must ask again),
// report an access as not hers, remove a device. Each is audited. Imports audit, oidc (adapter,
// clients, acr), proof's table, passkeys, db.
import { randomBytes } from 'node:crypto';
import type { Audit } from '../audit/log.ts';
import { listConsents } from '../audit/consents.ts';
import { findSignIn, listSignIns, type SignIn } from '../audit/query.ts';
import type { Db } from '../db/knex.ts';
import { endCitizenSessions, revokeCitizenGrants } from '../oidc/adapter.ts';
import { listClients } from '../oidc/clients.ts';
import { accountClientId } from '../oidc/first-party.ts';
import { listPasskeys, removePasskey, type Passkey } from '../passkeys/store.ts';
import { AppError } from '../shared/errors.ts';
import { hasOpenReport, listReports, openReport, type IdentityReport } from './reports.ts';
import { endOtherSessions, sha256 } from './sessions.ts';

export type Requester = { ip?: string; userAgent?: string };
export type Agency = { clientId: string | null; name: string };
export type LogEntry = SignIn & { agency: Agency; reported: boolean };
export type PendingRequest = { id: string; kind: 'proof_of_life'; agency: Agency; bindingMessage: string; expiresAt: number; createdAt: number; openable: boolean };

export type AccountServiceDeps = { db: Db; audit: Audit; issuer: string; pageSize?: number; onReport?: () => void; clock?: () => number };

export function createAccountService(deps: AccountServiceDeps) {
  const { db, audit } = deps;
  const clock = deps.clock ?? Date.now;
  const pageSize = deps.pageSize ?? 20;

  async function agencies(): Promise<(id: string | null) => Agency> {
    const names = new Map((await listClients(db)).map((c) => [c.client_id, String(c.client_name ?? c.client_id)]));
    return (id) => ({ clientId: id, name: id ? names.get(id) ?? id : '' });
  }

  /** One page of her access log, newest first: `before` is the id of the last row of the previous page. */
  async function accessLog(citizenId: string, before?: number): Promise<{ entries: LogEntry[]; next?: number }> {
    const [rows, name, reports] = await Promise.all([
      listSignIns(db, citizenId, { limit: pageSize + 1, ...(before ? { beforeId: before } : {}) }), agencies(), listReports(db, { citizenId }),
    ]);
    const reported = new Set(reports.map((r) => r.eventId));
    const entries = rows.slice(0, pageSize).map((s) => ({ ...s, agency: name(s.clientId), reported: reported.has(s.id) }));
    return { entries, ...(rows.length > pageSize ? { next: entries.at(-1)!.id } : {}) };
  }

  /** Her current consents (allowed ones: a refusal grants nothing), the space itself left out. */
  async function consents(citizenId: string) {
    const name = await agencies();
    return (await listConsents(db, citizenId)).filter((c) => c.decision === 'allow' && c.clientId !== accountClientId).map((c) => ({ ...c, agency: name(c.clientId) }));
  }

  /** Her proof-of-life requests waiting for her (CIBA; other kinds of agency request would join here). */
  async function pendingRequests(citizenId: string): Promise<PendingRequest[]> {
    const name = await agencies();
    const rows = await db('proof_requests').where({ citizen_id: citizenId, state: 'pending' }).where('expires_at', '>', clock()).orderBy('created_at', 'desc')
      .select('id', 'client_id', 'binding_message', 'expires_at', 'created_at', 'claimed_at') as Array<Record<string, string | number | null>>;
    return rows.map((r) => ({
      id: String(r.id), kind: 'proof_of_life', agency: name(String(r.client_id)), bindingMessage: String(r.binding_message),
      expiresAt: Number(r.expires_at), createdAt: Number(r.created_at), openable: r.claimed_at === null,
    }));
  }

  /**
   * A new one-time link to a pending, unclaimed proof-of-life request of hers (the agency's link
   * may be on paper or another phone): the old link stops working. Returns the link's path.
   */
  async function openRequest(citizenId: string, id: string, who: Requester): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const n = await db('proof_requests').where({ id, citizen_id: citizenId, state: 'pending' }).whereNull('claimed_at').where('expires_at', '>', clock())
      .update({ link_hash: sha256(token) });
    if (n !== 1) throw new AppError('proof_not_found');
    await audit({ type: 'proof.link_reissued', outcome: 'info', interactionUid: id, citizenId, ...who, details: { by: 'citizen_space' } });
    return `/proof?t=${token}`;
  }

  /** Revokes her consent to an agency: the grants and their tokens go, and the consent row. */
  async function revokeConsent(citizenId: string, clientId: string, who: Requester): Promise<{ grants: number; tokens: number }> {
    if (!clientId || clientId === accountClientId) throw new AppError('invalid_input', 'unknown agency');
    const revoked = await revokeCitizenGrants(db, citizenId, clientId);
    const removed = await db('consents').where({ citizen_id: citizenId, client_id: clientId }).delete();
    if (!removed && !revoked.grants) throw new AppError('invalid_input', 'no consent to this agency');
    await audit({ type: 'consent.revoked', outcome: 'success', clientId, citizenId, ...who, details: { by: 'citizen', ...revoked } });
    return revoked;
  }

  /**
   * "This wasn't me" on a row of her log: a report (open until an operator closes it; her sign-ins
   * are at high meanwhile), every other session as her ended (the space's and the provider's: whoever
   * used her identity is signed out), audited for operators and counted in the metrics.
   */
  async function report(citizenId: string, eventId: number, currentSession: string, who: Requester): Promise<IdentityReport> {
    const entry = Number.isSafeInteger(eventId) ? await findSignIn(db, citizenId, eventId) : undefined;
    if (!entry) throw new AppError('invalid_input', 'not an entry of your access log');
    const { report: r, created } = await openReport(db, { citizenId, eventId, clientId: entry.clientId, eventAt: entry.at }, clock());
    if (!created) return r;
    const [spaceSessions, providerSessions] = await Promise.all([endOtherSessions(db, citizenId, currentSession), endCitizenSessions(db, citizenId)]);
    await audit({
      type: 'identity.reported', outcome: 'failure', code: 'identity_reported', clientId: entry.clientId ?? undefined, citizenId, ...who,
      details: { reportId: r.id, eventId, eventAt: new Date(entry.at).toISOString(), kind: entry.kind, acr: entry.acr, sessionsEnded: spaceSessions + providerSessions, stepUp: 'high until closed' },
    });
    deps.onReport?.();
    return r;
  }

  async function devices(citizenId: string): Promise<Passkey[]> {
    return listPasskeys(db, citizenId);
  }

  async function removeDevice(citizenId: string, id: string, who: Requester): Promise<void> {
    if (!await removePasskey(db, audit, { citizenId, id, actor: 'citizen', requester: who })) throw new AppError('invalid_input', 'not one of your devices');
  }

  return { accessLog, consents, pendingRequests, openRequest, revokeConsent, report, devices, removeDevice, hasOpenReport: (citizenId: string) => hasOpenReport(db, citizenId) };
}

export type AccountService = ReturnType<typeof createAccountService>;
