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
    app.use(serveStatic(staticDir));
    server = app.listen(0);
  });
  afterAll(() => new Promise<void>((resolve) => { server.close(() => resolve()); }));

  it('names every served file by a hash of its content', () => {
    const manifest = buildAssetManifest(staticDir);
    for (const file of ['sign-in.js', 'capture-plan.js', 'ui.js', 'camera.js', 'live-hints.js', 'enroll.js', 'facegate.css']) {
      const asset = manifest.get(file)!;
      expect(asset.hashed).toMatch(/^[a-z-]+\.[0-9a-f]{12}\.(js|css)$/);
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
    expect(refs).toHaveLength(6);
    for (const ref of refs) expect(hashed.has(ref)).toBe(true);
    expect(readdirSync(staticDir)).toContain('sign-in.js');
  });
});
