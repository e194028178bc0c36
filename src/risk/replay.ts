// Replay defence: the sha256 of every received frame is kept for a window in `frame_hashes`;
// the same bytes again (in any capture, on any instance) or twice in one submission are flagged.
// Recording and checking are one atomic insert per digest, so two instances cannot both pass.
//
// A retry after a crash is not a replay: each digest is recorded with the capture that sent it
// (`owner`), the flow version of the submission holding it (`submission`) and when that
// submission got its answer (`settled_at`). A known digest is a replay unless it is the same
// capture's, never answered, and held by an earlier submission: then this one takes it over, in
// one conditional update (a later submission supersedes an earlier one, never the reverse). The
// capture service settles the digests in the transaction that records the submission's outcome.
import { createHash } from 'node:crypto';
import type { Db } from '../db/knex.ts';

/** sha256 (hex) of each frame's bytes, in frame order. */
export const digestsOf = (frames: Uint8Array[]): string[] => frames.map((f) => createHash('sha256').update(f).digest('hex'));

/** Who sends the frames: the capture (flow id) and its submission (the flow version it claimed). */
export type FrameOwner = { owner: string; submission: number };

/**
 * replayed: known before (another capture's, or answered); duplicates: repeats inside this
 * submission; retried: this capture's own from a submission that never got an answer.
 */
export type ReplayResult = { replayed: number; duplicates: number; retried: number };

const digestOf = (row: { digest: string } | string) => (typeof row === 'string' ? row : row.digest);

/**
 * Records the digests for `by` (expiring after `windowMs`, not answered yet) and tells how many
 * were already known (replayed), repeat inside this submission (duplicates), or are the same
 * capture's from an earlier submission that never got an answer (retried: not replays).
 */
export async function recordFrames(db: Db, digests: string[], now: number, windowMs: number, by: FrameOwner): Promise<ReplayResult> {
  const unique = [...new Set(digests)];
  const duplicates = digests.length - unique.length;
  // An expired row is no longer a replay: clear it so the insert below can take its place.
  await db('frame_hashes').whereIn('digest', unique).andWhere('expires_at', '<=', now).del();
  const inserted = await db('frame_hashes')
    .insert(unique.map((digest) => ({ digest, seen_at: now, expires_at: now + windowMs, owner: by.owner, submission: by.submission, settled_at: null })))
    .onConflict('digest').ignore()
    .returning('digest') as Array<{ digest: string } | string>;
  const fresh = new Set(inserted.map(digestOf));
  const known = unique.filter((d) => !fresh.has(d));
  // The capture's own frames that never got an answer, held by an earlier submission: taken over
  // atomically, so of two submissions only the later one can hold them (and only the flow's
  // latest submission can record an outcome: store.ts saveFlow).
  const retried = known.length
    ? (await db('frame_hashes').whereIn('digest', known).andWhere({ owner: by.owner }).whereNull('settled_at')
      .andWhere('submission', '<', by.submission)
      .update({ submission: by.submission })
      .returning('digest') as unknown[]).length
    : 0;
  return { replayed: known.length - retried, duplicates, retried };
}

/**
 * Marks the digests `by` holds as answered (call in the transaction that records the outcome):
 * from then on they are replays for everyone, the same capture included. Returns how many.
 */
export async function settleFrames(db: Db, digests: string[], by: FrameOwner, now: number): Promise<number> {
  return db('frame_hashes').whereIn('digest', [...new Set(digests)])
    .andWhere({ owner: by.owner, submission: by.submission }).whereNull('settled_at')
    .update({ settled_at: now });
}

/** Deletes digests past their window (housekeeping). */
export async function pruneFrameHashes(db: Db, now: number): Promise<number> {
  return db('frame_hashes').where('expires_at', '<=', now).del();
}
