// Attempt limits that hold across instances (rate-limiter-flexible): consecutive failures per
// national ID with a growing lockout, quality retries per ID, failures and capture starts per
// client IP. Counters live in the database's `risk_limits` table, or in Redis when configured.
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import { isPostgres, type Db } from '../db/knex.ts';
import { AppError } from '../shared/errors.ts';

/** Why and until when an ID or an IP is refused. */
export type Lock = { scope: 'id' | 'ip'; reason: 'lockout' | 'retries' | 'ip_failures' | 'ip_starts'; retryAt: number };
/**
 * An attempt in flight on an ID, counted before the face engine runs and settled after; with the
 * ID's committed failures at that moment (what the risk rule reads: other attempts still in
 * flight are not failures).
 */
export type Reservation = { idKey: string; ipKey: string; failures: number };
export type Settlement = 'failure' | 'success' | 'retry' | 'none';
export type LimitStatus = { idFailures: number; ipFailures: number; lock?: Lock };
/** What the limits hold on one ID, for an operator (`facegate risk status`). */
export type IdLimitState = { failures: number; retries: number; lockouts: number; lock?: Lock };

type RedisClient = ConstructorParameters<typeof RateLimiterRedis>[0]['storeClient'];

/** Longest an attempt is counted in flight: far above an analysis, short enough to forget a crash. */
const inFlightSeconds = 120;

const isRes = (e: unknown): e is RateLimiterRes => e instanceof RateLimiterRes;

/**
 * The limiters of one gateway. `redis` (an ioredis client) replaces the database store; every
 * instance sharing the database (or Redis) shares the counts.
 */
