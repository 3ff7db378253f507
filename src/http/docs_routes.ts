/**
 * `GET /openapi.json` (the document `openapi.ts` builds) and `GET /docs` (Swagger UI, served by the service
 * itself from `static/vendor/`: no CDN, works offline and in the binary).
 */
import { Hono } from "hono";
import { compress } from "hono/compress";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { escapeHtml } from "./encoding.ts";
import type { AppEnv } from "./env.ts";
import { sendProblem } from "./problem.ts";
import { type AssetFile, createStaticAssets } from "./static_assets.ts";

/** `static/vendor/` at the repository root, located from this module so `deno compile --include static` embeds it. */
export const VENDOR_DIR = join(import.meta.dirname ?? ".", "..", "..", "static", "vendor");

/** The files `/docs` needs, by the name they are served under (`/docs/assets/<name>`). */
export const DOCS_ASSETS: Readonly<Record<string, AssetFile>> = Object.freeze({
  "swagger-ui.css": { file: "swagger-ui/swagger-ui.css", contentType: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": {
    file: "swagger-ui/swagger-ui-bundle.js",
    contentType: "text/javascript; charset=utf-8",
  },
  "docs.js": { file: "docs.js", contentType: "text/javascript; charset=utf-8" },
});

export interface DocsOptions {
  config: Pick<Config, "engineVersion">;
  /** The OpenAPI document (`openapi.ts`), asked for on each request: built once every route is registered. */
  document: () => object;
  dir?: string;
  readFile?: (path: string) => Promise<Uint8Array<ArrayBuffer>>;
}

/** `/openapi.json`, `/docs` and `/docs/assets/:name`. */
export function docsRoutes({ config, document, dir = VENDOR_DIR, readFile }: DocsOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const assets = createStaticAssets({ dir, files: DOCS_ASSETS, prefix: "/docs/assets/", readFile });

  app.get("/openapi.json", (c) => c.json(document(), 200, { "Cache-Control": "no-cache" }));

  app.get("/docs", async (c) => {
    const [css, bundle, init] = await Promise.all(
      ["swagger-ui.css", "swagger-ui-bundle.js", "docs.js"].map(assets.url),
    );
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coherence Engine API ${escapeHtml(config.engineVersion)}</title>
<link rel="stylesheet" href="${css}">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-url="/openapi.json"></div>
<script src="${bundle}"></script>
<script src="${init}"></script>
</body>
</html>
`;
    return c.html(html, 200, { "Cache-Control": "no-cache" });
  });

  app.use("/docs/assets/*", compress());
  app.get("/docs/assets/:name", async (c) => {
    const name = c.req.param("name");
    return await assets.respond(name, c.req.raw) ?? sendProblem(c, "not-found", `No docs asset "${name}"`);
  });

  return app;
}
