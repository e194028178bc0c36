// 1:1 matching: cosine similarity of L2-normalised embeddings against the threshold of the
// assurance level asked for. A result always names the level and threshold it used.

export const levels = ['substantial', 'high'] as const;
export type Level = (typeof levels)[number];

export interface MatchThresholds { substantial: number; high: number }
export interface MatchResult { similarity: number; threshold: number; level: Level; match: boolean }

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`embeddings differ in length: ${a.length} vs ${b.length}`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / (Math.sqrt(na * nb) || 1);
}

export function matchEmbeddings(a: ArrayLike<number>, b: ArrayLike<number>, level: Level, thresholds: MatchThresholds): MatchResult {
  const similarity = cosineSimilarity(a, b);
  const threshold = thresholds[level];
  return { similarity, threshold, level, match: similarity >= threshold };
}
