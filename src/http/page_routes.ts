/**
 * `GET /` (the verification page) and `GET /static/*` (its assets).
 *
 * The page's initial data is fetched in-process from the JSON API (`api.request(...)`, no network): the server
 * render reads exactly the JSON the browser later polls, through the same validation and error mapping, and
 * shares the fetch code with the islands (`src/page/page_data.ts`). `api` is the sub-app holding the data
 * routes, handed over by `createApp`; the internal requests carry the page request's id.
 */
import { Hono } from "hono";
import type { Config } from "../config.ts";
import type { SourceKind } from "../core/vocabulary.ts";
import { fetchPageData, type PageFetch } from "../page/page_data.ts";
import { parseLive, resolveSelection, type SelectionContext, selectionOptions } from "../page/selection.ts";
import type { PageConfig, SignalOption } from "../page/types.ts";
import { SignalsResponseSchema } from "../schemas.ts";
import type { AppEnv } from "./env.ts";
import { renderPage } from "./page_document.tsx";
import { problemBody, problemResponse } from "./problem.ts";
import {
  createStaticAssets,
  STATIC_DIR,
  type StaticAssets,
  type StaticAssetsOptions,
} from "./static_assets.ts";

/** The page's files under `static/`, with their content types; nothing else there is reachable. */
export const PAGE_ASSETS: StaticAssetsOptions["files"] = Object.freeze({
  "islands.js": { contentType: "text/javascript; charset=utf-8" },
  "page.css": { contentType: "text/css; charset=utf-8" },
  "uPlot.min.css": { contentType: "text/css; charset=utf-8" },
  "favicon.svg": { contentType: "image/svg+xml" },
});

/** The page's assets, served as `/static/<name>`. */
export function createPageAssets(
  { dir = STATIC_DIR, readFile }: Partial<Pick<StaticAssetsOptions, "dir" | "readFile">> = {},
): StaticAssets {
  return createStaticAssets({ dir, files: PAGE_ASSETS, prefix: "/static/", readFile });
}

/** Anything that answers requests like `app.request` (the API sub-app in production). */
export interface PageApi {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** What the page reads besides the API. */
export interface PageDeps {
  config: Pick<Config, "windows" | "maxWindowSec" | "persistence" | "engineVersion">;
  source: { kind: SourceKind };
  /** The service's clock: the chart's time range ends at its now (the API's own clock). */
  now?: () => number;
}

export interface PageOptions {
  api: PageApi;
  assets?: StaticAssets;
  /** Live refresh period in the browser, ms. */
  pollMs?: number;
  /** History rows shown. */
  historyLimit?: number;
  /** Points in the chart's series. */
  seriesPoints?: number;
}

export function pageRoutes(deps: PageDeps, options: PageOptions): Hono<AppEnv> {
  const { config, source } = deps;
  const { api, pollMs = 10_000, historyLimit = 25, seriesPoints = 120 } = options;
  const assets = options.assets ?? createPageAssets();
  const app = new Hono<AppEnv>();

  app.get("/", async (c) => {
    // Internal requests carry the page request's id (one id in every log line) and its credentials.
    const forwarded: Record<string, string> = {};
    const id = c.get("requestId");
    if (id) forwarded["X-Request-ID"] = id;
    const authorization = c.req.header("Authorization");
    if (authorization) forwarded.Authorization = authorization;
    const internal: PageFetch = async (path, init) => {
      const headers = new Headers(init?.headers);
      for (const [name, value] of Object.entries(forwarded)) headers.set(name, value);
      return await api.request(path, { ...init, headers });
    };

    const signalsResponse = await internal("/coherence/signals");
    const parsed = SignalsResponseSchema.safeParse(signalsResponse.ok ? await signalsResponse.json() : null);
    const signals: SignalOption[] = parsed.success
      ? parsed.data.signals.map(({ signal, n }) => ({ signal, n }))
      : [];
    const context: SelectionContext = {
      signals,
      configuredWindowsSec: config.windows,
      maxWindowSec: config.maxWindowSec,
      activeStore: config.persistence,
    };
    const { selection, notices } = resolveSelection(c.req.query(), context);
    const live = parseLive(c.req.query("live"));
    const pageConfig: PageConfig = { selection, live, pollMs, historyLimit, seriesPoints };
    const { page } = await fetchPageData(selection, pageConfig, {
      fetch: internal,
      withSignals: false,
      now: deps.now ?? Date.now,
    });
    if (!parsed.success) page.errors.unshift("signals: the signal list could not be read");

    const [islandsJs, pageCss, uplotCss, favicon] = await Promise.all(
      ["islands.js", "page.css", "uPlot.min.css", "favicon.svg"].map((name) => assets.url(name)),
    );
    const html = renderPage({
      config: pageConfig,
      data: page,
      options: selectionOptions(selection, context),
      notices,
      assets: { islandsJs, pageCss, uplotCss, favicon },
      service: { version: config.engineVersion, source: source.kind },
    });
    // Security headers (a strict CSP among them) come from the app's secureHeaders middleware; the page has no
    // inline script, style or handler, so it needs no exception.
    return c.html(html, 200, { "Cache-Control": "no-cache" });
  });

  app.on(["GET", "HEAD"], "/static/:name", async (c) => {
    const response = await assets.respond(c.req.param("name"), c.req.raw);
    if (response !== null) return response;
    return problemResponse(
      c,
      problemBody("not-found", `No static asset "${c.req.param("name")}"`, {
        requestId: c.get("requestId"),
      }),
    );
  });

  return app;
}
