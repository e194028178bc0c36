import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { assetUrl, buildAssetManifest, renderSignIn, staticDir } from '../../../views/index.ts';
import { serveStatic } from '../../../src/server/static.ts';

describe('static assets', () => {
  let server: Server;
  beforeAll(() => {
    const app = new Koa();
    app.use(serveStatic(staticDir, '/static/', { '/favicon.ico': 'favicon.svg' }));
    server = app.listen(0);
  });
  afterAll(() => new Promise<void>((resolve) => { server.close(() => resolve()); }));

  it('names every served file by a hash of its content', () => {
    const manifest = buildAssetManifest(staticDir);
    for (const file of ['sign-in.js', 'capture-plan.js', 'ui.js', 'camera.js', 'live-hints.js', 'enroll.js', 'facegate.css', 'favicon.svg']) {
      const asset = manifest.get(file)!;
      expect(asset.hashed).toMatch(/^[a-z-]+\.[0-9a-f]{12}\.(js|css|svg)$/);
      expect(asset.body.equals(readFileSync(join(staticDir, file)))).toBe(true);
      expect(assetUrl(file)).toBe(`/static/${asset.hashed}`);
    }
    expect(() => assetUrl('nope.js')).toThrow('no asset named nope.js');
  });

  it('serves a hashed URL with a year of immutable caching', async () => {
    const url = assetUrl('sign-in.js');
    const res = await request(server).get(url);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(res.text).toBe(readFileSync(join(staticDir, 'sign-in.js'), 'utf8'));
    const css = await request(server).head(assetUrl('facegate.css'));
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('still serves the plain name, revalidated by ETag', async () => {
    const res = await request(server).get('/static/sign-in.js');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    const again = await request(server).get('/static/sign-in.js').set('If-None-Match', res.headers.etag);
    expect(again.status).toBe(304);
  });

  it.each([
    '/static/nope.js', '/static/sign-in.000000000000.js', '/static/../package.json', '/static/%2e%2e/package.json',
    '/static/README.md', '/static/', '/static/sign-in.js/', '/static/static/sign-in.js',
  ])('answers 404 for %s', async (path) => {
    expect((await request(server).get(path)).status).toBe(404);
  });

  it('serves the favicon as SVG at its hashed URL and at /favicon.ico', async () => {
    const hashed = await request(server).get(assetUrl('favicon.svg'));
    expect(hashed.status).toBe(200);
    expect(hashed.headers['content-type']).toBe('image/svg+xml');
    expect(hashed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const svg = hashed.body instanceof Buffer ? hashed.body.toString('utf8') : hashed.text;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 32 32">/);
    expect(svg).not.toMatch(/<script|href=|url\(/i); // self-contained, nothing to fetch or run
    const ico = await request(server).get('/favicon.ico');
    expect(ico.status).toBe(200);
    expect(ico.headers['content-type']).toBe('image/svg+xml');
    expect(ico.headers['cache-control']).toBe('public, max-age=86400');
    expect(ico.headers.etag).toBe(hashed.headers.etag);
    expect((await request(server).get('/favicon.ico').set('If-None-Match', ico.headers.etag)).status).toBe(304);
    expect((await request(server).head('/favicon.ico')).status).toBe(200);
  });

  it('answers only the aliases it was given outside the prefix', async () => {
    for (const path of ['/favicon.svg', '/favicon.ico/', '/facegate.css', '/static/favicon.ico']) {
      expect((await request(server).get(path)).status).toBe(404);
    }
    expect(() => serveStatic(staticDir, '/static/', { '/x.ico': 'nope.svg' })).toThrow('no asset named nope.svg');
  });

  it('refuses other methods', async () => {
    expect((await request(server).post(assetUrl('ui.js'))).status).toBe(404);
  });

  it('the pages reference only assets that exist', () => {
    const page = renderSignIn({
      uid: 'u', clientName: 'c', acr: 'high', claims: [], csrf: 't',
      endpoints: { capture: '/c', verify: '/v', quality: '/q', abort: '/a' },
    });
    const hashed = new Set([...buildAssetManifest(staticDir).values()].map((a) => `/static/${a.hashed}`));
    const refs = [...page.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
    expect(refs).toHaveLength(7); // the favicon, the stylesheet and five scripts
    for (const ref of refs) expect(hashed.has(ref)).toBe(true);
    expect(readdirSync(staticDir)).toContain('sign-in.js');
  });
});
