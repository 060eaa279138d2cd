import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { type PlatformConfig } from "../../components/config";
import { prodConfig } from "../fixtures/config";

const ROOT = path.resolve(__dirname, "../..");
const ACCOUNT = "123456789012";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}
const resources: Registered[] = [];
const calls: { token: string; inputs: Record<string, unknown> }[] = [];

pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            resources.push({ type: args.type, name: args.name, inputs: args.inputs });
            return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => {
            calls.push({ token: args.token, inputs: args.inputs });
            if (args.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken")
                return {
                    userName: "AWS",
                    password: "registry-password",
                    proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
                };
            return {};
        },
    },
    "ci-platform",
    "test",
    false,
);

let images: typeof import("../../components/images");
let versionsModule: typeof import("../../components/images/versions");

/** Resolves once no new resource has been registered for a few turns of the event loop. */
async function settle(): Promise<void> {
    let last = -1;
    while (last !== resources.length) {
        last = resources.length;
        await new Promise((r) => setTimeout(r, 20));
    }
}

/** A secret input reaches the mock wrapped in Pulumi's secret signature; returns whether it was, and the value. */
function unwrapSecret(v: unknown): { secret: boolean; value: unknown } {
    const o = v as Record<string, unknown> | undefined;
    if (o && o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig)
        return { secret: true, value: o.value };
    return { secret: false, value: v };
}

const ofType = (type: string) => resources.filter((r) => r.type === type);

