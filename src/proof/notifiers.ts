// How a citizen is told about a proof-of-life request: the agency's notifier (client metadata
// `facegate_notifier`). `webhook`: a notice signed by the gateway (a JWT under its published ES256
// key) is POSTed to the agency's `facegate_notification_uri`, which delivers the one-time link by
// SMS, e-mail or letter. `qr`: the link comes back in the backchannel authentication response
// (`facegate_link`), for the agency to show as a QR code (assisted proof of life at an office).
// `outbox`: development only, the link is listed on /demo/outbox. Imports jose and errors.
import { importJWK, SignJWT, type JWK } from 'jose';
import { AppError } from '../shared/errors.ts';
import type { OutboundFetch } from '../oidc/outbound.ts';
import type { NotifierKind } from './store.ts';

/** What the citizen must be told, and by whom. */
export type Notice = {
  proofId: string; authReqId: string; clientId: string; clientName: string;
  /** The one-time link (never stored: only its hash is). */
  link: string;
  bindingMessage: string;
  expiresAt: number;
};

/** The agency's notification settings (its client metadata). */
export type Channel = { notificationUri?: string };

export interface Notifier {
  readonly kind: NotifierKind;
  /** Tells the citizen (through the agency); returns extra members for the backchannel response. Throws notification_failed. */
  notify(notice: Notice, channel: Channel): Promise<Record<string, unknown>>;
}

/** The notice's JWT type (`typ`), for the agency to check. */
export const noticeType = 'facegate-proof-notice+jwt';

/** The webhook: a JWT signed with the gateway's active ES256 key, POSTed as `application/jwt`. */
export function webhookNotifier(deps: { issuer: string; jwks: { keys: JWK[] }; fetch: OutboundFetch; timeoutMs: number }): Notifier {
  // Active keys come first (src/oidc/keys.ts loadSigningJwks): the one oidc-provider signs with too.
  const jwk = deps.jwks.keys.find((k) => k.alg === 'ES256' && k.d);
  if (!jwk) throw new Error('no private ES256 signing key for proof-of-life notices');
  const key = importJWK(jwk, 'ES256');
  return {
    kind: 'webhook',
    async notify(n, channel) {
      if (!channel.notificationUri) throw new AppError('notification_failed', 'the agency has no facegate_notification_uri');
      const jwt = await new SignJWT({
        auth_req_id: n.authReqId, link: n.link, binding_message: n.bindingMessage, expires_at: new Date(n.expiresAt).toISOString(),
      }).setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: noticeType })
        .setIssuer(deps.issuer).setAudience(n.clientId).setJti(n.proofId).setIssuedAt()
        .setExpirationTime(Math.floor(n.expiresAt / 1000))
        .sign(await key);
      let status: number;
      try {
        const res = await deps.fetch(channel.notificationUri, {
          method: 'POST', redirect: 'manual', body: jwt,
          headers: { 'content-type': 'application/jwt', 'user-agent': 'Facegate' },
          signal: AbortSignal.timeout(deps.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        throw new AppError('notification_failed', `the notification endpoint could not be reached: ${(err as Error).message}`);
      }
      if (status < 200 || status > 299) throw new AppError('notification_failed', `the notification endpoint answered ${status}`);
      return {};
    },
  };
}

/** The QR code at an office: the agency gets the link back at once and shows it. */
export function qrNotifier(): Notifier {
  return { kind: 'qr', notify: async (n) => ({ facegate_link: n.link }) };
}

export type OutboxEntry = { at: number; clientId: string; clientName: string; link: string; bindingMessage: string; expiresAt: number };

/** Development: the links are kept in memory (the last 50) for the /demo/outbox page. */
export function createOutbox(enabled: boolean, size = 50) {
  const entries: OutboxEntry[] = [];
  const notifier: Notifier = {
    kind: 'outbox',
    async notify(n) {
      if (!enabled) throw new AppError('notification_failed', 'the development outbox is off (it exists only with the demo)');
      entries.unshift({ at: Date.now(), clientId: n.clientId, clientName: n.clientName, link: n.link, bindingMessage: n.bindingMessage, expiresAt: n.expiresAt });
      entries.length = Math.min(entries.length, size);
      return {};
    },
  };
  return { notifier, entries: (): readonly OutboxEntry[] => entries };
}
