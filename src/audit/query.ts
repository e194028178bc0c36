// Reading the audit trail back: the chain verified in id order, export as JSON lines, and a
// citizen's sign-ins. Streams in batches, never the whole table at once. Imports db and the
// development secrets only.
import { developmentSecrets } from '../../config/defaults.ts';
import type { Db } from '../db/knex.ts';
import { auditKeyring, checkLink, checkMac, type AuditRow, type AuditSecrets, type ChainBreak } from './chain.ts';

export type VerifyResult = {
  ok: boolean; rows: number; ms: number; head: { id: number; hash: string } | null;
  /** Rows verified that carry no MAC: ids 1..unanchored, written before migration 0005. */
  unanchored: number;
  /** Heads kept outside (`--head`, checkpoints) the chain was checked against. */
  heads: number;
  broken?: ChainBreak;
};

/**
 * A head kept outside the database: by hash alone (`audit verify --head HASH`), or a checkpoint's
 * sequence number, hash and MAC. The chain must still hold it, unchanged.
 */
export type ExpectedHead = { source: string; hash: string; seq?: number; mac?: string | null };

async function* batches(db: Db, size: number, where?: (q: ReturnType<Db>) => void): AsyncGenerator<AuditRow[]> {
  let after = 0;
  for (;;) {
    const q = db<AuditRow>('audit_events').where('id', '>', after).orderBy('id').limit(size);
    where?.(q as unknown as ReturnType<Db>);
    const rows = await q;
    if (rows.length === 0) return;
    yield rows;
    after = Number(rows[rows.length - 1].id);
  }
}

export type VerifyOptions = {
  batch?: number;
  onProgress?: (rows: number) => void;
  /** The audit keys (config.secrets); default the development ones. */
  secrets?: AuditSecrets;
  heads?: ExpectedHead[];
};

/**
 * Recomputes every row's hash and MAC in id order, and checks the chain against `heads`; stops at
 * the first break and names it. A cut tail is found only against a head kept outside: the chain
 * ends before a checkpoint's row (`truncated`) or holds no row with a `--head` hash (`head_missing`).
 */
export async function verifyChain(db: Db, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const ring = auditKeyring(options.secrets ?? developmentSecrets);
  const heads = options.heads ?? [];
  const bySeq = new Map<number, ExpectedHead[]>();
  const byHash = new Map<string, ExpectedHead[]>();
  for (const h of heads) {
    if (h.seq !== undefined) bySeq.set(h.seq, [...(bySeq.get(h.seq) ?? []), h]);
    else byHash.set(h.hash, [...(byHash.get(h.hash) ?? []), h]);
  }
  const found = new Set<ExpectedHead>();
  let previous: AuditRow | undefined;
  let rows = 0;
  let unanchored = 0;
  const result = (broken?: ChainBreak): VerifyResult => ({
    ok: !broken, rows, ms: Math.round(performance.now() - started), head: previous ? { id: Number(previous.id), hash: previous.hash } : null,
    unanchored, heads: heads.length, ...(broken ? { broken } : {}),
  });
  for await (const batch of batches(db, options.batch ?? 5000)) {
    for (const row of batch) {
      const broken = checkLink(previous, row) ?? checkMac(row, ring, rows > unanchored) ?? checkHeads(row);
      if (broken) return result(broken);
      if (row.mac == null) unanchored++; // only ever the prefix: checkMac refuses one after a MAC
      previous = row;
      rows++;
    }
    options.onProgress?.(rows);
  }
  const missing = heads.find((h) => !found.has(h));
  if (missing) {
    const end = previous ? `the chain ends at row ${previous.id}` : 'the chain is empty';
    return result(missing.seq !== undefined
      ? { id: missing.seq, reason: 'truncated', message: `${end}, but ${missing.source} names row ${missing.seq} (${missing.hash}): the tail was cut` }
      : { id: previous ? Number(previous.id) : 0, reason: 'head_missing', message: `no row has the hash ${missing.hash} (${missing.source}); ${end}: the tail was cut or the chain rewritten` });
  }
  return result();

  function checkHeads(row: AuditRow): ChainBreak | undefined {
    for (const h of bySeq.get(Number(row.id)) ?? []) {
      if (h.hash !== row.hash || (h.mac !== undefined && h.mac !== (row.mac ?? null))) {
        const what = h.hash !== row.hash ? `hash ${row.hash}, not ${h.hash}` : `MAC ${row.mac ?? 'none'}, not ${h.mac ?? 'none'}`;
        return { id: Number(row.id), reason: 'diverged', message: `row ${row.id} has ${what} as ${h.source} recorded: the chain was rewritten up to it` };
      }
      found.add(h);
    }
    for (const h of byHash.get(row.hash) ?? []) found.add(h);
    return undefined;
  }
}

