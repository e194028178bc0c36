// The hash chain's pure parts: canonical form, row hash, and the link check's three failures.
import { describe, expect, it } from '@jest/globals';
import { canonicalRow, checkLink, genesisHash, rowHash, type AuditRow } from '../../../src/audit/chain.ts';

const fields = (id: number, type = 'capture.decided') => ({
  id, at: 1_790_000_000_000 + id, type, outcome: 'success', code: null, interaction_uid: 'uid-1', client_id: 'pension-office',
  citizen_id: 'c-1', ip: '10.0.0.1', user_agent: 'jest', details: JSON.stringify({ score: 0.7, n: id }),
});

function chain(n: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = genesisHash;
  for (let id = 1; id <= n; id++) {
    const f = fields(id);
    const hash = rowHash(prev, f);
    rows.push({ ...f, prev_hash: prev, hash });
    prev = hash;
  }
  return rows;
}

const firstBreak = (rows: AuditRow[]) => {
  for (let i = 0; i < rows.length; i++) {
    const b = checkLink(rows[i - 1], rows[i]);
    if (b) return b;
  }
  return undefined;
};

describe('audit hash chain', () => {
  it('accepts an untouched chain from genesis', () => {
    expect(firstBreak(chain(20))).toBeUndefined();
  });

  it('hashes every field, the id included', () => {
    const base = fields(3);
    const h = rowHash(genesisHash, base);
    for (const [key, value] of Object.entries({ id: 4, at: 1, type: 'x', outcome: 'failure', code: 'no_match', interaction_uid: 'u', client_id: 'tax', citizen_id: 'c-2', ip: '10.0.0.2', user_agent: 'curl', details: '{}' })) {
      expect(rowHash(genesisHash, { ...base, [key]: value })).not.toBe(h);
    }
    expect(rowHash('f'.repeat(64), base)).not.toBe(h);
  });

  it('keeps null and empty string apart in the canonical form', () => {
    expect(canonicalRow({ ...fields(1), code: null })).not.toBe(canonicalRow({ ...fields(1), code: '' }));
  });

  it('names an edited row as a hash mismatch', () => {
    const rows = chain(10);
    rows[6] = { ...rows[6], outcome: 'failure' };
    expect(firstBreak(rows)).toMatchObject({ id: 7, reason: 'hash_mismatch' });
  });

  it('names the row after one rewritten with a fresh hash as a prev_hash mismatch', () => {
    const rows = chain(10);
    const edited = { ...rows[4], outcome: 'failure' };
    rows[4] = { ...edited, hash: rowHash(edited.prev_hash, edited) };
    expect(firstBreak(rows)).toMatchObject({ id: 6, reason: 'prev_hash_mismatch' });
  });

  it('names a gap where a row was deleted, and a chain that does not start at 1', () => {
    const rows = chain(10);
    expect(firstBreak(rows.filter((r) => r.id !== 4))).toMatchObject({ id: 5, reason: 'gap' });
    expect(firstBreak(rows.slice(1))).toMatchObject({ id: 2, reason: 'gap' });
  });

  it('names swapped rows', () => {
    const rows = chain(10);
    [rows[2], rows[3]] = [rows[3], rows[2]];
    expect(firstBreak(rows)).toMatchObject({ id: 4, reason: 'gap' });
  });
});
