// Motion-JPEG streams (a camera's or Chromium's fake-camera file format): splitting into frames
// and joining frames back. A frame is one complete JPEG, SOI (FFD8) to EOI (FFD9).

/** The JPEG frames of an MJPEG byte stream, in order. */
export function splitMjpeg(stream: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 1 < stream.length; i++) {
    if (stream[i] !== 0xff) continue;
    const marker = stream[i + 1];
    if (marker === 0xd8 && start < 0) start = i;
    else if (marker === 0xd9 && start >= 0) {
      frames.push(stream.subarray(start, i + 2));
      start = -1;
      i++;
    } else if (start >= 0 && marker >= 0xc0 && marker !== 0xff && marker !== 0x00 && !(marker >= 0xd0 && marker <= 0xd7) && marker !== 0xd8) {
      // Skip a marker segment by its length so that bytes inside it (e.g. an EXIF thumbnail) are not read as markers.
      const length = (stream[i + 2] << 8) | stream[i + 3];
      if (marker === 0xda) continue; // scan data follows; entropy-coded bytes escape 0xFF as FF00
      i += 1 + length;
    }
  }
  return frames;
}

export function joinMjpeg(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) { out.set(f, o); o += f.length; }
  return out;
}
