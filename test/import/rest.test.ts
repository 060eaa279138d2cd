import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, nextLink, RestClient, retryDelaySeconds, type RestClientOptions } from "../../scripts/import/rest";

/** One answer of the fake API. */
interface Answer {
    readonly status?: number;
    readonly body?: unknown;
    readonly headers?: Record<string, string>;
}

/** A fetch that hands out `answers` in order and records each request's URL and headers. */
function fakeFetch(answers: (Answer | Error)[]) {
    const requests: { url: string; headers: Record<string, string> }[] = [];
    const fetch = (async (input: URL | string, init?: RequestInit) => {
        requests.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
        const answer = answers.shift();
        if (answer === undefined) throw new Error("no more answers");
        if (answer instanceof Error) throw answer;
        const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? null);
        return new Response(body, { status: answer.status ?? 200, headers: answer.headers });
    }) as typeof globalThis.fetch;
    return { fetch, requests };
}

const TOKEN = "bkua_not-a-real-token";

function client(answers: (Answer | Error)[], options: Partial<RestClientOptions> = {}) {
    const fake = fakeFetch(answers);
    const sleeps: number[] = [];
    const progress: string[] = [];
    const rest = new RestClient({
        name: "Buildkite",
        baseUrl: "https://api.example.test/base",
        token: TOKEN,
        tokenVariable: "BUILDKITE_API_TOKEN",
        fetch: fake.fetch,
        sleep: async (ms) => {
            sleeps.push(ms);
        },
        progress: (line) => progress.push(line),
        ...options,
    });
    return { rest, requests: fake.requests, sleeps, progress };
}

/** The ApiError `promise` rejects with. */
async function apiError(promise: Promise<unknown>): Promise<ApiError> {
    try {
        await promise;
    } catch (e) {
        assert.ok(e instanceof ApiError, String(e));
        return e;
    }
    assert.fail("no error");
}

describe("nextLink and retryDelaySeconds", () => {
    it("nextLink reads a rel list holding next, unquoted rels, and ignores malformed parts", () => {
        assert.equal(nextLink('<https://a/x?page=2>; rel="prev next"'), "https://a/x?page=2");
        assert.equal(nextLink("garbage, <https://a/y>; rel=next"), "https://a/y");
        assert.equal(nextLink('<https://a/z>; rel="nextish"'), undefined);
        assert.equal(nextLink(null), undefined);
    });

    it("retryDelaySeconds waits for the later of Buildkite's organisation and user windows, and never below 0", () => {
        // buildkite/docs pages/apis/rest_api/rate_limits.md: RateLimit-Reset and RateLimit-User-Reset, in seconds.
        const now = Date.parse("2026-12-01T00:00:00Z");
        assert.equal(retryDelaySeconds(new Headers({ "ratelimit-reset": "5", "ratelimit-user-reset": "40" }), now), 40);
        assert.equal(retryDelaySeconds(new Headers({ "retry-after": "Mon, 30 Nov 2026 00:00:00 GMT" }), now), 0);
        assert.equal(retryDelaySeconds(new Headers({ "x-ratelimit-reset": String(now / 1000 - 10) }), now), 0);
        assert.equal(retryDelaySeconds(new Headers({ "ratelimit-reset": "soon" }), now), undefined);
    });
});

