import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { PlanMocks, disabledDefaultProviders } from "../../scripts/plan/mocks";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * Explicit providers everywhere (issue 11, defect 1). With a default provider, a Buildkite resource would reach for
 * an organization nobody configured and `pulumi up` fails; so the prod stack turns default providers off and every
 * custom resource of its plan names an explicit provider of its own package, configured from the stack config.
 */
const dir = mkdtempSync(path.join(tmpdir(), "providers-"));
let plan: PlanDocument;
let stackConfig: Record<string, unknown>;

/** A provider URN's package and name: `urn:...::ci-platform:providers:Providers$pulumi:providers:aws::ci-platform-aws-us-east-1`. */
function providerOf(urn: string): { pkg: string; name: string } {
    const [type, name] = urn.split("::").slice(-2);
    // The provider's own type is the last of the qualified chain (its parent component's types come first).
    return { pkg: (type.split("$").pop() ?? "").replace(/^pulumi:providers:/, ""), name };
}
const isCustom = (r: PlanResource) => !r.type.startsWith("pulumi:") && !r.type.startsWith("ci-platform:");
const byUrn = (urn: string | null) => plan.resources.find((r) => r.urn === urn);

before(async () => {
    const out = path.join(dir, "prod.json");
    const result = await planInProcess(...["--json", out]);
    assert.equal(result.code, 0, result.stderr);
    plan = JSON.parse(readFileSync(out, "utf8")) as PlanDocument;
    stackConfig = (parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: typeof stackConfig })
        .config;
});

describe("the prod plan's providers", () => {
    it("gives every custom resource an explicit provider of its own package", () => {
        const custom = plan.resources.filter(isCustom);
        assert.ok(custom.length > 100, "the prod plan declares the platform");
        const wrong = custom
            .filter((r) => {
                if (r.provider === null) return true;
                const provider = providerOf(r.provider);
                return (
                    provider.name.startsWith("default") ||
                    provider.pkg !== r.type.split(":")[0] ||
                    byUrn(r.provider) === undefined
                );
            })
            .map((r) => `${r.type} ${r.name} -> ${r.provider}`);
        assert.deepEqual(wrong, []);
    });

    it("turns off the default provider of every package the stack uses", () => {
        const used = [...new Set(plan.resources.filter(isCustom).map((r) => r.type.split(":")[0]))].sort();
        assert.deepEqual(used, ["aws", "buildkite", "docker", "github"]);
        const disabled = stackConfig["pulumi:disable-default-providers"];
        assert.ok(Array.isArray(disabled), "pulumi:disable-default-providers is a list of packages");
        assert.deepEqual(
            used.filter((pkg) => !disabled.includes(pkg) && !disabled.includes("*")),
            [],
        );
    });

    it("configures the Buildkite provider from ci-platform:organization, for queues and agent tokens too", () => {
        const providers = plan.resources.filter((r) => r.type === "pulumi:providers:buildkite");
        assert.equal(providers.length, 1);
        assert.equal(providers[0].inputs.organization, stackConfig["ci-platform:organization"]);
        for (const type of [
            "buildkite:Cluster/clusterQueue:ClusterQueue",
            "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
        ]) {
            const resources = plan.resources.filter((r) => r.type === type);
            assert.ok(resources.length > 0, type);
            for (const r of resources) assert.equal(r.provider, providers[0].urn, `${type} ${r.name}`);
        }
    });

    it("pushes each image through the docker provider of the registry's own region, credentials secret", () => {
        const pushes = plan.resources.filter((r) => r.type === "docker:index/image:Image");
        assert.ok(pushes.length > 0);
        for (const push of pushes) {
            const region = /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\//.exec(String(push.inputs.imageName))?.[1];
            assert.ok(region, `${push.name} names an ECR registry`);
            const provider = byUrn(push.provider);
            assert.equal(provider?.name, `docker-${region}`, push.name);
            assert.equal(provider?.inputs.registryAuth, "[secret]", `${provider?.name}'s registryAuth is secret`);
            assert.equal((push.inputs.registry as { password: unknown }).password, "[secret]");
        }
    });
});

