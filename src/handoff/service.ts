// "Finish on my phone": a desktop page (a sign-in interaction, or a proof-of-life page) hands its
// capture to a phone. The desktop makes a short code (QR code + short link); the first phone to open
// it claims it (its own cookie); the phone runs the normal capture (src/capture/, bound to the
// desktop's interaction: same checks, level, attempt limits and risk rules); a verified capture is
// recorded here, and the desktop's own request finishes its sign-in (src/capture/finish.ts). The
// state is in the database (any instance answers the desktop's poll). Every step is audited
// (handoff.*), with no national ID, code or cookie in the trail. Imports capture, db, audit; no koa.
import { createHash, randomBytes } from 'node:crypto';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import type { Audit, AuditEvent } from '../audit/log.ts';
import type { CaptureFlow } from '../capture/flow.ts';
import { currentState } from '../capture/flow.ts';
import type { CaptureService, StartResult } from '../capture/service.ts';
import { loadFlow } from '../capture/store.ts';
import { isPostgres, type Db } from '../db/knex.ts';
import { normalizeTypedNationalId } from '../registry/citizens.ts';
import { limiterFactory, type RedisClient } from '../risk/limits.ts';
import { AppError, isAppError, type ErrorCode } from '../shared/errors.ts';
import type { Sealed, Sealer } from '../shared/sealed.ts';
import { codeHasher, newCode, normalizeCode } from './code.ts';
import {
  cancelHandoffs, claimHandoff, countHandoffs, findHandoff, findHandoffByCode, insertHandoff, latestHandoffOf, markCompleted,
  markVerified, recordCapture, type Handoff, type HandoffKind,
} from './store.ts';

export type Requester = { ip?: string; userAgent?: string };

export type HandoffDeps = {
  db: Db; sealer: Sealer; config: Readonly<Config>; audit: Audit; capture: Pick<CaptureService, 'start'>;
  /** The key of the codes' HMAC (a configured secret). */
  codeSecret: string;
  /** Shares the lookup limit through Redis instead of the database (REDIS_URL). */
  redis?: RedisClient;
  clock?: () => number;
};

/**
 * What the desktop's page shows of its handoff: `waiting` (no phone yet), `opened` (a phone claimed
 * it, no capture yet), `capturing`, `rejected` (the phone's last capture was refused or ran out:
 * the phone may try again while the sign-in allows), `verified` (the desktop may continue),
 * `completed`, `expired`, `cancelled`.
 */
export type HandoffProgress = 'waiting' | 'opened' | 'capturing' | 'rejected' | 'verified' | 'completed' | 'expired' | 'cancelled';
export type HandoffStatus = { id: string; state: HandoffProgress; expiresAt: number; clientId: string | null };

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** A coarse name of the device a user agent describes ("Chrome on Windows"): shown on the phone, never logged. */
export function describeDevice(userAgent: string | undefined): string | null {
  const ua = userAgent ?? '';
  const os = /Windows/.test(ua) ? 'Windows' : /iPhone|iPad|iOS/.test(ua) ? 'iOS' : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /Android/.test(ua) ? 'Android' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : undefined;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : undefined;
  if (!os && !browser) return null;
  return [browser, os].filter(Boolean).join(' · ');
}

