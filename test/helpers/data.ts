// Where the shared test photos live (FACEGATE_TEST_DATA, default ../shared/data beside the
// project) and a describe() that says why it skips when they are absent.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from '@jest/globals';

export const dataDir = resolve(process.env.FACEGATE_TEST_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
export const hasData = existsSync(join(dataDir, 'faces'));

/** describe() for tests that need the shared photos; skipped, with the reason, when they are absent. */
export const describeWithData: typeof describe = hasData
  ? describe
  : (((name: string, fn: () => void) => {
    const why = `skipped "${name}": it needs the shared face photos, and there are none at ${dataDir} (set FACEGATE_TEST_DATA)`;
    console.warn(why);
    return describe.skip(`${name} [${why}]`, fn);
  }) as typeof describe);

export const face = (identity: string, file: string): Buffer => readFileSync(join(dataDir, 'faces', identity, file));
export const facePath = (identity: string, file: string): string => join(dataDir, 'faces', identity, file);
