import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readBuildkite, readGithubHooks } from "../../scripts/import/read";
import { RestClient } from "../../scripts/import/rest";

/** A client over a fake API: each path (with its query) answers its JSON, or a status; the paths asked are kept. */
function fakeApi(routes: Record<string, unknown>) {
    const asked: string[] = [];
    const fetch = (async (input: URL | string) => {
        const url = new URL(String(input));
        url.searchParams.delete("per_page");
        const key = `${url.pathname}${url.search}`;
        asked.push(key);
        const answer = routes[key];
        if (answer === undefined) return new Response("{}", { status: 404 });
        if (typeof answer === "number") return new Response("{}", { status: answer });
        return new Response(JSON.stringify(answer), { status: 200 });
    }) as typeof globalThis.fetch;
    const client = new RestClient({
        name: "Fake",
        baseUrl: "https://api.example.test",
        token: "t",
        tokenVariable: "TOKEN",
        fetch,
        sleep: async () => undefined,
    });
    return { client, asked };
}

describe("readBuildkite", () => {
    it("reads pipelines, each cluster's queues, each team's pipelines, and the schedules of live pipelines only", async () => {
        const org = "/v2/organizations/acme";
        const { client, asked } = fakeApi({
            [`${org}/pipelines`]: [
                { slug: "api", archived_at: null },
                { slug: "old", archived_at: "2025-01-01T00:00:00Z" },
                { slug: "a b", archived_at: null },
            ],
            [`${org}/clusters`]: [{ id: "c/1", name: "Default" }],
            [`${org}/clusters/c%2F1/queues`]: [{ id: "q1", key: "default" }],
            [`${org}/teams`]: [{ id: "t1", slug: "eng" }],
            [`${org}/teams/t1/pipelines`]: [{ slug: "api", access_level: "build_and_read" }],
            [`${org}/pipelines/api/schedules`]: [{ id: "s1", cronline: "@daily" }],
            [`${org}/pipelines/a%20b/schedules`]: [],
        });
        const progress: string[] = [];
        const snapshot = await readBuildkite(client, "acme", (l) => progress.push(l));
        assert.deepEqual(
            snapshot.pipelines.map((p) => p.slug),
            ["api", "old", "a b"],
        );
        assert.deepEqual(snapshot.clusters, [{ id: "c/1", name: "Default", queues: [{ id: "q1", key: "default" }] }]);
        assert.deepEqual(snapshot.teams[0].pipelines, [{ slug: "api", access_level: "build_and_read" }]);
        assert.deepEqual(Object.keys(snapshot.schedules), ["api", "a b"]);
        assert.equal(snapshot.schedules.api.length, 1);
        assert.ok(!asked.some((p) => p.includes("/pipelines/old/")), "read the schedules of an archived pipeline");
        assert.ok(progress.length > 0 && progress.every((l) => l.startsWith("Buildkite: ")));
    });
});

describe("readGithubHooks", () => {
    it("reads each repository once, in order; records a 403 or 404 and reads on", async () => {
        const { client, asked } = fakeApi({
            "/repos/acme/api/hooks": [{ id: 1, config: { url: "https://webhook.example/x" } }],
            "/repos/acme/private/hooks": 404,
            "/repos/acme/web/hooks": 403,
        });
        const progress: string[] = [];
        const read = await readGithubHooks(client, ["acme/web", "acme/api", "acme/private", "acme/api"], (l) =>
            progress.push(l),
        );
        assert.deepEqual(asked, ["/repos/acme/api/hooks", "/repos/acme/private/hooks", "/repos/acme/web/hooks"]);
        assert.deepEqual(Object.keys(read.hooks), ["acme/api"]);
        assert.deepEqual(read.errors, { "acme/private": 404, "acme/web": 403 });
        assert.ok(progress.some((l) => l.includes("acme/web is declared without its webhook")));
    });

    it("stops on a 401: the token itself is bad", async () => {
        const { client } = fakeApi({ "/repos/acme/api/hooks": 401 });
        await assert.rejects(
            readGithubHooks(client, ["acme/api"], () => undefined),
            /answered 401.*check TOKEN/,
        );
    });
});
