import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

/*
 * A fake of Buildkite's REST API v2 and GitHub's REST API on 127.0.0.1, with payloads shaped after the public docs
 * (buildkite/docs pages/apis/rest_api/*.md; GitHub "List repository webhooks"). Lists are paged by `?page=` with a
 * `Link: <...>; rel="next"` header; a page may hold fewer items than asked. Knobs: the first request of a given path
 * answers 429 with Retry-After; a wrong token answers 401.
 */

export const TOKEN = "bk-test-token";
export const GITHUB_TOKEN = "gh-test-token";
const WEBHOOK = (slug: string) => `https://webhook.buildkite.com/deliver/secret-${slug}-0123456789abcdef`;

export const cluster = {
    id: "42f1a7da-812d-4430-93d8-1cc7c33a6bcf",
    graphql_id: "Q2x1c3Rlci0tLTQyZjFhN2Rh",
    default_queue_id: "01885682-55a7-44f5-84f3-0402fb452e66",
    name: "Default cluster",
    description: "Our agents",
    emoji: ":buildkite:",
    color: "#14CC80",
};
export const queues = [
    {
        id: "01885682-55a7-44f5-84f3-0402fb452e66",
        graphql_id: "Q2x1c3RlclF1ZXVlLS0tZGVmYXVsdA==",
        key: "default",
        description: "The default queue",
    },
    {
        id: "01885682-0000-44f5-84f3-0402fb452e67",
        graphql_id: "Q2x1c3RlclF1ZXVlLS0tZGVwbG95",
        key: "deploy",
        description: null,
    },
];
const pipeline = (slug: string, extra: Record<string, unknown> = {}) => ({
    id: `uuid-${slug}`,
    graphql_id: `UGlwZWxpbmUtLS0${slug}`,
    url: `https://api.buildkite.com/v2/organizations/acme/pipelines/${slug}`,
    name: slug.toUpperCase(),
    slug,
    repository: `git@github.com:acme/${slug}.git`,
    default_branch: "main",
    branch_configuration: null,
    cluster_id: cluster.id,
    provider: {
        id: "github",
        webhook_url: WEBHOOK(slug),
        settings: {
            publish_commit_status: true,
            build_pull_requests: true,
            build_tags: false,
            repository: `acme/${slug}`,
            trigger_mode: "code",
        },
    },
    skip_queued_branch_builds: false,
    skip_queued_branch_builds_filter: null,
    cancel_running_branch_builds: false,
    cancel_running_branch_builds_filter: null,
    archived_at: null,
    visibility: "private",
    configuration: 'steps:\n  - command: "buildkite-agent pipeline upload"\n',
    steps: [{ type: "script", name: ":pipeline:", command: "buildkite-agent pipeline upload" }],
    env: {},
    tags: null,
    ...extra,
});

/**
 * Six pipelines: one with arbitrary stored steps and env, one archived, one on HTTPS without `.git` and with a bare-list
 * upload, and one named as its slug on an ssh:// URL whose repository's hooks the GitHub token cannot list (404).
 */
export const PIPELINES = [
    pipeline("api", { env: { DEPLOY_TOKEN: "s3cr3t-value-never-written", REGION: "eu-west-1" } }),
    pipeline("web", {
        configuration:
            "env:\n  FOO: bar\nsteps:\n  - label: test\n    command: make test\n  - wait\n  - command: make deploy\n",
        steps: [],
    }),
    pipeline("docs", {
        repository: "https://github.com/acme/docs",
        configuration: "- buildkite-agent pipeline upload\n",
    }),
    pipeline("old", { archived_at: "2024-01-01T00:00:00Z" }),
    pipeline("lib", {
        provider: {
            id: "github",
            webhook_url: WEBHOOK("lib"),
            settings: { trigger_mode: "code", build_pull_request_labels_changed: true },
        },
    }),
    pipeline("tools", { name: "tools", repository: "ssh://git@github.com/acme/tools.git", tags: ["repo:acme/tools"] }),
];

/** The repository whose hooks GitHub will not list to the token. */
export const HIDDEN_HOOKS_REPOSITORY = "acme/tools";

export const team = {
    id: "c5e09619-8648-4896-a936-9d0b8b7b3fe9",
    graphql_id: "VGVhbS0tLWM1ZTA5NjE5",
    name: "Platform",
    slug: "platform",
    description: "",
    privacy: "visible",
    default: false,
};

/** Hook ids unique across repositories, as GitHub's are: the other service's 1000 + n, Buildkite's 2000 + n. */
export const HOOK_NUMBER: Readonly<Record<string, number>> = {
    api: 10,
    web: 20,
    docs: 30,
    old: 40,
    lib: 50,
    tools: 60,
};

