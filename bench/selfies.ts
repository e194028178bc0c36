// Benchmark inputs: 640x480 JPEG "selfies" cut from the shared stills around the dominant face
// (face about 40% of the frame width, like a phone held at arm's length), quality 85.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FaceEngine } from '../src/biometrics/engine.ts';

export interface Selfie { identity: string; file: string; bytes: Buffer }

export async function makeSelfies(engine: FaceEngine, dataDir: string): Promise<Selfie[]> {
  const root = join(dataDir, 'faces');
  const out: Selfie[] = [];
  for (const identity of readdirSync(root).filter((d) => !d.startsWith('_')).sort()) {
    for (const file of readdirSync(join(root, identity)).sort()) {
      const src = readFileSync(join(root, identity, file));
      const a = await engine.analyze(src, { embed: false, liveness: false });
      if (!a.face) continue;
      const { x1, y1, x2, y2 } = a.face.box;
      const w = Math.min((x2 - x1) / 0.4, a.image.width, (a.image.height * 4) / 3);
      const h = (w * 3) / 4;
      const left = Math.max(0, Math.min(a.image.width - w, (x1 + x2) / 2 - w / 2));
      const top = Math.max(0, Math.min(a.image.height - h, (y1 + y2) / 2 - h / 2));
      const bytes = await sharp(src).rotate().removeAlpha()
        .extract({ left: Math.round(left), top: Math.round(top), width: Math.floor(w), height: Math.floor(h) })
        .resize(640, 480, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
      out.push({ identity, file, bytes });
    }
  }
  return out;
}
