// The facegate CLI as an operator runs it: JSON output, exit status and error codes.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, facePath, dataDir } from '../../helpers/data.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';

const run = (...args: string[]) => cliRunner()(...args);
const json = lastJson as (s: string) => any;

describe('facegate CLI errors', () => {
  it('exits non-zero with file_not_found for a missing image', async () => {
    const r = await run('analyze', '/no/such/image.jpg', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout)).toEqual({ error: { code: 'file_not_found', message: expect.any(String) } });
  });

  it('exits non-zero with unsupported_image for a text file', async () => {
    const r = await run('liveness', 'package.json');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error unsupported_image');
  });

  it('refuses an unknown level with invalid_input', async () => {
    const r = await run('compare', 'package.json', 'package.json', '--level', 'extreme', '--json');
    expect(json(r.stdout).error.code).toBe('invalid_input');
  });

  it('refuses a pairs CSV without the expected columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-cli-'));
    writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n');
    const r = await run('eval', '--pairs', join(dir, 'bad.csv'), '--images', dir, '--json');
    expect(json(r.stdout).error.code).toBe('invalid_input');
  });
});

describeWithData('facegate CLI on the shared faces', () => {
  it('analyze reports faces, quality and liveness', async () => {
    const r = await run('analyze', facePath('obama', 'obama_1.jpg'), '--grade', 'enrollment', '--json');
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out.faces).toHaveLength(1);
    expect(out.quality).toMatchObject({ grade: 'enrollment', ok: true, codes: [] });
    expect(out.face.liveness).toBeGreaterThan(0.5);
  });

  it('compare matches a genuine pair and names level and threshold', async () => {
    const r = await run('compare', facePath('obama', 'obama_1.jpg'), facePath('obama', 'obama_3.jpg'), '--level', 'high', '--json');
    expect(json(r.stdout)).toMatchObject({ match: true, level: 'high', threshold: expect.any(Number) });
  });

  it('compare rejects an impostor pair', async () => {
    const r = await run('compare', facePath('obama', 'obama_1.jpg'), facePath('biden', 'biden_2.jpg'), '--json');
    expect(json(r.stdout)).toMatchObject({ match: false, level: 'substantial' });
  });

  it('liveness answers live, score and threshold', async () => {
    const out = json((await run('liveness', facePath('rose_leslie', 'rose_leslie_2.jpg'), '--json')).stdout);
    expect(out).toMatchObject({ live: true, score: expect.any(Number), threshold: expect.any(Number) });
  });

  it('pairs, eval and calibrate run over a folder of identities', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-cli-'));
    const csv = join(dir, 'pairs.csv');
    expect((await run('pairs', '--images', join(dataDir, 'faces'), '--out', csv)).code).toBe(0);
    const ev = json((await run('eval', '--pairs', csv, '--images', join(dataDir, 'faces'), '--json')).stdout);
    expect(ev).toMatchObject({ level: 'substantial', pairs: 253, accuracy: 1, tar: 1, far: 0, unusableImages: [] });
    const cal = json((await run('calibrate', '--pairs', csv, '--images', join(dataDir, 'faces'), '--json')).stdout);
    expect(cal.levels.map((l: { level: string }) => l.level)).toEqual(['substantial', 'high']);
    expect(cal.levels[0].warning).toMatch(/impostor pairs/);
  });
});
