// `npm run bench:pad [-- --runs N --seed S --write DIR]`: presentation attack detection figures (ISO/IEC
// 30107-3) at substantial and at high. Labelled sequences are made at run time from
// ../shared/data (bench/pad-corpus.ts) and judged by the capture API's own decision
// (src/capture/pad.ts): APCER per attack species, BPCER, and the counts behind them, with the
// check that stopped each sequence. Each run draws the server's actions as the gateway does.
// `--write DIR` also keeps the corpus as `facegate pad-eval` reads it: DIR/<level>/bona_fide/<seq>/
// and DIR/<level>/attack/<species>/<seq>/, frames in order with actions.json.
// Last stdout line: one JSON object.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../config/load.ts';
import { openFaceEngine, type ImageAnalysis } from '../src/biometrics/engine.ts';
import { noseOffset } from '../src/capture/challenge.ts';
import type { ChallengeAction } from '../src/capture/flow.ts';
import { judgeSequence, padFigures, type Judged, type LabelledSequence, type Level } from '../src/capture/pad.ts';
import { closeEyes } from '../test/helpers/derive.ts';
import { dims, exposure, mirror, motion, print, rng, screen, selfieCitizen, sensor, warp, type Rng } from './pad-corpus.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' }, write: { type: 'string' } } });
/** Keeps a sequence where `facegate pad-eval` reads it, when --write is given. */
function keep(level: Level, seq: Pick<LabelledSequence, 'label' | 'species' | 'name' | 'frames' | 'actions'>) {
  if (!values.write) return;
  const dir = seq.label === 'bona_fide' ? join(values.write, level, 'bona_fide', seq.name.split('/').pop()!) : join(values.write, level, 'attack', seq.species, seq.name.split('/').pop()!);
  mkdirSync(dir, { recursive: true });
  seq.frames.forEach((f, i) => writeFileSync(join(dir, `${String(i).padStart(3, '0')}.jpg`), f));
  writeFileSync(join(dir, 'actions.json'), JSON.stringify(seq.actions));
}
const runs = Number(values.runs), seed = Number(values.seed);
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const config = loadConfig();
const engine = await openFaceEngine(config.biometrics);
const analyze = async (b: Uint8Array) => (await engine.analyze(b, { grade: 'capture' })) as ImageAnalysis & { face: NonNullable<ImageAnalysis['face']> };
const r = rng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const photo = (id: string, file: string) => readFileSync(join(dataDir, 'faces', id, file));
const t0 = performance.now();

