/**
 * `GET /` (the verification page) and `GET /static/*` (its assets).
 *
 * The page's initial data is fetched in-process through the app itself (`api.request(...)`, no network): the
 * server render reads exactly the JSON the browser later polls, through the same validation, error mapping
 * and logging (with the page request's id), and shares the fetch code with the islands. The routes are
 * mounted after the API, so `api` is the whole app.
 */
import { Hono } from "hono";
import { fetchPageData, type PageFetch } from "../../islands/live.ts";
import type { AppDeps, AppEnv } from "../http/app.ts";
import { problemBody, problemResponse } from "../http/problem.ts";
import { SignalsResponseSchema } from "../schemas.ts";
import { type Assets, createAssets } from "./assets.ts";
import { renderPage } from "./document.tsx";
import { resolveSelection, type SelectionContext, selectionOptions } from "./selection.ts";
import type { PageConfig, SignalOption } from "./types.ts";

/** Anything that answers requests like `app.request` (the app itself in production). */
export interface PageApi {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

export interface PageOptions {
  api: PageApi;
  assets?: Assets;
  /** Live refresh period in the browser, ms. */
  pollMs?: number;
  /** History rows shown. */
  historyLimit?: number;
  /** Points in the chart's series. */
  seriesPoints?: number;
}

export function pageRoutes(deps: Pick<AppDeps, "config" | "source">, options: PageOptions): Hono<AppEnv> {
  const { config, source } = deps;
  const { api, pollMs = 10_000, historyLimit = 25, seriesPoints = 120 } = options;
  const assets = options.assets ?? createAssets();
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
    const pageConfig: PageConfig = { selection, pollMs, historyLimit, seriesPoints };
    const { page } = await fetchPageData(selection, pageConfig, { fetch: internal, withSignals: false });
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
