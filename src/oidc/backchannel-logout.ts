// Back-channel logout (OpenID Connect Back-Channel Logout 1.0) around oidc-provider's own: it issues
// and posts the logout token (signed as the agency's ID tokens, encrypted when they are) when a
// session ends at /session/end, once. This adds what it leaves to the deployment: retries with
// backoff, an audit row for every attempt with the token's `jti`, and logout tokens when a session
// ends by expiring (its idle timeout) instead. Imports oidc-provider (types), db and the audit
// writer; no koa.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import type { Audit, AuditEvent } from '../audit/log.ts';
import type { Db } from '../db/knex.ts';
import { takeExpiredSessions } from './adapter.ts';

/** What oidc-provider's Client offers for this (its backchannelLogout is not in @types). */
type LogoutClient = { clientId: string; backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> };
type Ctx = { ip?: string; get?(header: string): string } | undefined;
/** Why the agency is told: the citizen (or another agency) logged out, or the session expired. */
type Reason = 'logout' | 'session_expired';

export type LogoutDeliveryOptions = {
  audit: Audit;
  /** Delay (ms) before each retry of a failed delivery: [1000, 4000, 16000] retries three times. */
  retryDelaysMs: readonly number[];
  /** Where a failed audit write goes (a delivery never fails because of it). */
  onError(err: unknown, type: string): void;
};

export type LogoutDelivery = {
  /**
   * Ends the sessions expired by `now`: deletes them and sends each agency that had one a logout
   * token (retried as any other). Returns how many sessions ended.
   */
  endExpiredSessions(now?: number): Promise<number>;
  /** Resolves once no delivery or retry is pending. */
  idle(): Promise<void>;
  /** Drops the pending retries (shutdown): their last failure is in the audit trail. */
  close(): void;
};

const key = (clientId: string, sid: string) => `${clientId}\n${sid}`;
/** Expired sessions taken per statement. */
const batch = 500;

/** A short description of a failed delivery: the agency's HTTP status, or the network error. */
function describe(err: unknown): string {
  const e = err as { message?: unknown; response?: { status?: number }; cause?: { code?: unknown; message?: unknown } };
  if (typeof e?.response?.status === 'number') return `HTTP ${e.response.status}`;
  const cause = e?.cause ? ` (${String(e.cause.code ?? e.cause.message)})` : '';
  return `${String(e?.message ?? err)}${cause}`.slice(0, 200);
}

/**
 * Hooks the provider's logout tokens: each one's jti is noted as it is issued, oidc-provider's
 * `backchannel.success` / `backchannel.error` events are audited with it, and a failure is tried
 * again (a new logout token each time, through the provider) after each of `retryDelaysMs`. Retries
 * live in this process: timers that do not hold it open, dropped by close().
 */
export function createLogoutDelivery(provider: Provider, db: Db, options: LogoutDeliveryOptions): LogoutDelivery {
  const { audit, retryDelaysMs } = options;
  // The jti of the logout token being issued, for the one backchannelLogout call that issues it…
  const issuing = new AsyncLocalStorage<{ jti?: string }>();
  // …kept by (agency, sid) until the event or the retry that reads it (a sid is one session's, for one agency).
  const issued = new Map<string, string>();
  const take = (clientId: string, sid: string) => {
    const jti = issued.get(key(clientId, sid));
    issued.delete(key(clientId, sid));
    return jti;
  };

  const idToken = provider.IdToken.prototype;
  const issue = idToken.issue;
  idToken.issue = function issueNoted(this: InstanceType<Provider['IdToken']>, opts) {
    const box = opts?.use === 'logout' ? issuing.getStore() : undefined;
    if (box && typeof this.extra.jti === 'string') box.jti = this.extra.jti;
    return issue.call(this, opts);
  };
  const client = provider.Client.prototype as unknown as LogoutClient;
  const send = client.backchannelLogout;
  client.backchannelLogout = function sendNoted(this: LogoutClient, sub: string, sid: string) {
    const box: { jti?: string } = {};
    return issuing.run(box, () => send.call(this, sub, sid)).finally(() => {
      if (box.jti) issued.set(key(this.clientId, sid), box.jti);
    });
  };

  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };
  // Settles once the row is written (or the failure reported): never rejects.
  const write = (e: AuditEvent): Promise<void> => track(audit(e).catch((err: unknown) => options.onError(err, e.type)));

  type Attempt = { client: LogoutClient; accountId: string; sid: string; reason: Reason; attempt: number; ctx?: Ctx };
  const who = ({ client: c, accountId, ctx }: Attempt) => ({
    clientId: c.clientId, citizenId: accountId, ip: ctx?.ip, userAgent: ctx?.get?.('user-agent') || undefined,
  });

  function succeeded(a: Attempt): Promise<void> {
    return write({ ...who(a), type: 'oidc.backchannel.success', outcome: 'success', details: { jti: take(a.client.clientId, a.sid), attempt: a.attempt, reason: a.reason } });
  }

  function failed(a: Attempt, err: unknown): Promise<void> {
    const delay = retryDelaysMs[a.attempt - 1];
    const written = write({
      ...who(a), type: 'oidc.backchannel.error', outcome: 'failure', code: 'logout_delivery_failed',
      details: {
        jti: take(a.client.clientId, a.sid), attempt: a.attempt, reason: a.reason, error: describe(err),
        ...(delay === undefined ? { gave_up: true } : { retry_in_ms: delay }),
      },
    });
    if (delay === undefined) return written;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void attempt({ ...a, attempt: a.attempt + 1, ctx: undefined });
    }, delay);
    timer.unref();
    timers.add(timer);
    return written;
  }

  function attempt(a: Attempt): Promise<void> {
    return track(a.client.backchannelLogout(a.accountId, a.sid).then(() => succeeded(a), (err: unknown) => failed(a, err)));
  }

  // The first delivery of a logout at /session/end is oidc-provider's own (events not in @types).
  const events = provider as unknown as { on(event: string, listener: (...args: never[]) => void): unknown };
  events.on('backchannel.success', (ctx: Ctx, c: LogoutClient, accountId: string, sid: string) => {
    void succeeded({ client: c, accountId, sid, reason: 'logout', attempt: 1, ctx });
  });
  events.on('backchannel.error', (ctx: Ctx, err: unknown, c: LogoutClient, accountId: string, sid: string) => {
    void failed({ client: c, accountId, sid, reason: 'logout', attempt: 1, ctx }, err);
  });

  return {
    async endExpiredSessions(now = Date.now()) {
      let ended = 0;
      for (;;) {
        const sessions = await takeExpiredSessions(db, now, batch);
        ended += sessions.length;
        const sends: Array<Promise<void>> = [];
        for (const session of sessions) {
          if (!session.accountId) continue;
          for (const [clientId, { sid }] of Object.entries(session.authorizations)) {
            // An agency removed, or whose metadata no longer loads, is not told (and the sweep goes on).
            const c = sid ? await provider.Client.find(clientId).catch((err: unknown) => { options.onError(err, 'oidc.backchannel.error'); }) as unknown as LogoutClient | undefined : undefined;
            if (c?.backchannelLogoutUri) sends.push(attempt({ client: c, accountId: session.accountId, sid: sid!, reason: 'session_expired', attempt: 1 }));
          }
        }
        await Promise.all(sends);
        if (sessions.length < batch) return ended;
      }
    },
    async idle() {
      while (inFlight.size || timers.size) {
        await Promise.allSettled([...inFlight]);
        if (!inFlight.size && timers.size) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
