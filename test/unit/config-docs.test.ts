import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { renderConfigDocs } from '../../scripts/config-docs.ts';

describe('docs/configuration.md', () => {
  it('is current with the schema (run `npm run docs:config` after changing a setting)', () => {
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).toBe(renderConfigDocs());
  });
});
