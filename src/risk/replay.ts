// Replay defence: the sha256 of every received frame is kept for a window in `frame_hashes`;
// the same bytes again (in any capture, on any instance) or twice in one submission are flagged.
// Recording and checking are one atomic insert per digest, so two instances cannot both pass.
import { createHash } from 'node:crypto';
import type { Db } from '../db/knex.ts';

/** sha256 (hex) of each frame's bytes, in frame order. */
export const digestsOf = (frames: Uint8Array[]): string[] => frames.map((f) => createHash('sha256').update(f).digest('hex'));

export type ReplayResult = { replayed: number; duplicates: number };

/**
 * Records the digests (expiring after `windowMs`) and tells how many were already known
 * (replayed) and how many repeat inside this submission (duplicates).
 */
export async function recordFrames(db: Db, digests: string[], now: number, windowMs: number): Promise<ReplayResult> {
  const unique = [...new Set(digests)];
  const duplicates = digests.length - unique.length;
  // An expired row is no longer a replay: clear it so the insert below can take its place.
  await db('frame_hashes').whereIn('digest', unique).andWhere('expires_at', '<=', now).del();
  const inserted = await db('frame_hashes')
    .insert(unique.map((digest) => ({ digest, seen_at: now, expires_at: now + windowMs })))
    .onConflict('digest').ignore()
    .returning('digest') as Array<{ digest: string } | string>;
  return { replayed: unique.length - inserted.length, duplicates };
}

/** Deletes digests past their window (housekeeping). */
export async function pruneFrameHashes(db: Db, now: number): Promise<number> {
  return db('frame_hashes').where('expires_at', '<=', now).del();
}
