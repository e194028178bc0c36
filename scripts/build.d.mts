// Types of scripts/build.mjs, for the TypeScript that imports it (the bundle's test).
export const root: string;
export const outdir: string;
export function buildBundle(into?: string): Promise<{ ms: number; inputs: number }>;
export function bundleIsStale(from?: string): boolean;
