// The page assets of views/static with content hashes: `sign-in.js` is published as
// `sign-in.<hash>.js`, so it can be cached for a year. Read once at start; node:fs and crypto only.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { projectRoot } from '../config/root.ts';

/** The content types of the files that are served; anything else in the folder is not. */
export const assetTypes: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
});

/** One served file. */
export interface Asset {
  /** The name in the folder, e.g. `sign-in.js`. */
  file: string;
  /** The published name, e.g. `sign-in.3f2a9c1b7d4e.js`. */
  hashed: string;
  body: Buffer;
  type: string;
  /** A strong ETag of the content. */
  etag: string;
}

/** Every servable file of a folder, by its folder name. */
export function buildAssetManifest(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of readdirSync(dir).sort()) {
    const type = assetTypes[extname(file)];
    if (!type) continue;
    const body = readFileSync(join(dir, file));
    const digest = createHash('sha256').update(body).digest('hex');
    const ext = extname(file);
    assets.set(file, { file, hashed: `${file.slice(0, -ext.length)}.${digest.slice(0, 12)}${ext}`, body, type, etag: `"${digest.slice(0, 24)}"` });
  }
  return assets;
}

/** The folder the pages' assets come from. */
export const staticDir = join(projectRoot, 'views', 'static');

const manifests = new Map<string, Map<string, Asset>>();

/** The manifest of a folder, read once per process: the pages' URLs and the server share it. */
export function assetManifest(dir: string = staticDir): Map<string, Asset> {
  let manifest = manifests.get(dir);
  if (!manifest) manifests.set(dir, (manifest = buildAssetManifest(dir)));
  return manifest;
}

/**
 * Third-party browser bundles, served from node_modules (never a CDN) at `/static/vendor/<name>.<hash>.js`:
 * @simplewebauthn/browser's UMD bundle (the passkey step). Pages name them `vendor/<file>`.
 */
export const vendorDir = join(projectRoot, 'node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle');

/** The URL of an asset as the pages reference it (hashed); an unknown name is a programming error. */
export function assetUrl(file: string): string {
  if (file.startsWith('vendor/')) {
    const vendor = assetManifest(vendorDir).get(file.slice('vendor/'.length));
    if (!vendor) throw new Error(`no asset named ${file} in ${vendorDir}`);
    return `/static/vendor/${vendor.hashed}`;
  }
  const asset = assetManifest().get(file);
  if (!asset) throw new Error(`no asset named ${file} in views/static`);
  return `/static/${asset.hashed}`;
}
