/**
 * The verification page's HTML, rendered on the server with preact-render-to-string. Each island is wrapped
 * HonoX-style in `<div data-island="Name" data-props="{…}">`; the client entry hydrates them from there. No
 * inline script or style: the page config travels in a `<script type="application/json">`, which a strict CSP
 * allows, and the styles are served files.
 */
import type { JSX } from "preact";
import { renderToString } from "preact-render-to-string";
import { type IslandName, type IslandProps, ISLANDS } from "../../islands/registry.ts";
import { PAGE_CONFIG_ID, type PageConfig, type PageData, type SelectionOptions } from "../page/types.ts";

export interface AssetUrls {
  islandsJs: string;
  pageCss: string;
  uplotCss: string;
  favicon: string;
}

export interface PageModel {
  config: PageConfig;
  data: PageData;
  options: SelectionOptions;
  notices: string[];
  assets: AssetUrls;
  service: { version: string; source: string };
}

/** JSON safe inside HTML `<script>` text: `<` is escaped, so no `</script>` or `<!--` can appear. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

function Island<K extends IslandName>({ name, props }: { name: K; props: IslandProps<K> }) {
  const Component = ISLANDS[name] as (props: IslandProps<K>) => JSX.Element;
  return (
    <div class={`island island-${name}`} data-island={name} data-props={JSON.stringify(props)}>
      <Component {...props} />
    </div>
  );
}

export function PageDocument({ config, data, options, notices, assets, service }: PageModel) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>Coherence Engine · verification</title>
        <link rel="icon" type="image/svg+xml" href={assets.favicon} />
        <link rel="stylesheet" href={assets.uplotCss} />
        <link rel="stylesheet" href={assets.pageCss} />
        <script type="module" src={assets.islandsJs} />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to the data</a>
        <header class="topbar">
          <h1>
            Coherence Engine <span class="subtitle">verification page</span>
          </h1>
          <nav aria-label="API">
            <a href="/status">/status</a>
            <a href="/docs">/docs</a>
            <a href="/openapi.json">/openapi.json</a>
          </nav>
        </header>
        <div class="layout">
          <aside class="sidebar" aria-label="Selection">
            <Island
              name="Controls"
              props={{
                selection: data.selection,
                options,
                notices,
                errors: data.errors,
                renderedAt: data.fetchedAt,
                live: config.live,
              }}
            />
          </aside>
          <main id="main" class="main">
            {/* Reading order (and the phone's order): verdict, chart, table; a wide screen puts the chart on top. */}
            <Island
              name="RiskPanel"
              props={{
                metrics: data.metrics,
                predict: data.predict,
                backtest: data.backtest,
                selection: data.selection,
              }}
            />
            <Island
              name="TrendChart"
              props={{
                series: data.series,
                predict: data.predict,
                range: data.selection.range,
                transitions: data.transitions,
              }}
            />
            <Island name="AlertList" props={{ alerts: data.alerts, selection: data.selection }} />
            <Island name="HistoryTable" props={{ history: data.history, selection: data.selection }} />
          </main>
        </div>
        <footer class="footer">
          Engine {service.version} · source {service.source}{" "}
          · every number here comes from the JSON API and is explained by it.
        </footer>
        <script
          type="application/json"
          id={PAGE_CONFIG_ID}
          dangerouslySetInnerHTML={{ __html: jsonForScript(config) }}
        />
      </body>
    </html>
  );
}

/** The whole document as text. */
export function renderPage(model: PageModel): string {
  return `<!DOCTYPE html>${renderToString(<PageDocument {...model} />)}`;
}
