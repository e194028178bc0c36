// `facegate pad-eval` as an operator runs it on her own labelled captures: bona fide sequences
// from the live citizen (helpers/live.ts) with the actions they perform, attack sequences of a
// still photo, each judged by the capture API's decision; APCER per species and BPCER in JSON.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot } from '../../helpers/derive.ts';
import { liveFrames, warmLiveCitizen } from '../../helpers/live.ts';

const run = (...args: string[]) => cliRunner()(...args);
const json = lastJson as (s: string) => any;

function writeSequence(dir: string, frames: Buffer[], extra: Record<string, unknown> = {}) {
  mkdirSync(dir, { recursive: true });
  frames.forEach((f, i) => writeFileSync(join(dir, `${String(i).padStart(3, '0')}.jpg`), f));
  for (const [file, value] of Object.entries(extra)) writeFileSync(join(dir, file), JSON.stringify(value));
}

describeWithData('facegate pad-eval', () => {
  let root: string;

  beforeAll(async () => {
    await warmLiveCitizen();
    root = mkdtempSync(join(tmpdir(), 'facegate-pad-'));
    writeSequence(join(root, 'bona_fide', 'turn-right'), await liveFrames(['turn_right']), { 'actions.json': ['turn_right'] });
    writeSequence(join(root, 'bona_fide', 'left-blink'), await liveFrames(['turn_left', 'blink']), { 'actions.json': ['turn_left', 'blink'] });
    const photo = face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
    writeSequence(join(root, 'attack', 'still', 'a'), await Promise.all(Array.from({ length: 6 }, () => cameraShot(photo))), { 'actions.json': ['turn_left'] });
    // The bona fide frames of one sequence played back in the wrong order of actions.
    writeSequence(join(root, 'attack', 'wrong_order', 'a'), await liveFrames(['blink', 'turn_left']), { 'actions.json': ['turn_left', 'blink'] });
  }, 180_000);

  it('reports BPCER and APCER per species at high, with the check that stopped each attack', async () => {
    const r = await run('pad-eval', '--sequences', root, '--level', 'high', '--json');
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({
      level: 'high',
      bonaFide: { sequences: 2, rejected: 0, bpcer: 0 },
      attacks: { still: { sequences: 1, accepted: 0, apcer: 0 }, wrong_order: { sequences: 1, accepted: 0, apcer: 0 } },
      maxApcer: 0,
    });
    expect(out.sequences.find((s: { name: string }) => s.name === 'attack/still/a')).toMatchObject({ accepted: false, check: 'fresh' });
  }, 120_000);

  it('prints a readable summary without --json', async () => {
    const r = await run('pad-eval', '--sequences', root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/level substantial: BPCER/);
    expect(r.stdout).toMatch(/still: APCER 0/);
  }, 120_000);

  it('refuses a folder without sequences, and a malformed actions.json, with invalid_input', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'facegate-pad-empty-'));
    expect(json((await run('pad-eval', '--sequences', empty, '--json')).stdout).error.code).toBe('invalid_input');
    const bad = mkdtempSync(join(tmpdir(), 'facegate-pad-bad-'));
    writeSequence(join(bad, 'bona_fide', 'x'), [await cameraShot(face('obama', 'obama_1.jpg'))], { 'actions.json': ['wave'] });
    const r = await run('pad-eval', '--sequences', bad, '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('actions.json') });
  });
});
