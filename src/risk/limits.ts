// Attempt limits that hold across instances (rate-limiter-flexible): consecutive failures per
// national ID on each source network (the pair's key: `<ID key>.<network key>`) and per ID across
// all networks, each with a growing lockout; quality retries per ID and network; failures and
// capture starts per client IP. An impostor locks the ID only on the networks he tries from; the
// ID is locked everywhere only at the higher any-network count (NIST SP 800-63B 5.2.2). Counters
// live in the database's `risk_limits` table, or in Redis when configured.
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config/schema.ts';
import { isPostgres, type Db } from '../db/knex.ts';
import { AppError } from '../shared/errors.ts';

/**
 * Why and until when an attempt is refused: the ID everywhere (`id`), the ID from the client's
 * network (`id_network`), or the client IP (`ip`).
 */
export type Lock = { scope: 'id' | 'id_network' | 'ip'; reason: 'lockout' | 'retries' | 'ip_failures' | 'ip_starts'; retryAt: number };
/**
 * An attempt in flight on an ID from a network, counted before the face engine runs and settled
 * after; with the ID's committed failures across all networks at that moment (what the risk rule
 * reads: other attempts still in flight are not failures).
 */
export type Reservation = { idKey: string; ipKey: string; netKey: string; failures: number };
export type Settlement = 'failure' | 'success' | 'retry' | 'none';
/** `idFailures`: the ID's consecutive failures across all networks. */
export type LimitStatus = { idFailures: number; ipFailures: number; lock?: Lock };
/**
 * What the limits hold on one ID, for an operator (`facegate risk status`): the ID-wide counts
 * and lock (else the longest lock of the ID on a network), and the networks it is locked on now
 * with their lockouts and quality retries summed (networks are HMACs: none can be named).
 */
export type IdLimitState = {
  failures: number; retries: number; lockouts: number; lock?: Lock;
  lockedNetworks: number; networkLockouts: number;
};

export type RedisClient = ConstructorParameters<typeof RateLimiterRedis>[0]['storeClient'];
/** What listing one ID's pair keys needs of a Redis client (ioredis). */
type Scanner = { scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]> };

/** Longest an attempt is counted in flight: far above an analysis, short enough to forget a crash. */
const inFlightSeconds = 120;

const isRes = (e: unknown): e is RateLimiterRes => e instanceof RateLimiterRes;

/**
 * Makes the limiters of this gateway's store: the database's `risk_limits` table, or Redis when
 * REDIS_URL is set (every instance shares the counts either way). With Redis, the database's
 * limiter is its insurance (rate-limiter-flexible's insuranceLimiter): while Redis cannot answer,
 * attempts are counted in the database instead of every check failing; the counts do not merge
 * afterwards.
 */
export function limiterFactory(db: Db, config: Readonly<Config>, redis?: RedisClient) {
  return (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const common = { keyPrefix, points, duration };
    const table = { storeClient: db, storeType: 'knex', tableName: 'risk_limits', tableCreated: true, clearExpiredByTimeout: false };
    const inDatabase = isPostgres(db)
      ? new RateLimiterPostgres({ ...common, ...table, schemaName: config.database.schema })
      : new RateLimiterSQLite({ ...common, ...table });
    return redis ? new RateLimiterRedis({ ...common, storeClient: redis, insuranceLimiter: inDatabase }) : inDatabase;
  };
}

/**
 * The limiters of one gateway. `redis` (an ioredis client) replaces the database store; every
 * instance sharing the database (or Redis) shares the counts.
 */
