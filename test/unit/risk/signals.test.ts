// Keys, networks and the injection signals of src/risk: HMACs never equal the raw value, /24 and
// /64 networks, capture times against the session, and EXIF or XMP naming editing software.
import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { loadConfig } from '../../../config/load.ts';
import { createRiskKeys, networkOf } from '../../../src/risk/keys.ts';
import { digestsOf } from '../../../src/risk/replay.ts';
import { creatorToolsOf, editingSoftwareOf, timingFlags } from '../../../src/risk/signals.ts';

const signals = loadConfig({ NODE_ENV: 'test' }).risk.signals;

describe('risk keys', () => {
  it('groups addresses by /24 and /64, IPv4-mapped IPv6 as IPv4', () => {
    expect(networkOf('192.0.2.17')).toBe('192.0.2.0/24');
    expect(networkOf('::ffff:192.0.2.200')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8:0:12:abcd::1')).toBe('2001:db8:0:12::/64');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(networkOf('not an address')).toBe('unknown');
  });

  it('keys by HMAC: never the raw value, distinct per kind and per secret', () => {
    const a = createRiskKeys('a'.repeat(32));
    const b = createRiskKeys('b'.repeat(32));
    expect(a.id('AB123456')).not.toContain('AB123456');
    expect(a.id('AB123456')).toBe(a.id('AB123456'));
    expect(a.id('AB123456')).not.toBe(b.id('AB123456'));
    expect(a.id('192.0.2.1')).not.toBe(a.ip('192.0.2.1'));
    expect(a.network('192.0.2.1')).toBe(a.network('192.0.2.99'));
  });
});

describe('injection signals', () => {
  const start = Date.UTC(2026, 10, 28, 8, 0, 0);
  const session = { sessionStart: start, sessionEnd: start + 300_000, now: start + 60_000 };

  it('accepts camera-paced capture times inside the session', () => {
    expect(timingFlags({ ...session, timestamps: [start + 1000, start + 1400, start + 1800] }, signals).flags).toEqual([]);
    expect(timingFlags({ ...session }, signals).flags).toEqual([]);
  });

  it('flags frames closer together than a camera delivers', () => {
    expect(timingFlags({ ...session, timestamps: [start + 1000, start + 1005] }, signals)).toMatchObject({ flags: ['fast_frames'], details: { minGapMs: 5 } });
  });

  it('flags capture times outside the session (beyond the clock tolerance), or not epoch ms', () => {
    const skew = signals.clockSkewSeconds * 1000;
    expect(timingFlags({ ...session, timestamps: [start - skew - 1] }, signals).flags).toEqual(['timestamp_outside_session']);
    expect(timingFlags({ ...session, timestamps: [session.now + skew + 1] }, signals).flags).toEqual(['timestamp_outside_session']);
    expect(timingFlags({ ...session, timestamps: [start - skew + 1] }, signals).flags).toEqual([]);
    expect(timingFlags({ ...session, timestamps: [1200, 1600] }, signals).flags).toEqual(['timestamp_outside_session']);
  });

  it('names editing software from the EXIF Software tag, and nothing for a camera frame', async () => {
    const plain = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const edited = await sharp(plain).withExif({ IFD0: { Software: 'Adobe Photoshop CC 2017 (Macintosh)' } }).jpeg().toBuffer();
    const phone = await sharp(plain).withExif({ IFD0: { Software: '17.1.2', Make: 'Apple' } }).jpeg().toBuffer();
    expect(await editingSoftwareOf(edited, signals.editingSoftware)).toContain('Adobe Photoshop CC 2017');
    expect(await editingSoftwareOf(phone, signals.editingSoftware)).toBeUndefined();
    expect(await editingSoftwareOf(plain, signals.editingSoftware)).toBeUndefined();
    expect(await editingSoftwareOf(Buffer.from('not an image'), signals.editingSoftware)).toBeUndefined();
  });

  /** A PNG whose XMP packet is `body` inside an rdf:Description (sharp writes it as an iTXt chunk). */
  const withXmp = async (body: string): Promise<Buffer> => {
    const plain = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).png().toBuffer();
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${body}</rdf:RDF></x:xmpmeta>`;
    return sharp(plain).withXmp(xmp).png().toBuffer();
  };
  const ns = 'rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"';

  it('names editing software from the XMP CreatorTool, as an element or an attribute', async () => {
    const element = await withXmp(`<rdf:Description ${ns}><xmp:CreatorTool>Adobe Photoshop 25.0 (Windows)</xmp:CreatorTool></rdf:Description>`);
    const attribute = await withXmp(`<rdf:Description ${ns} xmp:CreatorTool="GIMP 2.10"/>`);
    const camera = await withXmp(`<rdf:Description ${ns}><xmp:CreatorTool>Pixel 8 camera</xmp:CreatorTool></rdf:Description>`);
    expect(await editingSoftwareOf(element, signals.editingSoftware)).toContain('Adobe Photoshop 25.0');
    expect(await editingSoftwareOf(attribute, signals.editingSoftware)).toContain('GIMP 2.10');
    expect(await editingSoftwareOf(camera, signals.editingSoftware)).toBeUndefined();
  });

  // 1 MB of '<CreatorTool' openings with no '>': a regex scanning to the next '>' from each one
  // is quadratic (tens of seconds of main thread); the capped, linear scan takes milliseconds.
  it('scans a PNG with a 1 MB XMP packet of CreatorTool openings in well under a second', async () => {
    const frame = await withXmp('<CreatorTool'.repeat(87_000));
    const started = performance.now();
    const software = await editingSoftwareOf(frame, signals.editingSoftware);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(software).toBeUndefined();
  });

  it('matches CreatorTool in time linear in the text, whatever its size', () => {
    const started = performance.now();
    expect(creatorToolsOf('CreatorTool'.repeat(95_000))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('digests each frame with sha256', () => {
    expect(digestsOf([Buffer.from('abc')])).toEqual(['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad']);
  });
});