/** The qualified type in a URN (`ci-platform:providers:Providers$pulumi:providers:aws`). */
const qualifiedType = (urn: string) => urn.split("::")[2] ?? "";
const STACK = "pulumi:pulumi:Stack";
const isComponent = (r: PlanResource | undefined) => r !== undefined && r.type.startsWith("ci-platform:");

describe("the prod plan's resource tree (issue 15)", () => {
    it("gives every resource but the stack a parent, and every provider and custom resource a parent component", () => {
        const stacks = plan.resources.filter((r) => r.type === STACK);
        assert.equal(stacks.length, 1);
        const orphans = plan.resources
            .filter((r) => r.type !== STACK)
            .filter((r) => {
                const parent = byUrn(r.parent);
                if (parent === undefined) return true;
                // Components may sit at the stack's top level; nothing else may.
                return !isComponent(r) && !isComponent(parent);
            })
            .map((r) => `${r.type} ${r.name} (parent ${r.parent ?? "none"})`);
        assert.deepEqual(orphans, []);
    });

    it("declares every provider in the one registry component", () => {
        const providers = plan.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
        assert.deepEqual(
            [...new Set(providers.map((p) => p.type))].sort(),
            ["aws", "buildkite", "docker", "github"].map((pkg) => `pulumi:providers:${pkg}`),
        );
        const registries = plan.resources.filter((r) => r.type === "ci-platform:providers:Providers");
        assert.equal(registries.length, 1);
        for (const p of providers) assert.equal(p.parent, registries[0].urn, p.name);
    });

    it("aliases each moved provider and cluster queue to its old top-level URN, so the engine keeps it", () => {
        const moved = plan.resources.filter(
            (r) => r.type.startsWith("pulumi:providers:") || r.type === "buildkite:Cluster/clusterQueue:ClusterQueue",
        );
        assert.ok(moved.length >= 10, "providers of four packages and the queues");
        for (const r of moved) {
            assert.ok(qualifiedType(r.urn).includes("$"), `${r.name} is under a component`);
            const topLevel = `urn:pulumi:prod::ci-platform::${r.type}::${r.name}`;
            assert.ok(r.aliases.includes(topLevel), `${r.type} ${r.name} carries the alias ${topLevel}`);
        }
    });
});

describe("the offline plan's engine model", () => {
    const mockArgs = (provider: string) => ({
        type: "buildkite:Cluster/clusterQueue:ClusterQueue",
        name: "default-default",
        inputs: {},
        provider,
        custom: true,
    });

    it("refuses a resource or invoke on a disabled default provider, as the engine does", () => {
        const mocks = new PlanMocks(new Set(["buildkite", "aws"]));
        assert.throws(() => mocks.newResource(mockArgs("")), /default buildkite provider is disabled/);
        assert.throws(
            () => mocks.call({ token: "aws:ecr/getAuthorizationToken:getAuthorizationToken", inputs: {} }),
            /invoke aws:ecr\/getAuthorizationToken.* default aws provider is disabled/,
        );
        const explicit = "urn:pulumi:prod::ci-platform::pulumi:providers:buildkite::buildkite::0a1b";
        assert.ok(mocks.newResource(mockArgs(explicit)).id);
    });

    it("lets default providers through when the stack does not disable them, and '*' disables all", () => {
        assert.ok(new PlanMocks(new Set()).newResource(mockArgs("")).id);
        assert.throws(() => new PlanMocks(new Set(["*"])).newResource(mockArgs("")), /disabled/);
        assert.deepEqual([...disabledDefaultProviders('["aws","docker"]')], ["aws", "docker"]);
        assert.deepEqual([...disabledDefaultProviders("aws")], ["aws"]);
        assert.deepEqual([...disabledDefaultProviders(undefined)], []);
    });
});