export function createHandoffs(deps: HandoffDeps) {
  const { db, sealer, config, audit, capture } = deps;
  const clock = deps.clock ?? Date.now;
  const hashCode = codeHasher(deps.codeSecret);
  const settings = config.handoff;
  const who = (r: Requester): Pick<AuditEvent, 'ip' | 'userAgent'> => ({ ip: r.ip, userAgent: r.userAgent?.slice(0, 512) });
  const aad = (id: string) => `handoff:${id}`;

  // Unknown codes typed from one address: shared by every instance (the database's risk_limits
  // table, or Redis), as the capture's own limits are.
  const lookups = limiterFactory(db, config, deps.redis)('hol', settings.lookupFailuresPerIp, settings.lookupWindowSeconds);
  const ipKey = (r: Requester) => sha256(`handoff-ip:${r.ip ?? 'unknown'}`);

  async function refuse(code: ErrorCode, h: Handoff | undefined, r: Requester, stage: string): Promise<never> {
    await audit({
      type: 'handoff.refused', outcome: 'failure', code, interactionUid: h?.targetId, clientId: h?.clientId ?? undefined, ...who(r),
      details: { stage, ...(h ? { handoffId: h.id, kind: h.kind } : {}) },
    });
    throw new AppError(code);
  }

  /** The state of a handoff at `now`, read (never written) past its expiry. */
  const expired = (h: Handoff, now: number) => h.state !== 'completed' && h.state !== 'cancelled' && now >= h.expiresAt;

  /**
   * A new code for a desktop page: the previous live ones are cancelled. For a sign-in, the national
   * ID typed on the desktop is checked for its format (nothing is looked up: known or not, the answer
   * is the same) and sealed in the row. `notAfter`: the page's own expiry (epoch ms).
   */
  async function create(input: {
    kind: HandoffKind; targetId: string; clientId: string | null; acr: string; nationalId?: unknown; notAfter: number;
  } & Requester): Promise<{ handoff: Handoff; code: string }> {
    // "Make a new code" keeps the ID typed for the previous one.
    const previous = input.kind === 'sign_in' && input.nationalId === undefined ? await latestHandoffOf(db, input.kind, input.targetId) : undefined;
    const nationalId = input.kind !== 'sign_in' ? undefined
      : previous?.nationalIdSealed ? sealer.open(JSON.parse(previous.nationalIdSealed) as Sealed, aad(previous.id)).toString()
        : normalizeTypedNationalId(input.nationalId);
    const base = { interactionUid: input.targetId, clientId: input.clientId ?? undefined, ...who(input) };
    if (await countHandoffs(db, input.kind, input.targetId) >= settings.maxPerSignIn) {
      await audit({ ...base, type: 'handoff.refused', outcome: 'failure', code: 'too_many_captures', details: { stage: 'create', kind: input.kind } });
      throw new AppError('too_many_captures');
    }
    const now = clock();
    const replaced = await cancelHandoffs(db, input.kind, input.targetId);
    const id = randomBytes(18).toString('base64url');
    const expiresAt = Math.min(now + settings.ttlSeconds * 1000, input.notAfter);
    if (expiresAt <= now) throw new AppError(input.kind === 'sign_in' ? 'interaction_not_found' : 'proof_expired');
    const sealed = nationalId === undefined ? null : JSON.stringify(sealer.seal(Buffer.from(nationalId), aad(id)));
    for (let tries = 0; ; tries++) {
      const code = newCode();
      const handoff: Handoff = {
        id, codeHash: hashCode(code), codeSealed: JSON.stringify(sealer.seal(Buffer.from(code), aad(`${id}:code`))), kind: input.kind, targetId: input.targetId, clientId: input.clientId, acr: input.acr,
        nationalIdSealed: sealed, desktop: describeDevice(input.userAgent), state: 'pending', phoneHash: null, captureId: null,
        citizenId: null, verifiedAcr: null, verifiedAt: null, claimedAt: null, completedAt: null, expiresAt, createdAt: now,
      };
      try {
        await insertHandoff(db, handoff);
      } catch (err) {
        // A live code drawn twice (about one in 10^7 at ten thousand live codes): draw again.
        if (tries < 3 && await findHandoffByCode(db, handoff.codeHash)) continue;
        throw err;
      }
      await audit({ ...base, type: 'handoff.created', outcome: 'info', details: { handoffId: id, kind: input.kind, acr: input.acr, expiresAt: new Date(expiresAt).toISOString(), replaced: replaced.length } });
      return { handoff, code };
    }
  }

  /**
   * The handoff a typed or scanned code names, for the phone's first page (which changes nothing:
   * a link previewer cannot use the code up). `phone`: the secret of this browser's cookie, if any;
   * `resume` when this phone claimed it already. Unknown codes count against the address's limit.
   */
  async function lookup(typed: unknown, phone: string | undefined, r: Requester): Promise<{ handoff: Handoff; resume: boolean }> {
    const key = ipKey(r);
    const spent = await lookups.get(key);
    if (spent && spent.consumedPoints >= settings.lookupFailuresPerIp) throw limited(spent, r);
    const code = normalizeCode(typed);
    const h = code ? await findHandoffByCode(db, hashCode(code)) : undefined;
    if (!h) {
      await lookups.consume(key).catch((res: unknown) => { if (!(res instanceof RateLimiterRes)) throw res; });
      return refuse('handoff_not_found', undefined, r, 'lookup');
    }
    const mine = Boolean(phone && h.phoneHash === sha256(phone));
    const now = clock();
    if (h.state === 'cancelled') return refuse('handoff_cancelled', h, r, 'lookup');
    if (mine && (h.state === 'verified' || h.state === 'completed')) return { handoff: h, resume: true };
    if (expired(h, now)) return refuse('handoff_expired', h, r, 'lookup');
    if (mine) return { handoff: h, resume: true };
    if (h.state !== 'pending') return refuse('handoff_used', h, r, 'lookup');
    return { handoff: h, resume: false };
  }

  function limited(res: RateLimiterRes, r: Requester): AppError {
    const retryAt = clock() + Math.max(1000, res.msBeforeNext);
    void audit({ type: 'handoff.refused', outcome: 'failure', code: 'rate_limited', ...who(r), details: { stage: 'lookup' } }).catch(() => undefined);
    return new AppError('rate_limited', undefined, { retryAt: new Date(retryAt).toISOString(), retryAfterSeconds: Math.ceil((retryAt - clock()) / 1000), reason: 'handoff_lookups' });
  }

  /** The first phone to choose "Continue" claims the code: answers the secret of its cookie. */
  async function claim(typed: unknown, r: Requester): Promise<{ handoff: Handoff; phone: string }> {
    const { handoff: h } = await lookup(typed, undefined, r);
    const phone = randomBytes(32).toString('base64url');
    if (!await claimHandoff(db, h.id, sha256(phone), clock())) {
      const now = await findHandoff(db, h.id);
      return refuse(now && expired(now, clock()) ? 'handoff_expired' : now?.state === 'cancelled' ? 'handoff_cancelled' : 'handoff_used', now ?? h, r, 'claim');
    }
    await audit({
      type: 'handoff.claimed', outcome: 'info', interactionUid: h.targetId, clientId: h.clientId ?? undefined, ...who(r),
      details: { handoffId: h.id, kind: h.kind },
    });
    return { handoff: { ...h, state: 'claimed', phoneHash: sha256(phone), claimedAt: clock() }, phone };
  }

  /**
   * The handoff this phone claimed (its cookie's secret), still usable: another phone, no cookie or
   * an unknown id read handoff_not_found. `final`: also once verified or completed (the done page).
   */
  async function session(id: string, phone: string | undefined, final = false): Promise<Handoff> {
    const h = await findHandoff(db, id);
    if (!h || !phone || h.phoneHash !== sha256(phone)) throw new AppError('handoff_not_found');
    if (final && (h.state === 'verified' || h.state === 'completed')) return h;
    if (h.state === 'cancelled') throw new AppError('handoff_cancelled');
    if (expired(h, clock())) throw new AppError('handoff_expired');
    if (h.state !== 'claimed') throw new AppError('capture_closed');
    return h;
  }

  /**
   * Starts a capture on the phone, bound to the desktop's interaction (or proof request): the
   * capture service's own start, with its limits (captures per sign-in, starts per IP, lockouts).
   * `nationalId`: for a proof of life, the one the agency named (a sign-in's was typed on the desktop).
   */
  async function startCapture(h: Handoff, r: Requester, nationalId?: string): Promise<StartResult> {
    const typed = h.nationalIdSealed ? sealer.open(JSON.parse(h.nationalIdSealed) as Sealed, aad(h.id)).toString() : nationalId;
    const started = await capture.start({
      interactionUid: h.targetId, clientId: h.clientId, nationalId: typed, acr: h.acr as StartResult['acr'],
      purpose: h.kind, ...r,
    });
    await recordCapture(db, h.id, started.captureId);
    return started;
  }

  /** The code of a handoff, for its desktop's page only. */
  const codeOf = (h: Handoff): string => sealer.open(JSON.parse(h.codeSealed) as Sealed, aad(`${h.id}:code`)).toString();

  /** The desktop page's live handoff (pending, claimed or verified, not expired), if any. */
  async function current(kind: HandoffKind, targetId: string): Promise<Handoff | undefined> {
    const h = await latestHandoffOf(db, kind, targetId);
    return h && ['pending', 'claimed', 'verified'].includes(h.state) && !expired(h, clock()) ? h : undefined;
  }

  /** The last characters of the typed ID, for the phone page ("•••••6789"): she recognises her own. */
  function maskedId(h: Handoff): string | undefined {
    if (!h.nationalIdSealed) return undefined;
    const id = sealer.open(JSON.parse(h.nationalIdSealed) as Sealed, aad(h.id)).toString();
    return `${'•'.repeat(Math.max(3, id.length - 3))}${id.slice(-3)}`;
  }

  /** The phone's capture was verified (the stream's onVerified): the desktop may now continue. */
  async function verified(id: string, flow: CaptureFlow, r: Requester): Promise<Handoff> {
    const h = await findHandoff(db, id);
    if (!h || flow.interactionUid !== h.targetId || !flow.citizenId || flow.state !== 'verified') throw new AppError('internal_error', 'the capture is not this handoff\'s');
    const now = clock();
    if (!await markVerified(db, h.id, { captureId: flow.id, citizenId: flow.citizenId, acr: flow.acr, at: flow.updatedAt }, now)) {
      return refuse(expired(h, now) ? 'handoff_expired' : 'handoff_cancelled', h, r, 'verified');
    }
    await audit({
      type: 'handoff.verified', outcome: 'success', interactionUid: h.targetId, clientId: h.clientId ?? undefined, citizenId: flow.citizenId, ...who(r),
      details: { handoffId: h.id, kind: h.kind, captureId: flow.id, acr: flow.acr },
    });
    return { ...h, state: 'verified', captureId: flow.id, citizenId: flow.citizenId, verifiedAcr: flow.acr, verifiedAt: flow.updatedAt };
  }

  /** What the desktop's page shows: its newest handoff, and the phone's last capture. */
  async function status(kind: HandoffKind, targetId: string, id?: string): Promise<HandoffStatus | undefined> {
    const h = id ? await findHandoff(db, id) : await latestHandoffOf(db, kind, targetId);
    if (!h || h.kind !== kind || h.targetId !== targetId) return undefined;
    const now = clock();
    const out = (state: HandoffProgress): HandoffStatus => ({ id: h.id, state, expiresAt: h.expiresAt, clientId: h.clientId });
    if (h.state === 'completed' || h.state === 'cancelled' || h.state === 'verified') return out(h.state);
    if (expired(h, now)) return out('expired');
    if (h.state === 'pending') return out('waiting');
    if (!h.captureId) return out('opened');
    const flow = await loadFlow(db, h.captureId, h.targetId).catch((err: unknown) => { if (isAppError(err)) return undefined; throw err; });
    const s = flow ? currentState(flow, now) : 'expired';
    return out(s === 'open' ? 'capturing' : s === 'verified' ? 'capturing' : 'rejected');
  }

  /**
   * The desktop takes the phone's verified result, once (a second call, or another tab, gets
   * handoff_pending or capture_closed). Answers the verified handoff; the caller finishes the
   * sign-in with it. Audited as handoff.completed.
   */
  async function complete(kind: HandoffKind, targetId: string, id: string, r: Requester): Promise<Handoff & { citizenId: string; verifiedAcr: string; verifiedAt: number }> {
    const h = await findHandoff(db, id);
    if (!h || h.kind !== kind || h.targetId !== targetId) throw new AppError('handoff_not_found');
    if (h.state === 'completed') throw new AppError('capture_closed');
    if (h.state !== 'verified' || !h.citizenId || !h.verifiedAcr || h.verifiedAt === null) return refuse(h.state === 'cancelled' ? 'handoff_cancelled' : 'handoff_pending', h, r, 'complete');
    if (!await markCompleted(db, h.id, clock())) throw new AppError('capture_closed');
    await audit({
      type: 'handoff.completed', outcome: 'success', interactionUid: h.targetId, clientId: h.clientId ?? undefined, citizenId: h.citizenId, ...who(r),
      details: { handoffId: h.id, kind: h.kind, captureId: h.captureId, acr: h.verifiedAcr },
    });
    return { ...h, state: 'completed', citizenId: h.citizenId, verifiedAcr: h.verifiedAcr, verifiedAt: h.verifiedAt };
  }

  /** The desktop gives up its code(s) ("Use this computer instead", or a new code is on its way). */
  async function cancel(kind: HandoffKind, targetId: string, clientId: string | null, r: Requester): Promise<void> {
    const ids = await cancelHandoffs(db, kind, targetId);
    if (ids.length) await audit({ type: 'handoff.cancelled', outcome: 'info', interactionUid: targetId, clientId: clientId ?? undefined, ...who(r), details: { handoffIds: ids, kind } });
  }

  return { create, current, codeOf, lookup, claim, session, startCapture, maskedId, verified, status, complete, cancel };
}

export type Handoffs = ReturnType<typeof createHandoffs>;
