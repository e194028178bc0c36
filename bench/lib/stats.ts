// Small statistics shared by the HTTP benchmarks (bench/oidc.ts, bench/cluster.ts).

/** The q-quantile (nearest rank, 0 ≤ q ≤ 1) of `values`; NaN when empty. */
export const quantile = (values: number[], q: number) => {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
/** `v` to `d` decimals; null when it is not a finite number (JSON-safe). */
export const round = (v: number, d = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);
