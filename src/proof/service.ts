// Agency-initiated proof of life over CIBA (docs/agencies.md#proof-of-life). oidc-provider runs the
// protocol (features.ciba: the backchannel authentication endpoint, the ciba grant, pings); this
// module gives it its hooks and keeps Facegate's side of each request in `proof_requests`:
// - the login_hint names the citizen: her pairwise `sub` for the agency's sector (recorded at token
//   issuance in `pairwise_subjects`), or `national_id:<ID>` for an agency with the national_id scope;
// - a binding message is required; the capture is always at high;
// - the citizen is told through the agency's notifier (notifiers.ts) with a one-time link, of which
//   only the sha256 is kept; the link's page runs the sign-in capture bound to the request;
// - verified: a Grant for the requested scopes and provider.backchannelResult (acr high, amr from the
//   capture); "this was not me": access_denied;
// - polling faster than the interval is answered slow_down; expiry is expired_token (oidc-provider);
// - every step is audited (`proof.*`, with the request's id as interaction_uid).
// Imports oidc-provider (errors and types), db, audit, registry; no koa.
import { createHash, randomBytes } from 'node:crypto';
import { errors, type CIBAConfiguration, type CIBATriggerAuthenticationDevice, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Audit, AuditEvent } from '../audit/log.ts';
import { recordConsent } from '../audit/consents.ts';
import type { CaptureFlow } from '../capture/flow.ts';
import type { Db } from '../db/knex.ts';
import { scopeClaims, sectorOf } from '../oidc/accounts.ts';
import { cibaGrantType } from '../oidc/clients.ts';
import { findCitizenById, findCitizenByNationalId, normalizeTypedNationalId } from '../registry/citizens.ts';
import { AppError } from '../shared/errors.ts';
import type { Notifier } from './notifiers.ts';
import {
  citizenOfSubject, claimProof, decideProof, expiredPending, failProof, findProof, findProofByAuthReqId, findProofByLink, insertProof,
  markOpened, markTokenIssued, recordPoll, rememberSubject, type NotifierKind, type ProofRequest,
} from './store.ts';

/** A login_hint naming the citizen by national ID (agencies with the national_id scope only). */
export const nationalIdHint = 'national_id:';
/** What a face capture shows (RFC 8176), as for a sign-in (src/capture/stream-route.ts). */
const captureAmr = ['face', 'user'];

export type Requester = { ip?: string; userAgent?: string };
type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;
type Pairwise = (ctx: KoaContextWithOIDC, accountId: string, client: Client) => Promise<string>;

