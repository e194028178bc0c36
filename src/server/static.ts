// The page assets under views/static, read once at start. Hashed names (`sign-in.<hash>.js`, what
// the pages reference) are cached for a year as immutable; the plain names still answer, revalidated
// by ETag. A fixed list: nothing outside that folder can be named by a request.
import type { Middleware } from 'koa';
import { assetManifest, type Asset } from '../../views/assets.ts';

/**
 * Serves the files of `dir` at `<prefix><hashed name>` (immutable) and `<prefix><name>` (no-cache).
 * `aliases` maps a fixed path outside the prefix to one of them (`/favicon.ico` → `favicon.svg`,
 * for clients that ask there without reading the page's `<link rel="icon">`), cached a day.
 */
export function serveStatic(dir: string, prefix = '/static/', aliases: Readonly<Record<string, string>> = {}): Middleware {
  const byName = assetManifest(dir);
  const files = new Map<string, { asset: Asset; cache: string }>();
  for (const asset of byName.values()) {
    files.set(asset.hashed, { asset, cache: 'public, max-age=31536000, immutable' });
    files.set(asset.file, { asset, cache: 'no-cache' });
  }
  const aliased = new Map<string, { asset: Asset; cache: string }>();
  for (const [path, file] of Object.entries(aliases)) {
    const asset = byName.get(file);
    if (!asset) throw new Error(`alias ${path}: no asset named ${file} in ${dir}`);
    aliased.set(path, { asset, cache: 'public, max-age=86400' });
  }
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const found = ctx.path.startsWith(prefix) ? files.get(ctx.path.slice(prefix.length)) : aliased.get(ctx.path);
    if (!found) return next();
    const { asset, cache } = found;
    ctx.set('ETag', asset.etag);
    ctx.set('Cache-Control', cache);
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}
