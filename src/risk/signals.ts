// Injection signals of one submission, cheap and before the face engine: client capture times
// (epoch ms) that fall outside the capture session or come faster than a camera delivers, and
// image metadata naming editing software (EXIF Software / ProcessingSoftware, XMP CreatorTool).
// Runs on the main thread: every read of the uploaded bytes is capped in size and linear in time.
import exifReader from 'exif-reader';
import sharp, { type Metadata } from 'sharp';
import type { Config } from '../../config/schema.ts';

export type InjectionFlag = 'fast_frames' | 'editing_software' | 'timestamp_outside_session';
export type ReplayFlag = 'replayed_frame' | 'duplicate_frame';
export type RiskFlag = InjectionFlag | ReplayFlag;

export type TimingInput = { timestamps?: number[]; sessionStart: number; sessionEnd: number; now: number };

/** Flags from the client capture times; `details` says what was seen (for the audit trail). */
export function timingFlags({ timestamps, sessionStart, sessionEnd, now }: TimingInput, signals: Config['risk']['signals']): { flags: InjectionFlag[]; details: Record<string, number> } {
  if (!timestamps?.length) return { flags: [], details: {} };
  const flags: InjectionFlag[] = [];
  const gaps = timestamps.slice(1).map((t, i) => t - timestamps[i]);
  const minGapMs = gaps.length ? Math.min(...gaps) : Infinity;
  if (minGapMs < signals.minFrameIntervalMs) flags.push('fast_frames');
  const skew = signals.clockSkewSeconds * 1000;
  const from = sessionStart - skew;
  const to = Math.min(sessionEnd, now) + skew;
  if (timestamps.some((t) => t < from || t > to)) flags.push('timestamp_outside_session');
  return { flags, details: { ...(gaps.length ? { minGapMs } : {}), firstOffsetMs: timestamps[0] - sessionStart } };
}

/** Bytes of an XMP packet scanned: CreatorTool sits in its first rdf:Description, and a PNG iTXt chunk can hold megabytes. */
const xmpScanBytes = 64 * 1024;

// Bounded quantifiers only: each 'CreatorTool' costs at most a few hundred steps, so the scan is
// linear in the packet. The former `[^>]*` rescanned to the end from every opening: quadratic,
// 35 s of main thread for a 1 MB packet.
const creatorTool = /CreatorTool(?:="([^"<]{1,200})"|='([^'<]{1,200})'|[^<>]{0,200}>([^<]{1,200})<)/g;

/** The XMP CreatorTool values, as an element (`<xmp:CreatorTool>X</…>`) or an attribute (`xmp:CreatorTool="X"`). */
export function creatorToolsOf(xmp: string): string[] {
  return [...xmp.matchAll(creatorTool)].map((m) => (m[1] ?? m[2] ?? m[3]).trim()).filter(Boolean);
}

/** The editing software a frame's metadata names, if it is on the configured list. */
export async function editingSoftwareOf(frame: Uint8Array, names: readonly string[]): Promise<string | undefined> {
  let meta: Metadata;
  try {
    meta = await sharp(frame).metadata();
  } catch {
    return undefined; // not an image: the face engine answers with the proper code
  }
  const texts: string[] = [];
  if (meta.exif) {
    try {
      const exif = exifReader(meta.exif);
      for (const v of [exif.Image?.Software, exif.Image?.ProcessingSoftware]) if (typeof v === 'string') texts.push(v);
    } catch {
      // unreadable EXIF: nothing to say
    }
  }
  if (meta.xmp) texts.push(...creatorToolsOf(meta.xmp.subarray(0, xmpScanBytes).toString('utf8')));
  const text = texts.join(' ').toLowerCase();
  const hit = names.find((n) => text.includes(n.toLowerCase()));
  return hit ? texts.join(' ').slice(0, 80) : undefined;
}

/** Flags from the frames' metadata: the software named, per frame (for the audit trail). */
export async function metadataFlags(frames: Uint8Array[], signals: Config['risk']['signals']): Promise<{ flags: InjectionFlag[]; software: string[] }> {
  const found = (await Promise.all(frames.map((f) => editingSoftwareOf(f, signals.editingSoftware)))).filter((s): s is string => Boolean(s));
  return { flags: found.length ? ['editing_software'] : [], software: [...new Set(found)] };
}
