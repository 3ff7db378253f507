/** `coherence-engine --healthcheck`: the probe Docker's HEALTHCHECK runs (no curl in the runtime image). */
import { equal, match } from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { healthcheck, healthcheckUrl, startService } from "../../src/main.ts";

Deno.test("healthcheckUrl() probes loopback when the service listens on every address", () => {
  equal(healthcheckUrl({ host: "0.0.0.0", port: 8000 }), "http://127.0.0.1:8000/health");
  equal(healthcheckUrl({ host: "::", port: 8000 }), "http://[::1]:8000/health");
  equal(healthcheckUrl({ host: "127.0.0.1", port: 9000 }), "http://127.0.0.1:9000/health");
  equal(healthcheckUrl({ host: "::1", port: 9000 }), "http://[::1]:9000/health");
  equal(healthcheckUrl({ host: "coherence.internal", port: 80 }), "http://coherence.internal:80/health");
});

Deno.test("healthcheck() is 0 only for a 200 with status ok, and says why otherwise", async () => {
  const config = { host: "0.0.0.0", port: 8000 };
  const lines: string[] = [];
  const print = (line: string) => void lines.push(line);
  const answer = (status: number, body: unknown) => () => Promise.resolve(Response.json(body, { status }));
  equal(await healthcheck(config, { fetch: answer(200, { status: "ok" }), print }), 0);
  equal(await healthcheck(config, { fetch: answer(503, { status: "ok" }), print }), 1);
  equal(await healthcheck(config, { fetch: answer(200, { status: "starting" }), print }), 1);
  equal(
    await healthcheck(config, { fetch: () => Promise.reject(new TypeError("connection refused")), print }),
    1,
  );
  equal(await healthcheck({ host: "0.0.0.0", port: 0 }, { print }), 1);
  equal(lines.length, 4);
  match(lines[0], /http:\/\/127\.0\.0\.1:8000\/health answered 503/);
  match(lines[2], /failed: connection refused/);
  match(lines[3], /PORT=0/);
});

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function probe(port: number) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("../../src/main.ts", import.meta.url).pathname,
      "--healthcheck",
    ],
    env: { PORT: String(port), HOST: "0.0.0.0" },
    stdout: "null",
    stderr: "piped",
  }).output();
}

Deno.test({
  name: "main.ts --healthcheck exits 0 against a running service and 1 once it is gone",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const port = freePort();
    const service = await startService(
      loadConfig({ PORT: String(port), HOST: "127.0.0.1", PERSISTENCE: "none" }),
    );
    try {
      const up = await probe(port);
      equal(up.code, 0, new TextDecoder().decode(up.stderr));
    } finally {
      await service.shutdown();
    }
    const down = await probe(port);
    equal(down.code, 1);
    match(new TextDecoder().decode(down.stderr), /healthcheck: http:\/\/127\.0\.0\.1:\d+\/health failed/);
  },
});
