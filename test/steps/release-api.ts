import { ChildProcess, spawn } from "node:child_process";

/*
 * A stand-in for Buildkite's REST API "Get a build" (buildkite/docs pages/apis/rest_api/builds.md), for the release
 * check's tests: a separate node process (the tests run the check with execFileSync, which blocks this one),
 * listening on 127.0.0.1 only, on a port the system picks, stopped by the test, and ending by itself with the test
 * process or after 30 minutes at most.
 */

/** What the server answers for `pipeline/number`: a build (200, JSON), a status code, or a raw body (200). */
export type FakeBuild = Record<string, unknown> | number | { readonly raw: string };

/** The token the server accepts; any other Authorization gets 401. */
export const FAKE_READ_TOKEN = "not-a-real-read-builds-token";

const SERVER = `
const http = require("node:http");
const builds = JSON.parse(process.env.FAKE_BUILDS);
const org = process.env.FAKE_ORG;
const server = http.createServer((req, res) => {
  const m = /^\\/v2\\/organizations\\/([^/]+)\\/pipelines\\/([^/]+)\\/builds\\/([^/?]+)\\?exclude_jobs=true&exclude_pipeline=true$/.exec(req.url);
  const answer = m && m[1] === org ? builds[m[2] + "/" + m[3]] : undefined;
  if (req.headers.authorization !== "Bearer " + process.env.FAKE_TOKEN) { res.writeHead(401); res.end("{}"); return; }
  if (answer === undefined) { res.writeHead(404); res.end('{"message":"No build found"}'); return; }
  if (typeof answer === "number") { res.writeHead(answer); res.end("{}"); return; }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(typeof answer.raw === "string" ? answer.raw : JSON.stringify(answer));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
// Stops with the test process (its stdin closes), and in any case after 30 minutes: a bound on time, not on the
// pace of the tests using it (a loaded machine runs them slower).
process.stdin.on("end", () => process.exit(0)).resume();
setTimeout(() => process.exit(0), 30 * 60 * 1000).unref();
`;

/** A running fake API: its base URL (in place of https://api.buildkite.com/v2) and how to stop it. */
export interface FakeApi {
    readonly url: string;
    stop(): void;
}

/** Starts the fake API for organization `org`, answering `builds` (keyed `pipeline/number`). */
export function startFakeApi(org: string, builds: Readonly<Record<string, FakeBuild>>): Promise<FakeApi> {
    const child: ChildProcess = spawn(process.execPath, ["-e", SERVER], {
        env: { FAKE_BUILDS: JSON.stringify(builds), FAKE_ORG: org, FAKE_TOKEN: FAKE_READ_TOKEN },
        stdio: ["pipe", "pipe", "inherit"],
    });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill();
            reject(new Error("the fake Buildkite API did not start within 10 s"));
        }, 10_000);
        child.once("error", reject);
        child.stdout?.once("data", (data: Buffer) => {
            clearTimeout(timer);
            resolve({ url: `http://127.0.0.1:${String(data).trim()}/v2`, stop: () => child.kill() });
        });
    });
}