export type ProofDeps = {
  db: Db; config: Readonly<Config>; audit: Audit;
  notifiers: Partial<Record<NotifierKind, Notifier>>;
  /** The pairwise sub of a citizen for a client (src/oidc/accounts.ts createPairwiseIdentifier). */
  pairwise: Pairwise;
  /** Where the provider's failures go (a ping the agency did not accept). */
  onError?: (err: unknown, what: string) => void;
  clock?: () => number;
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The binding message: 1-40 letters, digits, spaces and a few signs (CIBA §7.1: short, plain text). */
const bindingPattern = /^[\p{L}\p{N}](?:[\p{L}\p{N} .,:#/+_!?-]{0,38}[\p{L}\p{N}.!?#])?$/u;
const who = (r: Requester): Pick<AuditEvent, 'ip' | 'userAgent'> => ({ ip: r.ip, userAgent: r.userAgent?.slice(0, 512) });
const requesterOf = (ctx: KoaContextWithOIDC): Requester => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });

export function createProofOfLife(deps: ProofDeps) {
  const { db, config, audit } = deps;
  const clock = deps.clock ?? Date.now;
  /** How each request named the citizen (for the audit of the request). */
  const hintKinds = new WeakMap<object, 'sub' | 'national_id'>();

  // ---- the CIBA hooks (oidc-provider features.ciba) -------------------------------------------

  async function processLoginHint(ctx: KoaContextWithOIDC, hint?: string): Promise<string | undefined> {
    const client = ctx.oidc.client!;
    if (!hint) return undefined;
    if (hint.startsWith(nationalIdHint)) {
      if (!String(client.scope ?? '').split(' ').includes('national_id')) {
        throw new errors.InvalidRequest('a login_hint by national ID needs the national_id scope: name the citizen by her sub');
      }
      let nationalId: string;
      try {
        nationalId = normalizeTypedNationalId(hint.slice(nationalIdHint.length));
      } catch {
        throw new errors.InvalidRequest('login_hint: national_id: must be followed by 6 to 20 letters and digits');
      }
      hintKinds.set(ctx, 'national_id');
      return (await findCitizenByNationalId(db, nationalId))?.id;
    }
    hintKinds.set(ctx, 'sub');
    // Only a sub this agency's sector received names anyone (findAccount then checks she is active).
    return citizenOfSubject(db, sectorOf(client), hint);
  }

  async function validateBindingMessage(_ctx: KoaContextWithOIDC, message?: string): Promise<void> {
    if (!message) throw new errors.InvalidBindingMessage('binding_message is required: the citizen sees it and checks it against what you gave her');
    if (!bindingPattern.test(message)) {
      throw new errors.InvalidBindingMessage('binding_message must be 1 to 40 letters, digits, spaces and . , : # / + _ ! ? -, without a space at either end');
    }
  }

  async function triggerAuthenticationDevice(
    ctx: KoaContextWithOIDC, request: InstanceType<Provider['BackchannelAuthenticationRequest']>, account: { accountId: string }, client: Client,
  ): Promise<void> {
    const now = clock();
    const metadata = client.metadata() as Record<string, unknown>;
    const kind = (metadata.facegate_notifier ?? 'webhook') as NotifierKind;
    const notifier = deps.notifiers[kind];
    const token = randomBytes(32).toString('base64url');
    const proof: ProofRequest = {
      id: randomBytes(18).toString('base64url'), authReqId: request.jti, clientId: client.clientId, citizenId: account.accountId,
      scope: String(request.scope ?? 'openid'), bindingMessage: String(request.params?.binding_message),
      deliveryMode: client.backchannelTokenDeliveryMode === 'ping' ? 'ping' : 'poll', notifier: kind, linkHash: sha256(token),
      browserHash: null, state: 'pending', intervalSeconds: config.proof.pollIntervalSeconds, polledAt: now,
      openedAt: null, claimedAt: null, decidedAt: null, tokenIssuedAt: null, createdAt: now,
      // The payload's exp is now + expiration (the answer's expires_in), to the second.
      expiresAt: (request.exp ?? Math.floor(now / 1000) + request.expiration) * 1000,
    };
    await insertProof(db, proof);
    const base = { interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(requesterOf(ctx)) };
    await audit({
      ...base, type: 'proof.requested', outcome: 'info',
      details: {
        hint: hintKinds.get(ctx), scope: proof.scope, bindingMessage: proof.bindingMessage, acrValues: request.params?.acr_values,
        deliveryMode: proof.deliveryMode, notifier: kind, expiresAt: new Date(proof.expiresAt).toISOString(),
      },
    });
    let extra: Record<string, unknown>;
    try {
      if (!notifier) throw new AppError('notification_failed', `no "${kind}" notifier on this gateway`);
      extra = await notifier.notify({
        proofId: proof.id, authReqId: proof.authReqId, clientId: proof.clientId, clientName: client.clientName ?? client.clientId,
        link: `${config.server.issuer}/proof?t=${token}`, bindingMessage: proof.bindingMessage, expiresAt: proof.expiresAt,
      }, { notificationUri: typeof metadata.facegate_notification_uri === 'string' ? metadata.facegate_notification_uri : undefined });
    } catch (err) {
      // The citizen was not told: the request ends here, the agency hears so at once.
      await decideProof(db, proof.id, 'failed', clock());
      await request.destroy();
      await audit({ ...base, type: 'proof.notify_failed', outcome: 'failure', code: 'notification_failed', details: { notifier: kind, reason: (err as Error).message } });
      throw Object.assign(new errors.TemporarilyUnavailable('the citizen could not be notified (your notification endpoint did not accept the notice): try again later'), { status: 503, statusCode: 503 });
    }
    await audit({ ...base, type: 'proof.notified', outcome: 'success', details: { notifier: kind } });
    // CIBA §7.3: the interval the agency must wait between polls; `facegate_link` for the QR notifier.
    ctx.body = { ...(ctx.body as object), interval: proof.intervalSeconds, ...extra };
  }

  /** features.ciba for oidc-provider. */
  function cibaFeature(): CIBAConfiguration {
    return {
      enabled: true,
      deliveryModes: ['poll', 'ping'],
      processLoginHint,
      processLoginHintToken: async () => { throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint'); },
      validateBindingMessage,
      validateRequestContext: async () => undefined,
      verifyUserCode: async (_ctx, _account, userCode) => {
        if (userCode) throw new errors.InvalidRequest('user_code is not supported');
      },
      triggerAuthenticationDevice: triggerAuthenticationDevice as unknown as CIBATriggerAuthenticationDevice,
    };
  }

  /** ttl.BackchannelAuthenticationRequest: requested_expiry within proof.maxExpirySeconds, else the default. */
  function requestTtl(ctx?: KoaContextWithOIDC): number {
    const asked = Number(ctx?.oidc?.params?.requested_expiry);
    return Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, config.proof.maxExpirySeconds) : config.proof.expirySeconds;
  }

  /**
   * Token endpoint rules around oidc-provider's ciba grant: slow_down for a poll of a pending
   * request within its interval (CIBA §11, the interval then grows by 5 s), the first token issued
   * and expiry audited; and, for every grant, the pairwise sub the agency received recorded.
   */
  const subjects = recentSubjects();
  function install(provider: Provider): void {
    provider.use(async (ctx, next) => {
      await next();
      const oidc = (ctx as KoaContextWithOIDC).oidc;
      if (oidc?.route !== 'token' || !oidc.client) return;
      try {
        const params = oidc.params as Record<string, unknown> | undefined;
        if (params?.grant_type === cibaGrantType && typeof params.auth_req_id === 'string') await polled(ctx as KoaContextWithOIDC, params.auth_req_id);
        const grant = oidc.entities.Grant;
        if (ctx.status === 200 && grant?.accountId && oidc.client.subjectType === 'pairwise') {
          const sector = sectorOf(oidc.client);
          const sub = await deps.pairwise(ctx as KoaContextWithOIDC, grant.accountId, oidc.client);
          if (!subjects.recent(sector, sub, clock())) {
            await rememberSubject(db, sector, sub, grant.accountId, clock());
            subjects.note(sector, sub, clock());
          }
        }
      } catch (err) {
        // The grant's answer stands: a rule that could not run is logged, never turned into a 500.
        deps.onError?.(err, 'proof token rules');
      }
    });
  }

  async function polled(ctx: KoaContextWithOIDC, authReqId: string): Promise<void> {
    const proof = await findProofByAuthReqId(db, authReqId);
    if (!proof || proof.clientId !== ctx.oidc.client!.clientId) return;
    const now = clock();
    const body = ctx.body as { error?: string } | undefined;
    const base = { interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(requesterOf(ctx)) };
    let interval = proof.intervalSeconds;
    if (ctx.status === 400 && body?.error === 'authorization_pending' && now - proof.polledAt < interval * 1000) {
      interval += 5;
      ctx.body = { error: 'slow_down', error_description: `polled within the interval: wait at least ${interval} seconds between polls of this request` };
      await audit({ ...base, type: 'proof.slow_down', outcome: 'failure', code: 'slow_down', details: { sincePreviousMs: now - proof.polledAt, interval } });
    }
    await recordPoll(db, proof.id, now, interval);
    if (ctx.status === 200 && await markTokenIssued(db, proof.id, now)) {
      await audit({ ...base, type: 'proof.token_issued', outcome: 'success', details: { scope: proof.scope, deliveryMode: proof.deliveryMode } });
    }
    if (body?.error === 'expired_token') await expire(proof);
  }

  async function expire(proof: ProofRequest): Promise<void> {
    if (!await decideProof(db, proof.id, 'expired', clock())) return;
    await audit({ interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, type: 'proof.expired', outcome: 'failure', code: 'expired_token', details: { expiresAt: new Date(proof.expiresAt).toISOString() } });
  }

  /** Marks and audits the pending requests past their expiry (housekeeping). */
  async function sweep(): Promise<number> {
    const due = await expiredPending(db, clock());
    for (const p of due) await expire(p);
    return due.length;
  }

  // ---- the citizen's side (routes.ts) ---------------------------------------------------------

  /** The request's state for the citizen: a code when she can no longer act on it. */
  async function usable(proof: ProofRequest): Promise<void> {
    if (proof.state === 'pending' && clock() >= proof.expiresAt) {
      await expire(proof);
      throw new AppError('proof_expired');
    }
    if (proof.state === 'expired') throw new AppError('proof_expired');
    if (proof.state !== 'pending') throw new AppError('proof_closed');
  }

  /** What the citizen's pages show of a request. */
  async function summary(proof: ProofRequest, provider: Provider) {
    const client = await provider.Client.find(proof.clientId);
    const scopes = proof.scope.split(' ').filter((s): s is keyof typeof scopeClaims => s in scopeClaims);
    const claims = [...new Set(scopes.flatMap((s) => [...scopeClaims[s]]))];
    return { clientName: client?.clientName ?? proof.clientId, claims, bindingMessage: proof.bindingMessage, expiresAt: proof.expiresAt };
  }

  /**
   * The link was opened (`token` from it). The browser that claimed it (`browser`, its cookie) is
   * sent on to its capture (`resume`); another one learns that it was used.
   */
  async function opened(token: string, browser: string | undefined, r: Requester): Promise<{ proof: ProofRequest; resume: boolean }> {
    const proof = typeof token === 'string' && token ? await findProofByLink(db, sha256(token)) : undefined;
    if (!proof) throw new AppError('proof_not_found');
    const mine = Boolean(browser && proof.browserHash === sha256(browser));
    if (mine && proof.state !== 'pending') return { proof, resume: true };
    await usable(proof);
    if (proof.claimedAt && !mine) throw new AppError('proof_link_used');
    if (await markOpened(db, proof.id, clock())) {
      await audit({ interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(r), type: 'proof.opened', outcome: 'info' });
    }
    return { proof, resume: mine };
  }

  /** The citizen chose on the link's page: the link is now this browser's (`browser`: its new secret). */
  async function claim(token: string, r: Requester): Promise<{ proof: ProofRequest; browser: string }> {
    const proof = typeof token === 'string' && token ? await findProofByLink(db, sha256(token)) : undefined;
    if (!proof) throw new AppError('proof_not_found');
    await usable(proof);
    const browser = randomBytes(32).toString('base64url');
    if (!await claimProof(db, proof.id, sha256(browser), clock())) {
      const now = await findProof(db, proof.id);
      await usable(now!);
      throw new AppError('proof_link_used');
    }
    await audit({ interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(r), type: 'proof.claimed', outcome: 'info' });
    return { proof: { ...proof, browserHash: sha256(browser) }, browser };
  }

  /** The request of a page or stream of the claiming browser; `final` also answers a finished one. */
  async function session(id: string, browser: string | undefined, final = false): Promise<ProofRequest> {
    const proof = await findProof(db, id);
    // Another browser (or none) reads the same as an unknown request.
    if (!proof || !browser || proof.browserHash !== sha256(browser)) throw new AppError('proof_not_found');
    if (!final) await usable(proof);
    return proof;
  }

  /** The national ID the request named (her capture is started for it, never typed). */
  async function nationalIdOf(proof: ProofRequest): Promise<string> {
    const citizen = await findCitizenById(db, proof.citizenId);
    if (!citizen) throw new AppError('proof_not_found');
    return citizen.nationalId;
  }

  /** Completes the CIBA request; a ping the agency did not take is audited, the result stays for its poll. */
  async function complete(provider: Provider, proof: ProofRequest, result: Parameters<Provider['backchannelResult']>[1], options?: Parameters<Provider['backchannelResult']>[2]) {
    try {
      await provider.backchannelResult(proof.authReqId, result, options);
    } catch (err) {
      const saved = await provider.BackchannelAuthenticationRequest.find(proof.authReqId, { ignoreExpiration: true });
      if (!saved || (!saved.grantId && !saved.error)) throw err;
      deps.onError?.(err, 'proof ping');
      await audit({ interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, type: 'proof.ping_failed', outcome: 'failure', details: { reason: (err as Error).message } });
    }
  }

  /** The capture bound to the request verified her: the agency gets its tokens. */
  async function verified(provider: Provider, id: string, flow: CaptureFlow, r: Requester): Promise<string> {
    const proof = await findProof(db, id);
    if (!proof || flow.citizenId !== proof.citizenId || flow.interactionUid !== proof.id) throw new AppError('internal_error', 'the capture is not this request\'s');
    await usable(proof);
    const now = clock();
    if (!await decideProof(db, proof.id, 'verified', now)) throw new AppError('proof_closed');
    const grant = new provider.Grant({ accountId: proof.citizenId, clientId: proof.clientId });
    grant.addOIDCScope(proof.scope);
    await grant.save();
    try {
      await complete(provider, proof, grant, { acr: flow.acr, amr: captureAmr, authTime: Math.floor(now / 1000) });
    } catch (err) {
      await failProof(db, proof.id, clock());
      throw err;
    }
    const { claims } = await summary(proof, provider);
    await recordConsent(audit, { citizenId: proof.citizenId, clientId: proof.clientId, decision: 'allow', scopes: proof.scope.split(' '), claims, interactionUid: proof.id, ...who(r) });
    await audit({
      interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(r), type: 'proof.verified', outcome: 'success',
      details: { captureId: flow.id, acr: flow.acr, amr: captureAmr, scope: proof.scope },
    });
    return `/proof/${encodeURIComponent(proof.id)}/done`;
  }

  /** "This was not me" (or she refused): access_denied. */
  async function denied(provider: Provider, proof: ProofRequest, r: Requester): Promise<void> {
    await usable(proof);
    if (!await decideProof(db, proof.id, 'denied', clock())) throw new AppError('proof_closed');
    await complete(provider, proof, new errors.AccessDenied('the citizen refused: she says the request was not hers'));
    await audit({ interactionUid: proof.id, clientId: proof.clientId, citizenId: proof.citizenId, ...who(r), type: 'proof.denied', outcome: 'failure', code: 'access_denied' });
  }

  return { cibaFeature, requestTtl, install, sweep, opened, claim, session, summary, nationalIdOf, verified, denied };
}

export type ProofOfLife = ReturnType<typeof createProofOfLife>;

/**
 * The (sector, sub) pairs this instance recorded within the last hour: a sub is written once, not
 * at every token request (`last_issued_at` is then up to an hour old). At most 100,000 pairs.
 */
function recentSubjects(ttlMs = 3600_000, max = 100_000) {
  const seen = new Map<string, number>();
  return {
    /** True when the pair was recorded within ttlMs. */
    recent(sector: string, sub: string, now: number): boolean {
      const at = seen.get(`${sector} ${sub}`);
      return at !== undefined && now - at < ttlMs;
    },
    /** Notes the pair as recorded now (the oldest noted pair goes when full). */
    note(sector: string, sub: string, now: number): void {
      const key = `${sector} ${sub}`;
      seen.delete(key);
      if (seen.size >= max) seen.delete(seen.keys().next().value!);
      seen.set(key, now);
    },
  };
}