// The citizen: the video's person, her registry photo, and the video's frames classified once.
const registry = photo('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
const template = new Float32Array((await analyze(registry)).face.embedding!);
const citizen = await selfieCitizen(engine, dataDir, config.capture.challenge);
const { video, classified, base, yawOf, shows, blinks } = citizen;
const blinkable = await citizen.blinkable();
const s = config.capture.challenge;
process.stderr.write(`neutral frame ${base}; blinkable ${blinkable.join(',')}; turn paths ${JSON.stringify(citizen.paths)}\n`);
const bonaFide = (actions: ChallengeAction[]) => citizen.perform(actions, r);
const bonaFideWindow = (n: number) => citizen.window(n, r);

// Attack material: photos of the citizens (the video's person and the others with several photos).
const people: Record<string, string[]> = {
  lin_manuel_miranda: ['lin_manuel_miranda_1.png'],
  obama: ['obama_1.jpg', 'obama_2.jpg', 'obama_3.jpg', 'obama_4.jpg', 'obama_5.jpg'],
  kit_harington: ['kit_harington_1.jpg', 'kit_harington_2.jpg', 'kit_harington_3.jpg'],
  alex_lacamoire: ['alex_lacamoire_1.png', 'alex_lacamoire_2.jpg', 'alex_lacamoire_3.jpg'],
  biden: ['biden_1.jpg', 'biden_2.jpg'],
};
/** A photo framed as the camera would frame the face: a 4:3 region 3 face-widths wide around it, at 640x480. */
async function camera(bytes: Buffer): Promise<Buffer> {
  const a = await engine.analyze(bytes, { embed: false, liveness: false });
  const { W, H } = await dims(bytes);
  const b = a.faces[0]?.box;
  if (!b) return sharp(bytes).resize(640, 480, { fit: 'cover' }).jpeg({ quality: 92 }).toBuffer();
  const w = Math.min(W, H * 4 / 3, (b.x2 - b.x1) * 5), h = w * 3 / 4;
  const left = Math.round(Math.min(Math.max(0, (b.x1 + b.x2) / 2 - w / 2), W - w)), top = Math.round(Math.min(Math.max(0, (b.y1 + b.y2) / 2 - h / 2), H - h));
  return sharp(bytes).removeAlpha().extract({ left, top, width: Math.floor(w), height: Math.floor(h) }).resize(640, 480).jpeg({ quality: 92 }).toBuffer();
}
/** Each photo as a 640x480 camera frame; a photo whose face the crop loses is left out. */
const stills: Record<string, Buffer[]> = {};
for (const [id, files] of Object.entries(people)) {
  stills[id] = [];
  for (const f of files) { const b = await camera(photo(id, f)); if ((await engine.analyze(b)).face) stills[id].push(b); }
}
const frameCount = (actions: ChallengeAction[]) => 2 + actions.length * 6;
/** A photo turned in the hand towards the action: perspective and squeeze, growing then easing. */
const handTurn = (W: number, H: number, a: ChallengeAction | null, k: number, n: number, rr: Rng) => {
  const amount = a && a !== 'blink' ? Math.sin((Math.PI * (k + 1)) / (n + 1)) * (a === 'turn_left' ? 1 : -1) : 0;
  return motion(W, H, { dx: 6 * (rr() - 0.5), dy: 6 * (rr() - 0.5), rot: 3 * (rr() - 0.5), scale: 1 - 0.06 * Math.abs(amount), px: 0.18 * amount, shear: 0.02 * (rr() - 0.5) });
};
/** Frames of one photo presented for the actions: moved, turned in the hand, a blink painted on. */
async function presented(p: Buffer, actions: ChallengeAction[], finish: (b: Buffer) => Promise<Buffer>): Promise<Buffer[]> {
  const { W, H } = await dims(p);
  const lm = (await analyze(p)).face.landmarks;
  const out: Buffer[] = [];
  for (let k = 0; k < 2; k++) out.push(await finish(await warp(p, handTurn(W, H, null, k, 2, r))));
  for (const a of actions) {
    for (let k = 0; k < 6; k++) {
      const frame = a === 'blink' && k === 2 ? await closeEyes(p, lm) : p;
      out.push(await finish(await warp(frame, handTurn(W, H, a, k, 6, r))));
    }
  }
  return out;
}
const species: Record<string, (actions: ChallengeAction[]) => Promise<Buffer[]>> = {
  /** One photo as every frame: noise, re-encodes, brightness jitter. */
  still: async (actions) => { const p = pick(Object.values(stills).flat()); return Promise.all(Array.from({ length: frameCount(actions) }, async () => sensor(await exposure(p, r), r))); },
  /** One photo moved: shifts, affine jitter, perspective turns towards the actions. */
  still_motion: async (actions) => presented(pick(Object.values(stills).flat()), actions, (b) => sensor(b, r)),
  /** Several photos of the same person: the most frontal as neutral, another (or its mirror) for each turn, a painted blink. */
  photo_library: async (actions) => {
    const id = pick(['obama', 'kit_harington', 'alex_lacamoire', 'biden']);
    const shots = await Promise.all(stills[id].map(async (b) => ({ b, a: await analyze(b) })));
    const neutral = shots.reduce((x, y) => (Math.abs(y.a.face.pose.yaw) < Math.abs(x.a.face.pose.yaw) ? y : x));
    const out: Buffer[] = [neutral.b, neutral.b];
    for (const a of actions) {
      if (a === 'blink') { out.push(neutral.b, await closeEyes(neutral.b, neutral.a.face.landmarks), neutral.b); continue; }
      const others = shots.filter((x) => x !== neutral);
      const turned = others.reduce((x, y) => (Math.abs(y.a.face.pose.yaw) > Math.abs(x.a.face.pose.yaw) ? y : x), others[0] ?? neutral);
      const wantRight = a === 'turn_right';
      const b = (turned.a.face.pose.yaw - neutral.a.face.pose.yaw > 0) === wantRight ? turned.b : await mirror(turned.b);
      out.push(neutral.b, b, b, neutral.b);
    }
    // Each frame a little moved, so that no two are the same picture.
    return Promise.all(out.map(async (b) => { const { W, H } = await dims(b); return sensor(await warp(b, handTurn(W, H, null, 0, 1, r)), r); }));
  },
  /** The recording replayed as filmed, whatever was asked. */
  video_replay: async (actions) => bonaFideWindow(frameCount(actions)),
  /** The recording re-ordered to the actions: its neutral frames, then the frames that show each action. */
  video_reordered: async (actions) => {
    // Distinct frames only: near-neutral ones between the actions, the action frames themselves.
    const calm = video.map((_, i) => i).filter((i) => Math.abs(yawOf(i)) < s.minYawChangeDeg / 2 && !blinkable.includes(i));
    const out: Buffer[] = [video[calm.shift()!], video[calm.shift()!]];
    for (const a of actions) {
      if (a === 'blink') { const k = blinkable.find((i) => i !== base)!; out.push(video[calm.shift() ?? base], await blinks.get(k, r), video[calm.shift() ?? base]); continue; }
      const shown = video.map((_, i) => i).filter((i) => shows(i, a));
      out.push(...shown.slice(0, 4).map((i) => video[i]), video[calm.shift() ?? base]);
    }
    return Promise.all(out.map((b) => sensor(b, r)));
  },
  /** The recording on a screen in front of the camera (moiré, gamma, bezel, glare), following the actions. */
  screen_replay: async (actions) => Promise.all((await bonaFide(actions)).map((b) => screen(b, r))),
  /** A print held up and turned: paper, halftone, reduced gamut. */
  print: async (actions) => presented(pick(Object.values(stills).flat()), actions, async (b) => sensor(await print(b, r), r)),
};

const turnsOnly: ChallengeAction[] = ['turn_left', 'turn_right'];
const all: ChallengeAction[] = ['blink', 'turn_left', 'turn_right'];
function drawActions(level: Level): ChallengeAction[] {
  const [pool, n] = level === 'high' ? [all, config.capture.high.actions] : [turnsOnly, config.capture.substantial.actions];
  const rest = [...pool];
  return Array.from({ length: Math.min(n, rest.length) }, () => rest.splice(Math.floor(r() * rest.length), 1)[0]);
}

const report: Record<string, unknown> = {};
for (const level of ['substantial', 'high'] as Level[]) {
  const judged: Judged[] = [];
  for (let run = 0; run < runs * 2; run++) {
    const actions = drawActions(level);
    const frames = actions.length ? await bonaFide(actions) : await bonaFideWindow(config.capture.substantial.maxFrames);
    const seq = { label: 'bona_fide' as const, species: 'selfie_video', name: `bona_fide/${run}`, frames, actions, template };
    keep(level, seq);
    const j = await judgeSequence(engine, seq, level, config);
    if (!j.accepted && process.env.PAD_DEBUG) {
      const as = await Promise.all(frames.map(analyze));
      process.stderr.write(`  rejected bona fide ${actions.join('+')}: ${j.check}:${j.reason} yaw ${as.map((a) => Math.round(a.face.pose.yaw - classified[base].face.pose.yaw)).join(',')} nose ${as.map((a) => (noseOffset(a) - noseOffset(classified[base])).toFixed(2)).join(',')}\n`);
    }
    judged.push(j);
  }
  for (const [name, make] of Object.entries(species)) {
    for (let run = 0; run < runs; run++) {
      const actions = drawActions(level);
      const seq = { label: 'attack' as const, species: name, name: `${name}/${run}`, frames: await make(actions), actions, template };
      keep(level, seq);
      judged.push(await judgeSequence(engine, seq, level, config));
    }
  }
  const figures = padFigures(level, judged);
  report[level] = figures;
  process.stderr.write(`${level}: BPCER ${(100 * figures.bonaFide.bpcer).toFixed(1)} % (${figures.bonaFide.rejected}/${figures.bonaFide.sequences}) ${JSON.stringify(figures.bonaFide.reasons)}\n`);
  for (const [k, v] of Object.entries(figures.attacks)) process.stderr.write(`  ${k}: APCER ${(100 * v.apcer).toFixed(1)} % (${v.accepted}/${v.sequences}) stopped by ${JSON.stringify(v.stoppedBy)}\n`);
}
process.stdout.write(`${JSON.stringify({ runs, seed, seconds: Math.round((performance.now() - t0) / 1000), ...report })}\n`);
process.exit(0);
