// Decoding a CTC recogniser's output (T time steps x C classes of probabilities, class 0 the
// blank) restricted to an alphabet: the greedy reading, and the most likely reading of an exact
// length (a Viterbi search over time x characters emitted), which recovers the runs of `<` that a
// greedy reading merges or splits: an MRZ line's length is known (30, 36 or 44).

export interface CtcMatrix {
  /** log-probabilities, T x K (K = alphabet + 1; column 0 the blank), row-major. */
  logp: Float32Array;
  T: number;
  K: number;
  /** The characters of columns 1..K-1. */
  alphabet: string;
}

/** Picks the alphabet's columns (and the blank) from full posteriors and takes their logs. */
export function restrictPosteriors(probs: Float32Array, T: number, C: number, columns: readonly number[], alphabet: string): CtcMatrix {
  const K = columns.length + 1;
  const logp = new Float32Array(T * K);
  for (let t = 0; t < T; t++) {
    const row = t * C;
    let sum = probs[row];
    for (const c of columns) sum += probs[row + c];
    // Renormalised over the allowed classes: the whitelist as a prior.
    const inv = 1 / Math.max(sum, 1e-12);
    logp[t * K] = Math.log(Math.max(probs[row] * inv, 1e-12));
    columns.forEach((c, k) => { logp[t * K + k + 1] = Math.log(Math.max(probs[row + c] * inv, 1e-12)); });
  }
  return { logp, T, K, alphabet };
}

/** Best class per step, repeats merged, blanks dropped; with the mean probability of the characters kept. */
export function greedyDecode(m: CtcMatrix): { text: string; confidence: number } {
  const { logp, T, K, alphabet } = m;
  let text = '', prev = 0, conf = 0, n = 0;
  for (let t = 0; t < T; t++) {
    let best = 0, bestV = logp[t * K];
    for (let k = 1; k < K; k++) if (logp[t * K + k] > bestV) { bestV = logp[t * K + k]; best = k; }
    if (best !== 0 && best !== prev) { text += alphabet[best - 1]; conf += Math.exp(bestV); n++; }
    prev = best;
  }
  return { text, confidence: n ? conf / n : 0 };
}

/**
 * The most likely path that emits exactly `n` characters (CTC rules: a character repeated
 * needs a blank in between), optionally with the characters allowed at each position (a
 * format's template: digits in a date, letters in a country code). O(T x n x K). Null when the
 * line is too short in time for `n`, or no path fits the template.
 */
export function decodeWithLength(m: CtcMatrix, n: number, allowed?: readonly string[]): string | null {
  const { logp, T, K, alphabet } = m;
  if (n <= 0 || T < n) return null;
  // ok[(k-1) * K + c]: character c may be the k-th emitted.
  const ok = new Uint8Array(n * K).fill(1);
  if (allowed) {
    for (let k = 0; k < n; k++) {
      const set = allowed[k];
      if (!set) continue;
      for (let c = 1; c < K; c++) ok[k * K + c] = set.includes(alphabet[c - 1]) ? 1 : 0;
    }
  }
  const NEG = -Infinity;
  // score[k][c]: best log-probability of a path over steps 0..t that has emitted k characters and
  // is in state c at step t (c = 0: blank, else the character k-th emitted, still being held).
  const stride = K;
  let cur = new Float64Array((n + 1) * stride).fill(NEG);
  let nxt = new Float64Array((n + 1) * stride).fill(NEG);
  // back[t][k][c]: the state at t-1 (its k is implied: same k when c' === c or c === 0, else k-1).
  const back = new Int16Array(T * (n + 1) * stride).fill(-1);
  cur[0] = logp[0];
  for (let c = 1; c < K; c++) if (ok[c]) cur[stride + c] = logp[c];
  for (let t = 1; t < T; t++) {
    nxt.fill(NEG);
    const row = t * K, bt = t * (n + 1) * stride;
    for (let k = 0; k <= n; k++) {
      const base = k * stride;
      // Stay: blank after blank or after a character (k unchanged).
      let bestBlank = NEG, fromBlank = -1;
      for (let c = 0; c < K; c++) {
        const v = cur[base + c];
        if (v > bestBlank) { bestBlank = v; fromBlank = c; }
      }
      if (fromBlank >= 0 && bestBlank > NEG) {
        nxt[base] = bestBlank + logp[row];
        back[bt + base] = fromBlank;
      }
      // A character c: held from the previous step (k unchanged), or newly emitted (from k-1,
      // from a blank or another character).
      let top1 = NEG, top1c = -1, top2 = NEG, top2c = -1;
      if (k > 0) {
        const pb = (k - 1) * stride;
        for (let c = 0; c < K; c++) {
          const v = cur[pb + c];
          if (v > top1) { top2 = top1; top2c = top1c; top1 = v; top1c = c; } else if (v > top2) { top2 = v; top2c = c; }
        }
      }
      for (let c = 1; c < K; c++) {
        let best = cur[base + c], from = c; // held
        if (k > 0 && ok[(k - 1) * K + c]) {
          const [v, fc] = top1c !== c ? [top1, top1c] : [top2, top2c];
          if (v > best) { best = v; from = fc + K; } // emitted (offset K marks "from k-1")
        }
        if (best > NEG) {
          nxt[base + c] = best + logp[row + c];
          back[bt + base + c] = from;
        }
      }
    }
    [cur, nxt] = [nxt, cur];
  }
  let state = -1, bestEnd = NEG;
  for (let c = 0; c < K; c++) if (cur[n * stride + c] > bestEnd) { bestEnd = cur[n * stride + c]; state = c; }
  if (state < 0 || bestEnd === NEG) return null;
  const out: string[] = [];
  let k = n;
  for (let t = T - 1; t >= 0; t--) {
    const c = state;
    if (t === 0) {
      if (c !== 0) out.push(alphabet[c - 1]);
      break;
    }
    const from = back[t * (n + 1) * stride + k * stride + c];
    if (from >= K) { out.push(alphabet[c - 1]); k--; state = from - K; } else state = from;
  }
  return out.length === n ? out.reverse().join('') : null;
}
