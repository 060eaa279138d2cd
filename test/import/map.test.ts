import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { githubRepository, mapOrganization } from "../../scripts/import/map";
import { BkPipeline, OrganizationSnapshot } from "../../scripts/import/read";

const cluster = { id: "c-uuid", graphql_id: "CL", name: "ci", default_queue_id: "q1" };
const queue = (key: string, id = key) => ({ id, graphql_id: `Q-${key}`, key });
const pipeline = (slug: string, extra: Partial<BkPipeline> = {}): BkPipeline => ({
    id: `uuid-${slug}`,
    graphql_id: `P-${slug}`,
    name: slug,
    slug,
    repository: `git@github.com:acme/${slug}.git`,
    cluster_id: cluster.id,
    provider: { id: "github", webhook_url: "", settings: {} },
    configuration: "steps:\n  - command: buildkite-agent pipeline upload\n",
    ...extra,
});
const map = (snapshot: Partial<OrganizationSnapshot>) =>
    mapOrganization({
        organization: "acme",
        snapshot: {
            pipelines: [],
            clusters: [{ ...cluster, queues: [queue("default", "q1")] }],
            teams: [],
            schedules: {},
            hooks: {},
            ...snapshot,
        },
        images: [],
        homeRegion: "us-east-1",
        elasticStackVersion: "v6.71.1",
    });

describe("mapOrganization", () => {
    it("drops nothing silently: each pipeline is declared or named in the report with the reason", () => {
        const pipelines = [
            pipeline("ok"),
            pipeline("gitlab", { repository: "git@gitlab.com:acme/x.git" }),
            pipeline("loose", { cluster_id: null }),
            pipeline("gone", { archived_at: "2024-01-01T00:00:00Z" }),
            pipeline("bitbucket", { provider: { id: "bitbucket" } }),
            pipeline("bad-branch", { default_branch: "a..b" }),
        ];
        const mapped = map({
            pipelines,
            schedules: { "bad-branch": [{ id: "s", graphql_id: "S", label: "Nightly", cronline: "@daily" }] },
        });
        // An undeclared pipeline's schedule is not adopted either: its entry would name nothing (a plan error).
        assert.deepEqual(
            mapped.adopt.map((a) => a.resource),
            ["acme-cluster-ci", "queue-ci/default", "ok-pipeline"],
        );
        const declared = (mapped.config["ci-platform:pipelines"] as { slug: string }[]).map((p) => p.slug);
        assert.deepEqual(declared, ["ok"]);
        for (const slug of ["gitlab", "loose", "gone", "bitbucket", "bad-branch"])
            assert.ok(
                mapped.report.some((r) => r.subject === `pipeline ${slug}` && r.message.startsWith("not declared: ")),
                slug,
            );
        assert.match(
            mapped.report.find((r) => r.subject === "pipeline loose")?.message ?? "",
            /it is in no cluster; move it into one/,
        );
        assert.match(
            mapped.report.find((r) => r.subject === "pipeline bad-branch")?.message ?? "",
            /^not declared: defaultBranch: /,
        );
    });

    it("a queue key the fleet schema refuses is reported, and its cluster's pipelines with it", () => {
        const mapped = map({
            clusters: [{ ...cluster, queues: [queue("Default_Q", "q1")] }],
            pipelines: [pipeline("ok")],
        });
        assert.deepEqual(mapped.config["ci-platform:fleets"], []);
        assert.ok(
            mapped.report.some((r) => r.subject === "queue ci/Default_Q" && r.message.startsWith("not declared")),
        );
        assert.ok(mapped.report.some((r) => r.subject === "pipeline ok" && /has no declared queue/.test(r.message)));
    });

    it("a provider setting of the wrong type is reported and left to the schema's default", () => {
        const mapped = map({
            pipelines: [
                pipeline("ok", { provider: { id: "github", settings: { build_tags: "yes", trigger_mode: "code" } } }),
            ],
        });
        const [declared] = mapped.config["ci-platform:pipelines"] as { provider: Record<string, unknown> }[];
        assert.deepEqual(declared.provider, { triggerMode: "code" });
        assert.ok(mapped.report.some((r) => /provider setting `build_tags`: "yes" is not a value/.test(r.message)));
    });

    it("githubRepository reads the SSH and HTTPS clone URLs, and nothing else", () => {
        assert.deepEqual(githubRepository("git@github.com:acme/a.b.git"), { repository: "acme/a.b", checkout: "ssh" });
        assert.deepEqual(githubRepository("https://github.com/acme/web"), {
            repository: "acme/web",
            checkout: "https",
        });
        assert.equal(githubRepository("https://gitlab.com/acme/web.git"), undefined);
    });
});