/** Each repository's hooks: the Buildkite one beside another service's. */
export const hooks = (slug: string) => [
    {
        id: 1000 + HOOK_NUMBER[slug],
        name: "web",
        active: true,
        events: ["push"],
        config: { url: "https://ci.example.com/hook", content_type: "json" },
    },
    ...(slug === "lib"
        ? []
        : [
              {
                  id: 2000 + HOOK_NUMBER[slug],
                  name: "web",
                  active: true,
                  events: ["push", "pull_request"],
                  config: { url: WEBHOOK(slug), content_type: "json" },
              },
          ]),
];

/** The api pipeline's one schedule. */
export const SCHEDULE = {
    id: "s1",
    graphql_id: "UGlwZWxpbmVTY2hlZHVsZS0tLXMx",
    label: "Nightly",
    cronline: "0 3 * * *",
    message: "nightly",
    branch: "main",
    env: { SECRET_X: "never" },
    enabled: true,
};

export interface FakeApis {
    readonly url: string;
    /** Every request's method and path, in order. */
    readonly requests: string[];
    /** Every Authorization header seen, by path prefix. */
    readonly authorizations: Set<string>;
    close(): Promise<void>;
}

/** Starts the fake; `throttle`: paths answering 429 (Retry-After: 1) the first time. */
export async function startFakeApis(options: { throttle?: readonly string[] } = {}): Promise<FakeApis> {
    const requests: string[] = [];
    const authorizations = new Set<string>();
    const throttled = new Set<string>();
    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        requests.push(`${req.method} ${url.pathname}${url.search}`);
        authorizations.add(String(req.headers.authorization));
        const key = `${url.pathname}${url.search}`;
        if (options.throttle?.includes(key) && !throttled.has(key)) {
            throttled.add(key);
            res.writeHead(429, { "Retry-After": "1", "Content-Type": "application/json" });
            res.end(JSON.stringify({ message: "You have exceeded your API rate limit." }));
            return;
        }
        const github = !url.pathname.startsWith("/v2/");
        if (req.headers.authorization !== `Bearer ${github ? GITHUB_TOKEN : TOKEN}`) {
            res.writeHead(401, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ message: "Authentication required. Please supply a valid API Access Token" }));
            return;
        }
        const page = Number(url.searchParams.get("page") ?? "1");
        const paged = (items: readonly unknown[], size: number) => {
            const start = (page - 1) * size;
            const next = new URL(url);
            next.searchParams.set("page", String(page + 1));
            const headers: Record<string, string> = { "Content-Type": "application/json" };
            if (start + size < items.length)
                headers.Link = `<http://${req.headers.host}${next.pathname}${next.search}>; rel="next", <http://${req.headers.host}${url.pathname}?page=9>; rel="last"`;
            res.writeHead(200, headers);
            res.end(JSON.stringify(items.slice(start, start + size)));
        };
        const p = url.pathname;
        let match: RegExpExecArray | null;
        // Two pipelines a page, whatever per_page asks: the client must follow the links.
        if (p === "/v2/organizations/acme/pipelines") return paged(PIPELINES, 2);
        if (p === "/v2/organizations/acme/clusters") return paged([cluster], 1);
        if (p === `/v2/organizations/acme/clusters/${cluster.id}/queues`) return paged(queues, 1);
        if (p === "/v2/organizations/acme/teams") return paged([team], 1);
        if (p === `/v2/organizations/acme/teams/${team.id}/pipelines`)
            return paged(
                [
                    { pipeline_id: "uuid-api", access_level: "manage_build_and_read" },
                    { pipeline_id: "uuid-web", access_level: "build_and_read" },
                ],
                5,
            );
        if ((match = /^\/v2\/organizations\/acme\/pipelines\/([^/]+)\/schedules$/.exec(p)))
            return paged(match[1] === "api" ? [SCHEDULE] : [], 5);
        if ((match = /^\/repos\/acme\/([^/]+)\/hooks$/.exec(p))) {
            // GitHub answers 404, not 403, for a repository's hooks the token may not administer.
            if (`acme/${match[1]}` === HIDDEN_HOOKS_REPOSITORY) {
                res.writeHead(404, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ message: "Not Found" }));
                return;
            }
            return paged(hooks(match[1]), 1);
        }
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: "Not Found" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        requests,
        authorizations,
        close: () =>
            new Promise<void>((resolve, reject) => {
                server.closeAllConnections();
                server.close((e) => (e ? reject(e) : resolve()));
            }),
    };
}