export function createAttemptLimits(db: Db, config: Readonly<Config>, redis?: RedisClient) {
  const { lockout, ip } = config.risk;
  const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const common = { keyPrefix, points, duration };
    if (redis) return new RateLimiterRedis({ ...common, storeClient: redis });
    const table = { storeClient: db, storeType: 'knex', tableName: 'risk_limits', tableCreated: true, clearExpiredByTimeout: false };
    return isPostgres(db)
      ? new RateLimiterPostgres({ ...common, ...table, schemaName: config.database.schema })
      : new RateLimiterSQLite({ ...common, ...table });
  };
  const idFailures = make('idf', lockout.maxFailures, lockout.failureWindowSeconds);
  // Attempts in flight per ID; a point left by a crashed process expires with the window.
  const idInFlight = make('idi', 1_000_000, inFlightSeconds);
  const idBlock = make('idb', 1, lockout.maxSeconds);
  const idLockouts = make('idl', 1_000_000, lockout.memorySeconds);
  const idRetries = make('idr', config.risk.retriesPerIdPerHour, 3600);
  const ipFailures = make('ipf', ip.failuresPerHour, 3600);
  const ipStarts = make('ips', ip.startsPerMinute, 60);

  const consumed = async (l: RateLimiterAbstract, key: string) => (await l.get(key))?.consumedPoints ?? 0;
  const until = (res: RateLimiterRes | null) => Date.now() + Math.max(1000, res?.msBeforeNext ?? 0);

  /** The ID's own lock, if any: a lockout, or the quality retry budget spent. */
  const idLock = (block: RateLimiterRes | null, retries: RateLimiterRes | null): Lock | undefined => {
    if (block && block.consumedPoints > 0) return { scope: 'id', reason: 'lockout', retryAt: until(block) };
    if (retries && retries.consumedPoints >= config.risk.retriesPerIdPerHour) return { scope: 'id', reason: 'retries', retryAt: until(retries) };
    return undefined;
  };

  /** The counts for the risk rule and the lock in force, if any (no counter changes). */
  async function status(idKey: string, ipKey: string): Promise<LimitStatus> {
    const [block, retries, idf, ipf] = await Promise.all([idBlock.get(idKey), idRetries.get(idKey), idFailures.get(idKey), ipFailures.get(ipKey)]);
    let lock = idLock(block, retries);
    if (!lock && ipf && ipf.consumedPoints >= ip.failuresPerHour) lock = { scope: 'ip', reason: 'ip_failures', retryAt: until(ipf) };
    return { idFailures: idf?.consumedPoints ?? 0, ipFailures: ipf?.consumedPoints ?? 0, lock };
  }

  /** Everything counted against one ID (no counter changes); an ID never seen reads all zero. */
  async function idState(idKey: string): Promise<IdLimitState> {
    const [block, retries, failures, lockoutCount] = await Promise.all([idBlock.get(idKey), idRetries.get(idKey), consumed(idFailures, idKey), consumed(idLockouts, idKey)]);
    return { failures, retries: retries?.consumedPoints ?? 0, lockouts: lockoutCount, lock: idLock(block, retries) };
  }

  /** Counts a capture start from this IP; the lock when the IP started too many this minute. */
  async function countStart(ipKey: string): Promise<Lock | undefined> {
    try {
      await ipStarts.consume(ipKey);
      return undefined;
    } catch (e) {
      if (!isRes(e)) throw e;
      return { scope: 'ip', reason: 'ip_starts', retryAt: until(e) };
    }
  }

  /**
   * Counts an attempt in flight on the ID before the engine runs. Committed failures plus attempts
   * in flight may not pass the limit, so concurrent attempts on one ID cannot overshoot it: when
   * they would, the caller gets capture_busy (nothing is locked yet).
   */
  async function reserve(idKey: string, ipKey: string): Promise<Reservation> {
    // At least this attempt (a window that expired under a reward can leave the count below zero).
    const inFlight = Math.max(1, (await idInFlight.penalty(idKey)).consumedPoints);
    const failures = await consumed(idFailures, idKey);
    if (failures + inFlight > lockout.maxFailures) {
      await idInFlight.reward(idKey);
      throw new AppError('capture_busy', 'other attempts for this ID number are being checked; wait for their answer');
    }
    return { idKey, ipKey, failures };
  }

  /**
   * Settles a reservation: the attempt is no longer in flight; a failure counts (and at the limit
   * locks the ID out for base × 2^(lockouts before), at most maxSeconds, and starts a fresh
   * count); a success resets the consecutive count; a quality retry counts against the retry
   * budget; `none` counts nothing. Returns the lock it set, if any.
   */
  async function settle(r: Reservation, outcome: Settlement): Promise<Lock | undefined> {
    await idInFlight.reward(r.idKey);
    if (outcome === 'success') {
      await idFailures.delete(r.idKey);
      return undefined;
    }
    if (outcome !== 'failure') {
      if (outcome === 'retry') await idRetries.penalty(r.idKey);
      return undefined;
    }
    await ipFailures.penalty(r.ipKey);
    if ((await idFailures.penalty(r.idKey)).consumedPoints < lockout.maxFailures) return undefined;
    const n = (await idLockouts.penalty(r.idKey)).consumedPoints;
    const seconds = Math.min(lockout.maxSeconds, lockout.baseSeconds * 2 ** Math.min(n - 1, 30));
    await idBlock.block(r.idKey, seconds);
    await idFailures.delete(r.idKey);
    return { scope: 'id', reason: 'lockout', retryAt: Date.now() + seconds * 1000 };
  }

  /** Lockouts recorded for this ID within lockout.memorySeconds (for the audit trail). */
  const lockouts = (idKey: string) => consumed(idLockouts, idKey);

  /**
   * Lifts everything held against one ID (an operator's decision, e.g. after checking the
   * citizen at a desk): failures, the lockout, the lockout history (the next lockout is the base
   * length again) and the quality retry budget. Attempts in flight are left to settle.
   */
  async function reset(idKey: string): Promise<void> {
    await Promise.all([idFailures, idBlock, idLockouts, idRetries].map((l) => l.delete(idKey)));
  }

  return { status, idState, countStart, reserve, settle, lockouts, reset };
}

export type AttemptLimits = ReturnType<typeof createAttemptLimits>;

/** The stable error for a lock: 429 `locked` (the ID) or `rate_limited` (the IP), with retryAt. */
export function lockError(lock: Lock): AppError {
  const at = new Date(lock.retryAt);
  const minutes = Math.max(1, Math.ceil((lock.retryAt - Date.now()) / 60_000));
  const when = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC (in about ${minutes < 120 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes / 60)} hours`})`;
  const code = lock.scope === 'id' ? 'locked' : 'rate_limited';
  const message = lock.scope === 'id'
    ? `Too many attempts to verify this ID number have failed, so face sign-in is paused for it. You can try again after ${when}. If you cannot wait, go to a service desk with your ID card, or use another way of signing in that the service offers.`
    : `Too many attempts have come from your network. You can try again after ${when}, or use another way of signing in that the service offers.`;
  return new AppError(code, message, { retryAt: at.toISOString(), retryAfterSeconds: Math.max(1, Math.ceil((lock.retryAt - Date.now()) / 1000)), reason: lock.reason });
}

/** Deletes limiter rows that expired more than an hour ago (database store only; housekeeping). */
export async function pruneLimits(db: Db, now: number): Promise<number> {
  return db('risk_limits').where('expire', '<', now - 3600_000).del();
}
