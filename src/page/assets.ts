/**
 * The page's static assets (`static/`): the islands bundle, uPlot's CSS, the page CSS and the icon. Located
 * from this module's own path, so `deno compile --include static` embeds them; read once and kept in memory
 * with a content hash. Pages link `/static/<name>?v=<hash>`: a request carrying the current hash is cached for
 * a year (`immutable`), any other revalidates with the ETag.
 */
import { join } from "node:path";

/** `static/` at the repository root (two levels above `src/page/`). */
export const STATIC_DIR = join(import.meta.dirname ?? ".", "..", "..", "static");

/** The files served, with their content types; nothing else under `static/` is reachable. */
export const ASSET_TYPES: Readonly<Record<string, string>> = Object.freeze({
  "islands.js": "text/javascript; charset=utf-8",
  "page.css": "text/css; charset=utf-8",
  "uPlot.min.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
});

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "public, max-age=0, must-revalidate";

export interface Asset {
  name: string;
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** First 16 hex digits of the SHA-256 of the body. */
  hash: string;
  etag: string;
}

export interface AssetsOptions {
  dir?: string;
  readFile?: (path: string) => Promise<Uint8Array<ArrayBuffer>>;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Does an If-None-Match header list this ETag (or `*`)? */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((part) => {
    const tag = part.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

export function createAssets({ dir = STATIC_DIR, readFile = Deno.readFile }: AssetsOptions = {}) {
  const loaded = new Map<string, Promise<Asset | null>>();

  async function load(name: string): Promise<Asset | null> {
    const contentType = ASSET_TYPES[name];
    if (contentType === undefined) return null;
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await readFile(join(dir, name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    const hash = (await sha256Hex(body)).slice(0, 16);
    return { name, body, contentType, hash, etag: `"${hash}"` };
  }

  /** The asset, read once per process (a missing file is retried on the next call). */
  function get(name: string): Promise<Asset | null> {
    if (!Object.hasOwn(ASSET_TYPES, name)) return Promise.resolve(null);
    let entry = loaded.get(name);
    if (entry === undefined) {
      entry = load(name).then((asset) => {
        if (asset === null) loaded.delete(name);
        return asset;
      });
      loaded.set(name, entry);
    }
    return entry;
  }

  /** The versioned URL pages link to: `/static/islands.js?v=<hash>` (unversioned when the file is missing). */
  async function url(name: string): Promise<string> {
    const asset = await get(name);
    return asset ? `/static/${name}?v=${asset.hash}` : `/static/${name}`;
  }

  /** The response for `GET /static/<name>`; null when there is no such asset. */
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

export type Assets = ReturnType<typeof createAssets>;
