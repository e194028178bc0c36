// Consent decisions per citizen and agency: the latest one is kept in `consents`, every one in the
// audit trail (both written in one transaction by the audit writer), with the RFC 9396
// authorization details (the purposes) the citizen agreed to. Imports knex types only.
import type { Knex } from 'knex';
import type { Audit, AuditEvent } from './log.ts';

export const consentEventType = 'consent.decided';

/** A citizen's answer on the consent page for one agency. */
export type ConsentDecision = {
  citizenId: string | undefined;
  clientId: string;
  decision: 'allow' | 'deny';
  /** The scopes the agency asked for, and the claims they release (`verified_claims.<name>` inside verified_claims). */
  scopes: string[];
  claims: string[];
  /** The authorization_details (RFC 9396) of the request: what the sign-in is for. */
  authorizationDetails?: AuthorizationDetailRecord[];
  interactionUid?: string;
  ip?: string;
  userAgent?: string;
};

/** One RFC 9396 authorization detail (src/oidc/authorization-details.ts), as stored. */
export type AuthorizationDetailRecord = { type: string; [member: string]: unknown };

/** The `consents` table: one row per citizen and agency, the latest decision. */
export interface ConsentRow {
  citizen_id: string;
  client_id: string;
  decision: 'allow' | 'deny';
  /** Space-separated, as OAuth writes them. */
  scopes: string;
  /** JSON array of claim names. */
  claims: string;
  /** JSON array of the authorization details of the decision, or null (none asked for; migration 0007). */
  authorization_details: string | null;
  decided_at: number;
}

export type Consent = {
  clientId: string; decision: 'allow' | 'deny'; scopes: string[]; claims: string[]; authorizationDetails: AuthorizationDetailRecord[]; decidedAt: number;
};

/** Audits the decision; the audit writer also upserts it into `consents`. */
export async function recordConsent(audit: Audit, d: ConsentDecision): Promise<void> {
  await audit({
    type: consentEventType,
    outcome: d.decision === 'allow' ? 'success' : 'failure',
    interactionUid: d.interactionUid,
    clientId: d.clientId,
    citizenId: d.citizenId,
    ip: d.ip,
    userAgent: d.userAgent,
    details: {
      decision: d.decision, scope: d.scopes.join(' '), claims: d.claims,
      ...(d.authorizationDetails?.length ? { authorization_details: d.authorizationDetails } : {}),
    },
  });
}

/** Called by the audit writer inside its transaction for a `consent.decided` event. */
export async function storeConsent(trx: Knex.Transaction, e: AuditEvent, at: number): Promise<void> {
  const details = e.details ?? {};
  const decision = details.decision === 'allow' ? 'allow' : details.decision === 'deny' ? 'deny' : undefined;
  if (!e.citizenId || !e.clientId || !decision) return;
  const claims = Array.isArray(details.claims) ? details.claims.map(String) : [];
  const authorizationDetails = Array.isArray(details.authorization_details) && details.authorization_details.length ? details.authorization_details : undefined;
  const row: ConsentRow = {
    citizen_id: e.citizenId, client_id: e.clientId, decision,
    scopes: typeof details.scope === 'string' ? details.scope : '', claims: JSON.stringify(claims),
    authorization_details: authorizationDetails ? JSON.stringify(authorizationDetails) : null, decided_at: at,
  };
  await trx('consents').insert(row).onConflict(['citizen_id', 'client_id']).merge(['decision', 'scopes', 'claims', 'authorization_details', 'decided_at']);
}

/** A citizen's current consent per agency, most recent first. */
export async function listConsents(db: Knex, citizenId: string): Promise<Consent[]> {
  const rows = await db<ConsentRow>('consents').where({ citizen_id: citizenId }).orderBy('decided_at', 'desc');
  return rows.map((r) => ({
    clientId: r.client_id, decision: r.decision, scopes: r.scopes.split(' ').filter(Boolean), claims: JSON.parse(r.claims) as string[],
    authorizationDetails: r.authorization_details ? JSON.parse(r.authorization_details) as AuthorizationDetailRecord[] : [], decidedAt: Number(r.decided_at),
  }));
}