/** One exported event: the row with `details` parsed and the time also as ISO 8601. */
export type ExportedEvent = Omit<AuditRow, 'details'> & { time: string; details: unknown };

function parseDetails(details: string | null): unknown {
  if (details === null) return null;
  try { return JSON.parse(details); } catch { return details; }
}

/** Every event with `since <= at < until` (epoch ms), in id order, one call per event. */
export async function exportEvents(db: Db, range: { since?: number; until?: number }, write: (e: ExportedEvent) => Promise<void> | void): Promise<number> {
  let n = 0;
  const where = (q: ReturnType<Db>) => {
    if (range.since !== undefined) q.where('at', '>=', range.since);
    if (range.until !== undefined) q.where('at', '<', range.until);
  };
  for await (const batch of batches(db, 2000, where)) {
    for (const r of batch) {
      const { id, at, ...rest } = r;
      await write({ id: Number(id), at: Number(at), time: new Date(Number(at)).toISOString(), ...rest, details: parseDetails(r.details) });
      n++;
    }
  }
  return n;
}

/** A token exchange that gave an agency this citizen's claims: a sign-in (code) or a proof of life (CIBA). */
export type SignIn = {
  /** The audit row's id (the citizen's space reports "This wasn't me" against it). */
  id: number;
  at: number; clientId: string | null; kind: 'sign_in' | 'proof_of_life'; acr: string | null; amr: string[]; scopes: string[]; claims: string[];
};

const cibaGrant = 'urn:openid:params:grant-type:ciba';

/**
 * The citizen's sign-ins and proofs of life (tokens issued by code exchange or by the CIBA grant),
 * most recent first; `limit` rows from before the row `beforeId` when paged.
 */
export async function listSignIns(db: Db, citizenId: string, page: { limit?: number; beforeId?: number } = {}): Promise<SignIn[]> {
  const q = db<AuditRow>('audit_events').where({ citizen_id: citizenId, type: 'oidc.grant.success' }).orderBy('id', 'desc');
  if (page.beforeId !== undefined) q.where('id', '<', page.beforeId);
  if (page.limit !== undefined) q.limit(page.limit);
  const rows = await q;
  return rows.flatMap((r) => {
    const d = (parseDetails(r.details) ?? {}) as { grant_type?: string; acr?: string; amr?: string[]; scope?: string; claims?: string[] };
    if (d.grant_type !== 'authorization_code' && d.grant_type !== cibaGrant) return [];
    return [{
      id: Number(r.id), at: Number(r.at), clientId: r.client_id, kind: d.grant_type === cibaGrant ? 'proof_of_life' as const : 'sign_in' as const,
      acr: d.acr ?? null, amr: d.amr ?? [], scopes: String(d.scope ?? '').split(' ').filter(Boolean), claims: d.claims ?? [],
    }];
  });
}

/** One of the citizen's sign-ins by its audit row id; undefined when the row is not one of hers. */
export async function findSignIn(db: Db, citizenId: string, id: number): Promise<SignIn | undefined> {
  return (await listSignIns(db, citizenId, { beforeId: id + 1, limit: 1 })).find((s) => s.id === id);
}
