import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type PlatformConfig } from "../../components/config";
import type { ImageRegistry } from "../../components/images";
import { prodConfig } from "../fixtures/config";

const ROOT = path.resolve(__dirname, "../..");
const ACCOUNT = "123456789012";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    /** The provider reference, `<urn>::<id>`; empty for a default provider. */
    provider: string;
}
const resources: Registered[] = [];
const calls: { token: string; inputs: Record<string, unknown>; provider: string }[] = [];

/** Installs this file's mocks; called before its tests run, since other test files in the process install theirs. */
function installMocks(): void {
    void pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                resources.push({
                    type: args.type,
                    name: args.name,
                    inputs: args.inputs,
                    provider: args.provider ?? "",
                });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => {
                calls.push({ token: args.token, inputs: args.inputs, provider: args.provider ?? "" });
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
}

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
/** The name of the provider a reference points at: `...::pulumi:providers:aws::aws-eu-west-1::<id>` -> `aws-eu-west-1`. */
const providerName = (ref: string) => ref.split("::").slice(-2)[0];

describe("declareImages on the prod config", () => {
    let config: PlatformConfig;
    let pins: Record<string, string>;
    let result: ReturnType<typeof import("../../components/images").declareImages>;
    let regions: string[];

    before(async () => {
        installMocks();
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
        regions = images.imageRegions(config);
        const awsProviders = Object.fromEntries(
            regions.map((r) => [r, new aws.Provider(`aws-${r}`, { region: r as aws.Region })]),
        );
        const registries = images.declareImageRegistries({ regions, awsProviders, accountId: ACCOUNT });
        result = images.declareImages({
            config,
            versions: pins,
            registries,
            accountId: ACCOUNT,
            // By region: two fleets in eu-west-1, one in us-east-1, none elsewhere.
            pullerRoleArns: {
                "eu-west-1": [
                    "arn:aws:iam::123456789012:role/linux-eu-west-1-role-b",
                    pulumi.output("arn:aws:iam::123456789012:role/linux-eu-west-1-role-a"),
                ],
                "us-east-1": [pulumi.output("arn:aws:iam::123456789012:role/linux-us-east-1-role")],
            },
            rootDir: ROOT,
        });
        await new Promise<void>((r) =>
            pulumi.all(Object.values(result.images).map((i) => i.repositoryUrl)).apply(() => r()),
        );
        await settle();
    });

    it("declares one component per image, and in every image region one repository per image", () => {
        assert.deepEqual(
            ofType("ci-platform:images:Image")
                .map((r) => r.name)
                .sort(),
            config.images.map((i) => i.name).sort(),
        );
        const repos = ofType("aws:ecr/repository:Repository");
        assert.deepEqual(
            repos.map((r) => `${r.name} ${r.inputs.name} ${providerName(r.provider)}`).sort(),
            config.images
                .flatMap((i) => regions.map((r) => `${i.name}-${r}-repository ci-platform/${i.name} aws-${r}`))
                .sort(),
        );
        for (const repo of repos) {
            assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
            assert.equal(repo.inputs.forceDelete, true);
            assert.equal((repo.inputs.tags as Record<string, string>).CostCenter, "engineering-ci");
        }
    });

    it("pushes to the home region and every AWS fleet region, with no ECR replication", () => {
        const fleetRegions = config.fleets.flatMap((f) => (f.kind === "aws" ? [f.region] : []));
        const expected = [...new Set([config.homeRegion, ...fleetRegions])].sort();
        assert.ok(expected.length > 1, "the prod fleets span several regions");
        assert.deepEqual(result.regions, expected);
        for (const image of config.images) assert.deepEqual(result.images[image.name].regions, expected);
        assert.deepEqual(ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration"), []);
        assert.deepEqual(ofType("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"), []);
    });

    it("builds and pushes one tag per variant at the pinned version to each region's registry", () => {
        const builds = ofType("docker:index/image:Image");
        const expected = config.images.flatMap((i) =>
            regions.flatMap((r) =>
                i.variants.map(
                    (v) => `${ACCOUNT}.dkr.ecr.${r}.amazonaws.com/ci-platform/${i.name}:${v}-${pins[i.name]}`,
                ),
            ),
        );
        assert.deepEqual(builds.map((b) => b.inputs.imageName).sort(), expected.sort());
        for (const b of builds) {
            const region = regions.find((r) => b.name.includes(`-${r}-`));
            assert.ok(region, b.name);
            assert.equal(
                providerName(b.provider),
                `docker-${region}`,
                `${b.name} pushes through its region's provider`,
            );
        }
        for (const image of config.images)
            assert.deepEqual(
                result.images[image.name].tags,
                image.variants.map((v) => `${v}-${pins[image.name]}`),
            );
        const py312 = builds.find((b) => b.name === "buildkite-test-eu-west-1-py3.12");
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
        assert.equal(value.server, `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`);
        assert.equal(value.username, "AWS");
        assert.equal(unwrapSecret(value.password).value, "registry-password");
    });

    it("gives each region a docker provider with that region's ECR token, asked through its AWS provider", () => {
        const tokenCalls = calls.filter((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
        assert.deepEqual(
            tokenCalls.map((c) => providerName(c.provider)).sort(),
            regions.map((r) => `aws-${r}`),
        );
        assert.ok(tokenCalls.every((c) => c.inputs.registryId === ACCOUNT));
        const providers = ofType("pulumi:providers:docker");
        assert.deepEqual(
            providers.map((p) => p.name).sort(),
            regions.map((r) => `docker-${r}`),
        );
        const auth = unwrapSecret(providers.find((p) => p.name === "docker-ap-southeast-1")?.inputs.registryAuth);
        assert.equal(auth.secret, true, "the provider's registry password stays secret");
        // Provider config reaches the engine as JSON text.
        const [entry] = JSON.parse(auth.value as string) as Record<string, unknown>[];
        assert.equal(entry.address, `${ACCOUNT}.dkr.ecr.ap-southeast-1.amazonaws.com`);
        assert.equal(entry.username, "AWS");
    });

    it("keeps the last N versions of every variant and lets only the region's own fleet roles pull", () => {
        const lifecycles = ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy");
        assert.equal(lifecycles.length, config.images.length * regions.length);
        const testImage = lifecycles.find((l) => l.name === "buildkite-test-ap-southeast-1-lifecycle");
        const rules = (
            JSON.parse(testImage?.inputs.policy as string) as {
                rules: { selection: { tagStatus: string; countNumber: number } }[];
            }
        ).rules;
        assert.equal(rules.find((r) => r.selection.tagStatus === "any")?.selection.countNumber, 10 * 4);
        const policies = ofType("aws:ecr/repositoryPolicy:RepositoryPolicy");
        assert.equal(policies.length, config.images.length * regions.length);
        const expected: Record<string, string[]> = {
            "eu-west-1": [
                "arn:aws:iam::123456789012:role/linux-eu-west-1-role-a",
                "arn:aws:iam::123456789012:role/linux-eu-west-1-role-b",
            ],
            "us-east-1": ["arn:aws:iam::123456789012:role/linux-us-east-1-role"],
        };
        for (const p of policies) {
            const region = regions.find((r) => p.name.endsWith(`-${r}-pull`));
            assert.ok(region, p.name);
            const doc = JSON.parse(p.inputs.policy as string) as { Statement: { Principal: { AWS: string[] } }[] };
            assert.deepEqual(
                doc.Statement[0].Principal.AWS,
                expected[region] ?? ["arn:aws:iam::123456789012:root"],
                `${p.name}: the roles of the fleets in ${region}, or the account where no fleet runs`,
            );
        }
    });
});

describe("AgentImage", () => {
    const options: Record<string, pulumi.CustomResourceOptions> = {};

    before(async () => {
        installMocks();
        images = await import("../../components/images");
        const registry = (region: string): ImageRegistry => ({
            region,
            awsProvider: new aws.Provider(`probe-aws-${region}`, { region: region as aws.Region }),
            dockerProvider: new docker.Provider(`probe-docker-${region}`, {}),
            server: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com`,
            username: "AWS",
            password: "p",
        });
        const component = new images.AgentImage(
            "probe",
            {
                image: "probe",
                variants: ["py3.11", "py3.13"],
                version: "2026.11.2",
                dockerfile: "ARG PYTHON_VERSION\nFROM python:${PYTHON_VERSION}-slim\nUSER app\n",
                sourceUrl: "https://github.com/acme/ci-platform/tree/main/agent-images/probe",
                homeRegion: "eu-west-1",
                registries: [registry("sa-east-1"), registry("eu-west-1")],
                accountId: ACCOUNT,
                pullerRoleArns: {},
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

    it("protects and retains each region's repository, and only the repositories", () => {
        for (const region of ["eu-west-1", "sa-east-1"]) {
            assert.equal(options[`probe-${region}-repository`].protect, true, region);
            assert.equal(options[`probe-${region}-repository`].retainOnDelete, false, region);
            for (const role of ["lifecycle", "pull", "py3.11", "py3.13"])
                assert.notEqual(options[`probe-${region}-${role}`]?.protect, true, `${region} ${role}`);
        }
    });

    it("names each push after the region and variant, and tags it <variant>-<version> in that region", () => {
        const builds = ofType("docker:index/image:Image").filter((b) => b.name.startsWith("probe-"));
        assert.deepEqual(builds.map((b) => [b.name, b.inputs.imageName, providerName(b.provider)]).sort(), [
            [
                "probe-eu-west-1-py3.11",
                `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ci-platform/probe:py3.11-2026.11.2`,
                "probe-docker-eu-west-1",
            ],
            [
                "probe-eu-west-1-py3.13",
                `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ci-platform/probe:py3.13-2026.11.2`,
                "probe-docker-eu-west-1",
            ],
            [
                "probe-sa-east-1-py3.11",
                `${ACCOUNT}.dkr.ecr.sa-east-1.amazonaws.com/ci-platform/probe:py3.11-2026.11.2`,
                "probe-docker-sa-east-1",
            ],
            [
                "probe-sa-east-1-py3.13",
                `${ACCOUNT}.dkr.ecr.sa-east-1.amazonaws.com/ci-platform/probe:py3.13-2026.11.2`,
                "probe-docker-sa-east-1",
            ],
        ]);
        for (const name of ["probe-eu-west-1-py3.11", "probe-sa-east-1-py3.13"]) {
            const dependsOn = options[name].dependsOn as pulumi.Resource[];
            assert.equal(dependsOn.length, 1, `${name} pushes after its region's repository exists`);
        }
        const repos = ofType("aws:ecr/repository:Repository").filter((r) => r.name.startsWith("probe-"));
        assert.deepEqual(repos.map((r) => `${r.name} ${providerName(r.provider)}`).sort(), [
            "probe-eu-west-1-repository probe-aws-eu-west-1",
            "probe-sa-east-1-repository probe-aws-sa-east-1",
        ]);
    });

    it("keeps the home region's children at their single-region names through aliases", () => {
        const aliasNames = (child: string) =>
            ((options[child]?.aliases ?? []) as { name?: string }[]).flatMap((a) => (a?.name ? [a.name] : []));
        assert.deepEqual(aliasNames("probe-eu-west-1-repository"), ["probe-repository"]);
        assert.deepEqual(aliasNames("probe-eu-west-1-py3.11"), ["probe-py3.11"]);
        assert.deepEqual(aliasNames("probe-sa-east-1-repository"), []);
    });

    it("uses the configured lifecycle depth and the account root when no role is known", () => {
        const lifecycle = resources.find((r) => r.name === "probe-sa-east-1-lifecycle");
        const rules = (
            JSON.parse(lifecycle?.inputs.policy as string) as {
                rules: { selection: { tagStatus: string; countNumber: number } }[];
            }
        ).rules;
        assert.equal(rules.find((r) => r.selection.tagStatus === "any")?.selection.countNumber, 3 * 2);
        const pull = resources.find((r) => r.name === "probe-sa-east-1-pull");
        assert.deepEqual(
            (JSON.parse(pull?.inputs.policy as string) as { Statement: { Principal: { AWS: string[] } }[] })
                .Statement[0].Principal.AWS,
            [`arn:aws:iam::${ACCOUNT}:root`],
        );
    });

    it("refuses registries without the home region", async () => {
        assert.throws(
            () =>
                new images.AgentImage("orphan", {
                    image: "orphan",
                    variants: ["py3.12"],
                    version: "2026.11.2",
                    dockerfile: "FROM scratch\n",
                    sourceUrl: "https://example.invalid",
                    homeRegion: "us-east-1",
                    registries: [],
                    accountId: ACCOUNT,
                    pullerRoleArns: {},
                }),
            /not pushed to its home region us-east-1/,
        );
        // The refused component was registered before it threw: let the SDK finish with it under this file's mocks.
        await pulumi.runtime.disconnect();
    });
});