export function createAttemptLimits(db: Db, config: Readonly<Config>, redis?: RedisClient) {
  const { lockout, ip } = config.risk;
  // The ID everywhere never locks before the ID on one network.
  const anyNetwork = Math.max(lockout.maxFailures, lockout.maxFailuresAnyNetwork);
  const make = limiterFactory(db, config, redis);
  // The ID across all networks.
  const idFailures = make('idf', anyNetwork, lockout.failureWindowSeconds);
  // Attempts in flight per ID; a point left by a crashed process expires with the window.
  const idInFlight = make('idi', 1_000_000, inFlightSeconds);
  const idBlock = make('idb', 1, lockout.maxSeconds);
  const idLockouts = make('idl', 1_000_000, lockout.memorySeconds);
  // The ID from one network (keys: pairKey()).
  const pairFailures = make('nf', lockout.maxFailures, lockout.failureWindowSeconds);
  const pairInFlight = make('ni', 1_000_000, inFlightSeconds);
  const pairBlock = make('nb', 1, lockout.maxSeconds);
  const pairLockouts = make('nl', 1_000_000, lockout.memorySeconds);
  const pairRetries = make('nr', config.risk.retriesPerIdPerHour, 3600);
  const ipFailures = make('ipf', ip.failuresPerHour, 3600);
  const ipStarts = make('ips', ip.startsPerMinute, 60);
  const pairLimiters = { nf: pairFailures, nb: pairBlock, nl: pairLockouts, nr: pairRetries };

  /** The key of an ID on a network: both HMACs ('.' is not in base64url, so it cannot be ambiguous). */
  const pairKey = (idKey: string, netKey: string) => `${idKey}.${netKey}`;
  const consumed = async (l: RateLimiterAbstract, key: string) => (await l.get(key))?.consumedPoints ?? 0;
  const until = (res: RateLimiterRes | null) => Date.now() + Math.max(1000, res?.msBeforeNext ?? 0);
  /** A lockout's length: base × 2^(lockouts before), at most maxSeconds. */
  const lengthOf = (n: number) => Math.min(lockout.maxSeconds, lockout.baseSeconds * 2 ** Math.min(n - 1, 30));
  const latest = (...locks: Array<Lock | undefined>) => locks.reduce<Lock | undefined>((a, l) => (l && (!a || l.retryAt > a.retryAt) ? l : a), undefined);

  /** The ID's lock everywhere, if any. */
  const idLock = (block: RateLimiterRes | null): Lock | undefined =>
    block && block.consumedPoints > 0 ? { scope: 'id', reason: 'lockout', retryAt: until(block) } : undefined;
  /** The ID's lock on one network, if any: a lockout, or the quality retry budget spent (the later). */
  const pairLock = (block: RateLimiterRes | null, retries: RateLimiterRes | null): Lock | undefined => latest(
    block && block.consumedPoints > 0 ? { scope: 'id_network', reason: 'lockout', retryAt: until(block) } : undefined,
    retries && retries.consumedPoints >= config.risk.retriesPerIdPerHour ? { scope: 'id_network', reason: 'retries', retryAt: until(retries) } : undefined,
  );

  /**
   * The pair keys held for one ID in one limiter's store (`prefix` its keyPrefix), expired rows
   * included. Operator commands only (status, reset): the attempt path never lists.
   */
  async function pairKeysOf(prefix: string, idKey: string): Promise<string[]> {
    const head = `${prefix}:${idKey}.`;
    let found: string[] = [];
    if (redis) {
      const client = redis as Scanner;
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${head.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== '0');
    } else {
      const pattern = `${head.replace(/[\\%_]/g, '\\$&')}%`;
      found = await db('risk_limits').whereRaw('?? like ? escape ?', ['key', pattern, '\\']).pluck('key');
    }
    // LIKE ignores case on SQLite; the keys do not.
    return [...new Set(found.filter((k) => k.startsWith(head)).map((k) => k.slice(prefix.length + 1)))];
  }

  /** The counts for the risk rule and the lock in force, if any (no counter changes). */
  async function status(idKey: string, ipKey: string, netKey: string): Promise<LimitStatus> {
    const pair = pairKey(idKey, netKey);
    const [block, pblock, retries, idf, ipf] = await Promise.all([idBlock.get(idKey), pairBlock.get(pair), pairRetries.get(pair), idFailures.get(idKey), ipFailures.get(ipKey)]);
    let lock = latest(idLock(block), pairLock(pblock, retries));
    if (!lock && ipf && ipf.consumedPoints >= ip.failuresPerHour) lock = { scope: 'ip', reason: 'ip_failures', retryAt: until(ipf) };
    return { idFailures: idf?.consumedPoints ?? 0, ipFailures: ipf?.consumedPoints ?? 0, lock };
  }

  /** Everything counted against one ID (no counter changes); an ID never seen reads all zero. */
  async function idState(idKey: string): Promise<IdLimitState> {
    const [block, failures, lockoutCount, nets] = await Promise.all([
      idBlock.get(idKey), consumed(idFailures, idKey), consumed(idLockouts, idKey),
      Promise.all(['nb', 'nr', 'nl'].map((p) => pairKeysOf(p, idKey))).then((lists) => [...new Set(lists.flat())]),
    ]);
    const pairs = await Promise.all(nets.map(async (k) => {
      const [b, r, l] = await Promise.all([pairBlock.get(k), pairRetries.get(k), consumed(pairLockouts, k)]);
      return { lock: pairLock(b, r), retries: r?.consumedPoints ?? 0, lockouts: l };
    }));
    const locked = pairs.filter((p) => p.lock);
    return {
      failures, lockouts: lockoutCount, lock: idLock(block) ?? latest(...locked.map((p) => p.lock)),
      retries: pairs.reduce((n, p) => n + p.retries, 0),
      lockedNetworks: locked.length, networkLockouts: pairs.reduce((n, p) => n + p.lockouts, 0),
    };
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

  /** Takes back a counted start the service failed to carry out (it gave the citizen nothing). */
  async function uncountStart(ipKey: string): Promise<void> {
    await ipStarts.reward(ipKey);
  }

  /**
   * Counts an attempt in flight on the ID from a network before the engine runs. Committed
   * failures plus attempts in flight may pass neither the network's limit nor the any-network
   * one, so concurrent attempts cannot overshoot them: when they would, the caller gets
   * capture_busy (nothing is locked yet). Attempts from other networks do not hold this one up
   * below the any-network limit.
   */
  async function reserve(idKey: string, ipKey: string, netKey: string): Promise<Reservation> {
    const pair = pairKey(idKey, netKey);
    // At least this attempt (a window that expired under a reward can leave the count below zero).
    const [idIn, pairIn] = (await Promise.all([idInFlight.penalty(idKey), pairInFlight.penalty(pair)])).map((res) => Math.max(1, res.consumedPoints));
    const [failures, onNetwork] = await Promise.all([consumed(idFailures, idKey), consumed(pairFailures, pair)]);
    if (failures + idIn > anyNetwork || onNetwork + pairIn > lockout.maxFailures) {
      await Promise.all([idInFlight.reward(idKey), pairInFlight.reward(pair)]);
      throw new AppError('capture_busy', 'other attempts for this ID number are being checked; wait for their answer');
    }
    return { idKey, ipKey, netKey, failures };
  }

  /**
   * Settles a reservation: the attempt is no longer in flight. A failure counts on the ID's
   * network and across networks: at maxFailuresAnyNetwork it locks the ID everywhere (scope `id`),
   * else at maxFailures the ID on this network (`id_network`), each for base × 2^(its lockouts
   * before), at most maxSeconds, and starts that count afresh. A success (only the citizen can
   * produce one) resets the count of her network and the ID-wide one; other networks' counts and
   * locks stay. A quality retry counts against the network's retry budget; `none` counts nothing.
   * Returns the lock it set, if any.
   */
  async function settle(r: Reservation, outcome: Settlement): Promise<Lock | undefined> {
    const pair = pairKey(r.idKey, r.netKey);
    await Promise.all([idInFlight.reward(r.idKey), pairInFlight.reward(pair)]);
    if (outcome === 'success') {
      await Promise.all([idFailures.delete(r.idKey), pairFailures.delete(pair)]);
      return undefined;
    }
    if (outcome !== 'failure') {
      if (outcome === 'retry') await pairRetries.penalty(pair);
      return undefined;
    }
    await ipFailures.penalty(r.ipKey);
    const [everywhere, onNetwork] = (await Promise.all([idFailures.penalty(r.idKey), pairFailures.penalty(pair)])).map((res) => res.consumedPoints);
    if (everywhere >= anyNetwork) {
      const seconds = lengthOf((await idLockouts.penalty(r.idKey)).consumedPoints);
      await idBlock.block(r.idKey, seconds);
      await Promise.all([idFailures.delete(r.idKey), pairFailures.delete(pair)]);
      return { scope: 'id', reason: 'lockout', retryAt: Date.now() + seconds * 1000 };
    }
    if (onNetwork < lockout.maxFailures) return undefined;
    const seconds = lengthOf((await pairLockouts.penalty(pair)).consumedPoints);
    await pairBlock.block(pair, seconds);
    await pairFailures.delete(pair);
    return { scope: 'id_network', reason: 'lockout', retryAt: Date.now() + seconds * 1000 };
  }

  /**
   * Lockouts recorded within lockout.memorySeconds (for the audit trail): of the ID everywhere,
   * or with `netKey` of the ID on that network.
   */
  const lockouts = (idKey: string, netKey?: string) => (netKey === undefined ? consumed(idLockouts, idKey) : consumed(pairLockouts, pairKey(idKey, netKey)));

  /**
   * Lifts everything held against one ID (an operator's decision, e.g. after checking the
   * citizen at a desk), everywhere and on every network: failures, the lockouts, the lockout
   * histories (the next lockout is the base length again) and the quality retry budgets.
   * Attempts in flight are left to settle.
   */
  async function reset(idKey: string): Promise<void> {
    const pairs = await Promise.all(Object.entries(pairLimiters).map(async ([prefix, l]) => (await pairKeysOf(prefix, idKey)).map((k) => l.delete(k))));
    await Promise.all([...[idFailures, idBlock, idLockouts].map((l) => l.delete(idKey)), ...pairs.flat()]);
  }

  return { status, idState, countStart, uncountStart, reserve, settle, lockouts, reset };
}

export type AttemptLimits = ReturnType<typeof createAttemptLimits>;

/**
 * The stable error for a lock: 429 `locked` (the ID, everywhere or from the client's network) or
 * `rate_limited` (the IP), with retryAt. Known and unknown IDs read alike.
 */
export function lockError(lock: Lock): AppError {
  const at = new Date(lock.retryAt);
  const minutes = Math.max(1, Math.ceil((lock.retryAt - Date.now()) / 60_000));
  const when = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC (in about ${minutes < 120 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes / 60)} hours`})`;
  const code = lock.scope === 'ip' ? 'rate_limited' : 'locked';
  const desk = 'If you cannot wait, go to a service desk with your ID card, or use another way of signing in that the service offers.';
  const message = lock.scope === 'id'
    ? `Too many attempts to verify this ID number have failed, so face sign-in is paused for it. You can try again after ${when}. ${desk}`
    : lock.scope === 'id_network'
      ? `Too many attempts to verify this ID number from your network have failed, so face sign-in for it is paused on this network. You can try again after ${when}. ${desk}`
      : `Too many attempts have come from your network. You can try again after ${when}, or use another way of signing in that the service offers.`;
  return new AppError(code, message, { retryAt: at.toISOString(), retryAfterSeconds: Math.max(1, Math.ceil((lock.retryAt - Date.now()) / 1000)), reason: lock.reason });
}

/** Deletes limiter rows that expired more than an hour ago (database store only; housekeeping). */
export async function pruneLimits(db: Db, now: number): Promise<number> {
  return db('risk_limits').where('expire', '<', now - 3600_000).del();
}
