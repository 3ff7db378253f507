/**
 * Files served from disk under a URL prefix with a content hash: the page's assets (`/static/<name>`) and the
 * API reference's (`/docs/assets/<name>`). Each file is read once and kept in memory with the first 16 hex
 * digits of its SHA-256; pages link `<prefix><name>?v=<hash>`. A request carrying the current hash is cached
 * for a year (`immutable`), any other revalidates with the ETag (`If-None-Match` → 304). Directories are located
 * from this module's own path, so `deno compile --include static` embeds them.
 */
import { join } from "node:path";
import { sha256Hex } from "./encoding.ts";

/** `static/` at the repository root (two levels above `src/http/`). */
export const STATIC_DIR = join(import.meta.dirname ?? ".", "..", "..", "static");

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "public, max-age=0, must-revalidate";

/** A served file: its path under the directory (default: its name) and content type. */
export interface AssetFile {
  file?: string;
  contentType: string;
}

export interface Asset {
  name: string;
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** First 16 hex digits of the SHA-256 of the body. */
  hash: string;
  etag: string;
}

export interface StaticAssetsOptions {
  /** The directory the files are read from. */
  dir: string;
  /** The files served, by the name they are served under; nothing else in `dir` is reachable. */
  files: Readonly<Record<string, AssetFile>>;
  /** The URL path they are served under, ending in `/` (`/static/`). */
  prefix: string;
  readFile?: (path: string) => Promise<Uint8Array<ArrayBuffer>>;
}

/** Does an If-None-Match header list this ETag (or `*`)? */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((part) => {
    const tag = part.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

export function createStaticAssets({ dir, files, prefix, readFile = Deno.readFile }: StaticAssetsOptions) {
  const loaded = new Map<string, Promise<Asset | null>>();

  async function load(name: string, entry: AssetFile): Promise<Asset | null> {
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await readFile(join(dir, entry.file ?? name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    const hash = (await sha256Hex(body)).slice(0, 16);
    return { name, body, contentType: entry.contentType, hash, etag: `"${hash}"` };
  }

  /** The asset, read once per process (a missing or unreadable file is tried again on the next call). */
  function get(name: string): Promise<Asset | null> {
    if (!Object.hasOwn(files, name)) return Promise.resolve(null);
    let entry = loaded.get(name);
    if (entry === undefined) {
      entry = load(name, files[name]).then((asset) => {
        if (asset === null) loaded.delete(name);
        return asset;
      }, (error) => {
        loaded.delete(name);
        throw error;
      });
      loaded.set(name, entry);
    }
    return entry;
  }

  /** The versioned URL pages link to: `<prefix><name>?v=<hash>` (unversioned when the file is missing). */
  async function url(name: string): Promise<string> {
    const asset = await get(name);
    return asset ? `${prefix}${name}?v=${asset.hash}` : `${prefix}${name}`;
  }

  /** The response for `GET` or `HEAD <prefix><name>`; null when there is no such asset. */
  async function respond(name: string, request: Request): Promise<Response | null> {
    const asset = await get(name);
    if (asset === null) return null;
    const version = new URL(request.url).searchParams.get("v");
    const headers = new Headers({
      "Content-Type": asset.contentType,
      "Cache-Control": version === asset.hash ? IMMUTABLE : REVALIDATE,
      ETag: asset.etag,
      "X-Content-Type-Options": "nosniff",
    });
    if (matchesEtag(request.headers.get("If-None-Match"), asset.etag)) {
      headers.delete("Content-Type");
      return new Response(null, { status: 304, headers });
    }
    headers.set("Content-Length", String(asset.body.byteLength));
    return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
  }

  return { get, url, respond };
}

export type StaticAssets = ReturnType<typeof createStaticAssets>;
