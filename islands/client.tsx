/**
 * The client entry (bundled into `static/islands.js` by `deno task build:islands`): reads the page config,
 * starts live refresh, and hydrates every `[data-island]` element with its component and JSON props.
 */
import { h, hydrate } from "preact";
import { PAGE_CONFIG_ID, type PageConfig } from "../src/page/types.ts";
import { hydrated, startLive } from "./live.ts";
import { isIslandName, ISLANDS } from "./registry.ts";

function readConfig(): PageConfig | null {
  const text = document.getElementById(PAGE_CONFIG_ID)?.textContent;
  return text ? JSON.parse(text) : null;
}

function hydrateIslands(): void {
  const config = readConfig();
  if (config === null) {
    console.error(`coherence page: #${PAGE_CONFIG_ID} is missing; the islands stay static`);
    return;
  }
  startLive(config);
  for (const element of document.querySelectorAll<HTMLElement>("[data-island]")) {
    const name = element.dataset.island ?? "";
    if (!isIslandName(name)) {
      console.error(`coherence page: unknown island "${name}"`);
      continue;
    }
    const props = JSON.parse(element.dataset.props ?? "{}");
    // deno-lint-ignore no-explicit-any
    hydrate(h(ISLANDS[name] as any, props), element);
  }
  hydrated.value = true;
}

hydrateIslands();