describe("declareImages on the prod config", () => {
    let config: PlatformConfig;
    let pins: Record<string, string>;
    let result: ReturnType<typeof import("../../components/images").declareImages>;

    before(async () => {
        images = await import("../../components/images");
        versionsModule = await import("../../components/images/versions");
        config = prodConfig();
        const parsed = versionsModule.parseVersionsText(
            fs.readFileSync(path.join(ROOT, "agent-images/versions.json"), "utf8"),
        );
        assert.ok(parsed.ok);
        pins = { ...parsed.value };
        assert.deepEqual(
            images.checkImages(config, images.readImageFiles(ROOT)),
            [],
            "the repository's images pass their checks",
        );
        result = images.declareImages({
            config,
            versions: pins,
            accountId: ACCOUNT,
            pullerRoleArns: [
                pulumi.output("arn:aws:iam::123456789012:role/linux-us-east-1-Role"),
                "arn:aws:iam::123456789012:role/linux-eu-west-1-Role",
            ],
            rootDir: ROOT,
        });
        await new Promise<void>((r) =>
            pulumi.all(Object.values(result.images).map((i) => i.repositoryUrl)).apply(() => r()),
        );
        await settle();
    });

    it("declares one component and one repository per image, with the required settings", () => {
        assert.deepEqual(
            ofType("ci-platform:images:Image")
                .map((r) => r.name)
                .sort(),
            config.images.map((i) => i.name).sort(),
        );
        const repos = ofType("aws:ecr/repository:Repository");
        assert.deepEqual(
            repos.map((r) => r.inputs.name).sort(),
            config.images.map((i) => `ci-platform/${i.name}`).sort(),
        );
        for (const repo of repos) {
            assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
            assert.equal(repo.inputs.forceDelete, false);
            assert.equal((repo.inputs.tags as Record<string, string>).CostCenter, "engineering-ci");
        }
    });

    it("builds and pushes one tag per variant at the pinned version", () => {
        const builds = ofType("docker:index/image:Image");
        const expected = config.images.flatMap((i) =>
            i.variants.map(
                (v) => `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/ci-platform/${i.name}:${v}-${pins[i.name]}`,
            ),
        );
        assert.deepEqual(builds.map((b) => b.inputs.imageName).sort(), expected.sort());
        for (const image of config.images)
            assert.deepEqual(
                result.images[image.name].tags,
                image.variants.map((v) => `${v}-${pins[image.name]}`),
            );
        const py312 = builds.find((b) => b.name === "buildkite-test-py3.12");
        assert.ok(py312);
        const build = py312.inputs.build as {
            context: string;
            dockerfile: string;
            platform: string;
            args: Record<string, string>;
        };
        assert.equal(build.context, "agent-images/buildkite-test");
        assert.equal(build.dockerfile, "agent-images/buildkite-test/Dockerfile");
        assert.equal(build.platform, "linux/amd64");
        assert.equal(build.args.PYTHON_VERSION, "3.12");
        assert.equal(build.args.VERSION, pins["buildkite-test"]);
        assert.equal(
            build.args.REVISION,
            images.dockerfileDigest(fs.readFileSync(path.join(ROOT, "agent-images/buildkite-test/Dockerfile"), "utf8")),
        );
        assert.equal(py312.inputs.skipPush, false);
        // The SDK lifts the registry object into one Output, so the secret password makes the whole object secret.
        const registry = unwrapSecret(py312.inputs.registry);
        assert.equal(registry.secret, true, "the registry credentials stay secret");
        const value = registry.value as Record<string, unknown>;
        assert.equal(value.server, `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`);
        assert.equal(value.username, "AWS");
        assert.equal(unwrapSecret(value.password).value, "registry-password");
    });

    it("asks ECR for the registry's credentials once", () => {
        const tokenCalls = calls.filter((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
        assert.equal(tokenCalls.length, 1);
        assert.equal(tokenCalls[0].inputs.registryId, ACCOUNT);
    });

    it("keeps the last N versions of every variant and lets the fleets' roles pull", () => {
        const lifecycles = ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy");
        assert.equal(lifecycles.length, config.images.length);
        const testImage = lifecycles.find((l) => l.name === "buildkite-test-lifecycle");
        const rules = (
            JSON.parse(testImage?.inputs.policy as string) as {
                rules: { selection: { tagStatus: string; countNumber: number } }[];
            }
        ).rules;
        assert.equal(rules.find((r) => r.selection.tagStatus === "any")?.selection.countNumber, 10 * 4);
        const policies = ofType("aws:ecr/repositoryPolicy:RepositoryPolicy");
        assert.equal(policies.length, config.images.length);
        for (const p of policies) {
            const doc = JSON.parse(p.inputs.policy as string) as { Statement: { Principal: { AWS: string[] } }[] };
            assert.deepEqual(doc.Statement[0].Principal.AWS, [
                "arn:aws:iam::123456789012:role/linux-eu-west-1-Role",
                "arn:aws:iam::123456789012:role/linux-us-east-1-Role",
            ]);
        }
    });

    it("replicates to every fleet region except home, sorted, in one registry-level rule", () => {
        const fleetRegions = [...new Set(config.fleets.flatMap((f) => (f.kind === "aws" ? [f.region] : [])))];
        const expected = fleetRegions.filter((r) => r !== config.homeRegion).sort();
        assert.ok(expected.length > 0, "the prod fleets span several regions");
        assert.deepEqual(result.replicationRegions, expected);
        const configs = ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration");
        assert.equal(configs.length, 1);
        const rules = (
            configs[0].inputs.replicationConfiguration as {
                rules: { destinations: { region: string; registryId: string }[]; repositoryFilters: unknown[] }[];
            }
        ).rules;
        assert.equal(rules.length, 1);
        assert.deepEqual(
            rules[0].destinations.map((d) => d.region),
            expected,
        );
        assert.ok(rules[0].destinations.every((d) => d.registryId === ACCOUNT));
        assert.deepEqual(rules[0].repositoryFilters, [{ filter: "ci-platform/", filterType: "PREFIX_MATCH" }]);
        const templates = ofType("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate");
        assert.deepEqual(templates.map((t) => t.inputs.region).sort(), expected);
        for (const t of templates) {
            assert.equal(t.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(t.inputs.appliedFors, ["REPLICATION"]);
            assert.equal(t.inputs.prefix, "ci-platform");
        }
    });
});

describe("AgentImage", () => {
    const options: Record<string, pulumi.CustomResourceOptions> = {};

    before(async () => {
        images = await import("../../components/images");
        const component = new images.AgentImage(
            "probe",
            {
                image: "probe",
                variants: ["py3.11", "py3.13"],
                version: "2026.11.2",
                dockerfile: "ARG PYTHON_VERSION\nFROM python:${PYTHON_VERSION}-slim\nUSER app\n",
                sourceUrl: "https://github.com/acme/ci-platform/tree/main/agent-images/probe",
                homeRegion: "eu-west-1",
                accountId: ACCOUNT,
                pullerRoleArns: [],
                registryCredentials: { username: "AWS", password: "p" },
                keepVersions: 3,
            },
            {
                transformations: [
                    (args) => {
                        options[args.name] = args.opts;
                        return undefined;
                    },
                ],
            },
        );
        await new Promise<void>((r) => component.repositoryUrl.apply(() => r()));
        await settle();
    });

    it("protects and retains the repository, and only the repository", () => {
        assert.equal(options["probe-repository"].protect, true);
        assert.equal(options["probe-repository"].retainOnDelete, true);
        for (const child of ["probe-lifecycle", "probe-pull", "probe-py3.11", "probe-py3.13"])
            assert.notEqual(options[child]?.protect, true, child);
    });

    it("names each build after the variant and tags it <variant>-<version> in the home region", () => {
        const builds = ofType("docker:index/image:Image").filter((b) => b.name.startsWith("probe-"));
        assert.deepEqual(builds.map((b) => [b.name, b.inputs.imageName]).sort(), [
            ["probe-py3.11", `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ci-platform/probe:py3.11-2026.11.2`],
            ["probe-py3.13", `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ci-platform/probe:py3.13-2026.11.2`],
        ]);
        const dependsOn = options["probe-py3.11"].dependsOn as pulumi.Resource[];
        assert.equal(dependsOn.length, 1, "pushes after the repository exists");
    });

    it("uses the configured lifecycle depth and the account root when no role is known", () => {
        const lifecycle = resources.find((r) => r.name === "probe-lifecycle");
        const rules = (
            JSON.parse(lifecycle?.inputs.policy as string) as {
                rules: { selection: { tagStatus: string; countNumber: number } }[];
            }
        ).rules;
        assert.equal(rules.find((r) => r.selection.tagStatus === "any")?.selection.countNumber, 3 * 2);
        const pull = resources.find((r) => r.name === "probe-pull");
        assert.deepEqual(
            (JSON.parse(pull?.inputs.policy as string) as { Statement: { Principal: { AWS: string[] } }[] })
                .Statement[0].Principal.AWS,
            [`arn:aws:iam::${ACCOUNT}:root`],
        );
    });
});
