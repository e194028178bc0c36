// oidc-provider's own events into the audit trail: tokens issued (with the claims the agency
// received), grant, authorization and endpoint errors, revocations, logouts. Records client,
// citizen, address, user agent and error codes; never tokens, codes or assertions. No koa import.
import type { Audit, AuditEvent } from './log.ts';

type Emitter = { on(event: string, listener: (...args: any[]) => void): unknown };
type OidcError = { error?: string; name?: string; status?: number; statusCode?: number };
type GrantSource = { accountId?: string; acr?: string; amr?: string[]; scope?: string; claims?: unknown; grantId?: string };
type Ctx = {
  ip?: string;
  get?(header: string): string;
  oidc?: {
    route?: string;
    client?: { clientId?: string };
    session?: { accountId?: string };
    params?: Record<string, unknown>;
    entities?: Record<string, GrantSource | undefined>;
  };
};

export type ProviderAuditOptions = {
  /** Scope → claims it releases (src/oidc/accounts.ts), to record what an agency received. */
  scopeClaims: Readonly<Record<string, readonly string[]>>;
  /** Where a failed audit write goes (the event itself never fails the request). */
  onError(err: unknown, type: string): void;
};

/** Endpoint error events of oidc-provider 9 (lib/helpers/initialize_app.js) that are audited. */
export const providerErrorEvents = [
  'grant.error', 'authorization.error', 'end_session.error', 'end_session_confirm.error', 'userinfo.error',
  'introspection.error', 'revocation.error', 'pushed_authorization_request.error', 'backchannel_authentication.error',
] as const;

/**
 * Token errors that answer a CIBA poll rather than fail anything: "still pending" is the normal
 * answer to each poll (one audit row each would let an agency's polling grow the chain), and
 * `slow_down` has its own event (proof.slow_down, src/proof/). The decision itself is audited.
 */
const pollAnswers = new Set(['authorization_pending', 'slow_down']);

/** The claims released by a token request: those of its scopes plus any asked for by name. */
export function claimsReceived(source: GrantSource, scopeClaims: ProviderAuditOptions['scopeClaims']): string[] {
  const scopes = String(source.scope ?? '').split(' ').filter(Boolean);
  const named = new Set(scopes.flatMap((s) => [...(scopeClaims[s] ?? [])]));
  try {
    const asked = typeof source.claims === 'string' ? JSON.parse(source.claims) : source.claims;
    for (const part of ['id_token', 'userinfo']) for (const c of Object.keys((asked as Record<string, object> | undefined)?.[part] ?? {})) named.add(c);
  } catch { /* a malformed claims parameter never reached a token */ }
  return [...named].sort();
}

function who(ctx: Ctx): Pick<AuditEvent, 'clientId' | 'citizenId' | 'ip' | 'userAgent'> {
  return {
    clientId: ctx.oidc?.client?.clientId,
    citizenId: ctx.oidc?.session?.accountId ?? null,
    ip: ctx.ip,
    userAgent: ctx.get?.('user-agent') || undefined,
  };
}

/** Subscribes the audit writer to the provider's events. */
export function auditProviderEvents(provider: Emitter, audit: Audit, options: ProviderAuditOptions): void {
  const write = (e: AuditEvent) => { audit(e).catch((err: unknown) => options.onError(err, e.type)); };

  provider.on('grant.success', (ctx: Ctx) => {
    const entities = ctx.oidc?.entities ?? {};
    const source = entities.AuthorizationCode ?? entities.RefreshToken ?? entities.DeviceCode ?? entities.BackchannelAuthenticationRequest;
    write({
      ...who(ctx), type: 'oidc.grant.success', outcome: 'success', citizenId: source?.accountId ?? null,
      details: {
        grant_type: ctx.oidc?.params?.grant_type, grant_id: source?.grantId, acr: source?.acr, amr: source?.amr,
        scope: source?.scope, claims: source ? claimsReceived(source, options.scopeClaims) : [],
      },
    });
  });
  for (const name of providerErrorEvents) {
    provider.on(name, (ctx: Ctx, err: OidcError) => {
      if (pollAnswers.has(err?.error ?? '')) return;
      write({
        ...who(ctx), type: `oidc.${name}`, outcome: 'failure', code: err?.error ?? 'unknown',
        details: { status: err?.statusCode ?? err?.status, route: ctx.oidc?.route },
      });
    });
  }
  provider.on('server_error', (ctx: Ctx, err: OidcError) => write({
    ...who(ctx), type: 'oidc.server_error', outcome: 'failure', code: 'server_error', details: { error: err?.name },
  }));
  provider.on('grant.revoked', (ctx: Ctx, grantId: string) => write({
    ...who(ctx), type: 'oidc.grant.revoked', outcome: 'info', details: { grant_id: grantId },
  }));
  provider.on('end_session.success', (ctx: Ctx) => write({ ...who(ctx), type: 'oidc.end_session.success', outcome: 'success' }));
  // Logout token deliveries (backchannel.success / .error) are audited, with each token's jti and
  // the retries, by src/oidc/backchannel-logout.ts.
}
