/**
 * The module graph of `src/` and `islands/` has no import circles and no upward edges. The graph is Deno's own
 * (`deno info --json`: static imports, type-only ones included, resolved through the import map).
 */
import { deepEqual } from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl, pathToFileURL } from "node:url";
const toFileUrl = pathToFileURL;

const ROOT = fromFileUrl(new URL("..", import.meta.url)).replace(/\/$/, "");

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** The files under `dir` (relative to the repository) that are modules. */
async function modulesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await modulesUnder(path));
    else if (/\.tsx?$/.test(entry.name)) found.push(path);
  }
  return found.sort();
}

/** Static imports by module, repository-relative for local files, the specifier otherwise. */
async function importGraph(dirs: string[]): Promise<Map<string, Set<string>>> {
  const files = (await Promise.all(dirs.map(modulesUnder))).flat();
  const graph = new Map<string, Set<string>>();
  const name = (specifier: string) =>
    specifier.startsWith("file://") ? relative(ROOT, fromFileUrl(specifier)) : specifier;
  for (const file of files) {
    if (graph.has(file)) continue;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", toFileUrl(`${ROOT}/${file}`).href],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info ${file} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info: { modules: InfoModule[] } = JSON.parse(new TextDecoder().decode(output.stdout));
    for (const module of info.modules) {
      const from = name(module.specifier);
      if (graph.has(from) || !module.specifier.startsWith("file://")) continue;
      const edges = new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        if (dependency.isDynamic) continue;
        const target = dependency.code?.specifier ?? dependency.type?.specifier ?? dependency.specifier;
        edges.add(name(target));
      }
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-import): each is a circle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    order.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, order.get(next)!));
      }
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)!.has(node)) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!order.has(node)) visit(node);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** `src/<dir>` for a module in a folder of `src/`, `islands` for an island, else the module itself. */
function area(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "islands") return "islands";
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  return path;
}

/** The graph of areas: an edge wherever a module of one imports a module of another. */
function areaGraph(graph: Map<string, Set<string>>): Map<string, Set<string>> {
  const areas = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const edges = areas.get(area(from)) ?? new Set<string>();
    for (const to of targets) if (graph.has(to) && area(to) !== area(from)) edges.add(area(to));
    areas.set(area(from), edges);
  }
  return areas;
}

/** Imports that point the wrong way, as `from -> to`. */
function upwardEdges(graph: Map<string, Set<string>>): string[] {
  const rules: [string, (to: string) => boolean, string][] = [
    ["src/core/", (to) => !to.startsWith("src/core/"), "src/core imports only src/core"],
    ["src/http/", (to) => to.startsWith("src/ingest/"), "src/http imports nothing from src/ingest"],
    ["islands/", (to) => to.startsWith("src/http/"), "islands import nothing from src/http"],
    [
      "src/alerts/",
      (to) => to.startsWith("src/http/") || to.startsWith("src/ingest/"),
      "src/alerts imports nothing from src/http or src/ingest",
    ],
    ["src/page/", (to) => to.startsWith("src/http/") || to.startsWith("islands/"), "src/page is below both"],
    [
      "src/shared/",
      (to) => to.startsWith("src/http/") || to.startsWith("src/page/"),
      "src/shared is below http",
    ],
    ["src/http/", (to) => to.startsWith("src/shared/"), "src/http imports nothing from src/shared"],
  ];
  const found: string[] = [];
  for (const [from, targets] of graph) {
    for (const [prefix, wrong, rule] of rules) {
      if (!from.startsWith(prefix)) continue;
      for (const to of targets) if (wrong(to)) found.push(`${from} -> ${to} (${rule})`);
    }
  }
  return found.sort();
}

/** I/O and logging in a core module's code (sqlite and loggers would be imports, caught above). */
const CORE_FORBIDDEN = /\bDeno\.|\bfetch\(|\bconsole\./;

const graph = await importGraph(["src", "islands"]);

Deno.test("src/ and islands/ have no import circle between modules", () => {
  deepEqual(cycles(graph).map((cycle) => cycle.join(" <-> ")), []);
});

Deno.test("src/ and islands/ have no import circle between areas (src/<dir>, islands, top-level modules)", () => {
  deepEqual(cycles(areaGraph(graph)).map((cycle) => cycle.join(" <-> ")), []);
});

Deno.test("no upward imports: core imports only core, http no ingest or shared, islands no http, page neither, shared no http", () => {
  deepEqual(upwardEdges(graph), []);
});

Deno.test("src/core does no I/O and prints nothing (no Deno.*, fetch or console)", async () => {
  const offending: string[] = [];
  for (const path of [...graph.keys()].filter((path) => path.startsWith("src/core/"))) {
    const code = (await Deno.readTextFile(`${ROOT}/${path}`)).replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:])\/\/.*$/gm, "$1");
    const match = CORE_FORBIDDEN.exec(code);
    if (match) offending.push(`${path}: ${match[0]}`);
  }
  deepEqual(offending, []);
});

Deno.test("the architecture checks find a planted circle and a planted upward edge", () => {
  const planted = new Map([
    ["src/http/a.ts", new Set(["src/http/b.ts"])],
    ["src/http/b.ts", new Set(["src/page/c.ts"])],
    ["src/page/c.ts", new Set(["src/http/a.ts"])],
    ["src/core/d.ts", new Set(["src/schemas.ts"])],
    ["src/shared/e.ts", new Set(["src/http/a.ts"])],
  ]);
  deepEqual(cycles(planted), [["src/http/a.ts", "src/http/b.ts", "src/page/c.ts"]]);
  deepEqual(cycles(areaGraph(planted)), [["src/http", "src/page"]]);
  deepEqual(upwardEdges(planted), [
    "src/core/d.ts -> src/schemas.ts (src/core imports only src/core)",
    "src/page/c.ts -> src/http/a.ts (src/page is below both)",
    "src/shared/e.ts -> src/http/a.ts (src/shared is below http)",
  ]);
});