describe("RestClient", () => {
    it("GETs under the base URL with the bearer token, JSON accepted and the extra headers", async () => {
        const { rest, requests } = client([{ body: { id: 1 } }], { headers: { "X-GitHub-Api-Version": "2022-11-28" } });
        assert.deepEqual(await rest.get("/v2/organizations/acme"), { id: 1 });
        assert.equal(requests[0].url, "https://api.example.test/base/v2/organizations/acme");
        assert.equal(requests[0].headers.Authorization, `Bearer ${TOKEN}`);
        assert.equal(requests[0].headers.Accept, "application/json");
        assert.equal(requests[0].headers["X-GitHub-Api-Version"], "2022-11-28");
    });

    it("a header option cannot replace the token's Authorization", async () => {
        const { rest, requests } = client([{ body: {} }], { headers: { Authorization: "Bearer other" } });
        await rest.get("x");
        assert.equal(requests[0].headers.Authorization, `Bearer ${TOKEN}`);
    });

    it("lists every page by the Link header, relative links included, asking per_page", async () => {
        const { rest, requests, progress } = client([
            { body: [1, 2], headers: { link: '<https://api.example.test/base/items?page=2>; rel="next"' } },
            { body: [3], headers: { link: '</base/items?page=3>; rel="next", </base/items?page=1>; rel="first"' } },
            { body: [] },
        ]);
        assert.deepEqual(await rest.list<number>("items", 2), [1, 2, 3]);
        assert.equal(new URL(requests[0].url).searchParams.get("per_page"), "2");
        assert.deepEqual(
            requests.map((r) => r.url),
            [
                "https://api.example.test/base/items?per_page=2",
                "https://api.example.test/base/items?page=2",
                "https://api.example.test/base/items?page=3",
            ],
        );
        assert.deepEqual(progress, ["Buildkite: /base/items page 2", "Buildkite: /base/items page 3"]);
    });

    it("stops rather than send the token to another origin a Link header names", async () => {
        const { rest, requests } = client([
            { body: [1], headers: { link: '<https://evil.example.test/items?page=2>; rel="next"' } },
        ]);
        const e = await apiError(rest.list("items"));
        assert.match(
            e.message,
            /links its next page to https:\/\/evil\.example\.test.*stopped rather than send the token/,
        );
        assert.equal(requests.length, 1);
    });

    it("stops on 401, 403 and 404 with one line naming the request and the token variable, never the token", async () => {
        for (const status of [401, 403, 404]) {
            const { rest, requests } = client([{ status, body: { message: "no" } }]);
            const e = await apiError(rest.get("v2/organizations/acme"));
            assert.equal(e.status, status);
            assert.match(
                e.message,
                new RegExp(
                    `^Buildkite API: GET /base/v2/organizations/acme answered ${status}: .*; check BUILDKITE_API_TOKEN$`,
                ),
            );
            assert.ok(!e.message.includes(TOKEN));
            assert.equal(requests.length, 1, "retried an answer retrying cannot fix");
        }
    });

    it("waits out a 429 as its headers say, and a 5xx by doubling back-off, then retries the same page", async () => {
        const { rest, requests, sleeps, progress } = client([
            { status: 429, headers: { "retry-after": "7" } },
            { status: 503 },
            { status: 502 },
            { body: { ok: true } },
        ]);
        assert.deepEqual(await rest.get("x"), { ok: true });
        assert.deepEqual(sleeps, [7000, 2000, 4000]);
        assert.equal(new Set(requests.map((r) => r.url)).size, 1);
        assert.deepEqual(progress, [
            "Buildkite API: GET /base/x: 429, waiting 7s",
            "Buildkite API: GET /base/x: 503, waiting 2s",
            "Buildkite API: GET /base/x: 502, waiting 4s",
        ]);
    });

    it("gives up after maxRetries retries, and at once on a wait longer than maxWaitSeconds", async () => {
        const busy = client([{ status: 500 }, { status: 500 }, { status: 500 }], { maxRetries: 2 });
        const e = await apiError(busy.rest.get("x"));
        assert.match(e.message, /answered 500 3 times; try later$/);
        assert.equal(busy.requests.length, 3);

        const far = client([{ status: 429, headers: { "retry-after": "3600" } }], { maxWaitSeconds: 60 });
        const f = await apiError(far.rest.get("x"));
        assert.match(f.message, /answered 429, retry in 3600s \(more than 60s\); try later$/);
        assert.deepEqual(far.sleeps, []);
    });

    it("names a failed request, an answer that is not JSON, a list that is not one, and another error status", async () => {
        const failed = await apiError(client([new Error("getaddrinfo ENOTFOUND")]).rest.get("x"));
        assert.equal(failed.message, "Buildkite API: GET /base/x failed: getaddrinfo ENOTFOUND");
        assert.equal(failed.status, 0);
        const html = await apiError(client([{ body: "<html>" }]).rest.get("x"));
        assert.equal(html.message, "Buildkite API: GET /base/x answered something other than JSON");
        const object = await apiError(client([{ body: { items: [] } }]).rest.list("x"));
        assert.match(object.message, /GET \/base\/x answered a non-list$/);
        const teapot = await apiError(client([{ status: 418 }]).rest.get("x"));
        assert.equal(teapot.message, "Buildkite API: GET /base/x answered 418");
        assert.equal(teapot.status, 418);
    });
});
