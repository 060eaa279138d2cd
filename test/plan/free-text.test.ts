import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { platformConfigSchema } from "../../components/config/schema";
import { diffPlans, PlanDiff, REPLACE_ON_CHANGE } from "../../scripts/plan/diff";
import { isProvider, PlanDocument, STACK_TYPE } from "../../scripts/plan/model";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * No cosmetic edit replaces anything: every free-text field of the prod config is edited, and the plan diff has no
 * replacement, addition or removal. The free-text fields are a list, kept complete by a test that walks the config
 * schema: every string the schema accepts is either free text or named below as something else, with why.
 */

/** Fields for people to read: descriptions, locations, labels, emoji, colours, messages, tag values, commands, env. */
const FREE_TEXT = [
    "clusters[].description",
    "clusters[].emoji",
    "clusters[].color",
    "teams[].description",
    "fleets[].description",
    "fleets[].location",
    "images[].description",
    "pipelines[].name",
    "pipelines[].description",
    "pipelines[].schedules[].message",
    "pipelines[].schedules[].env.*",
    "pipelines[].env.*",
    "pipelines[].triggers[].label",
    "pipelines[].triggers[].env.*",
    "pipelines[].packages[].command",
    "pipelines[].packageCommand",
    "pipelines[].publish.command",
];

/** Every other string of the schema, and why an edit of it is not cosmetic. */
const NOT_FREE_TEXT: Readonly<Record<string, string>> = {
    ...Object.fromEntries(
        [
            "organization",
            "github.owner",
            "clusters[].name",
            "teams[].name",
            "fleets[].name",
            "fleets[].cluster",
            "fleets[].queue",
            "images[].name",
            "images[].variants[]",
            "pipelines[].slug",
            "pipelines[].cluster",
            "pipelines[].queue",
            "pipelines[].team",
            "pipelines[].teams[].team",
            "pipelines[].triggers[].pipeline",
            "pipelines[].triggers[].key",
            "pipelines[].triggers[].dependsOn",
            "pipelines[].triggers[].dependsOn[]",
            "pipelines[].packages[].name",
            "pipelines[].packages[].dependsOn[]",
            "pipelines[].packages[].uses[]",
            "deployRoles[].name",
        ].map((p) => [p, "a name or a reference to one (renames: renamedFrom, test/plan/renames.test.ts)"]),
    ),
    ...Object.fromEntries(
        [
            "clusters[].renamedFrom[]",
            "teams[].renamedFrom[]",
            "fleets[].renamedFrom[]",
            "pipelines[].renamedFrom[]",
        ].map((p) => [p, "an earlier name: identity itself"]),
    ),
    "fleets[].physicalName":
        "names the fleet's stack, SSM parameter and bootstrap key: identity itself (test/plan/renames.test.ts)",
    // stack-parameters.ts costAllocationTag: CostCenter (else the first tag) of `tags` merged with the fleet's own
    // is the stack's CostAllocationTagValue, which the pinned template puts on the launch template's instance and
    // volume tags (shared/reference/aws-stack-v6.71.1.yml ~2333-2345, the group's LatestVersionNumber ~2558): a new
    // value is a new launch template version, and the group's rolling update replaces every instance.
    ...Object.fromEntries(
        ["tags.*", "fleets[].tags.*"].map((p) => [
            p,
            "a setting: rolls the fleet's instances (the plan names the stack's CostAllocationTagValue)",
        ]),
    ),
    "pipelines[].schedules[].label":
        "names the schedule's resource (pipeline.ts): a new label is a new schedule, whose builds stay with the pipeline",
    ...Object.fromEntries(
        [
            "elasticStack.version",
            "fleets[].instanceTypes[]",
            "fleets[].vpcId",
            "fleets[].subnets[]",
            "fleets[].securityGroupIds[]",
            "fleets[].permissionsBoundary",
            "fleets[].managedPolicyArns[]",
            "fleets[].providesSecrets[]",
            "pipelines[].repository",
            "pipelines[].requiresSecrets[]",
            "pipelines[].defaultBranch",
            "pipelines[].branches",
            "pipelines[].schedules[].cronline",
            "pipelines[].schedules[].branch",
            "pipelines[].provider.filterCondition",
            "pipelines[].image.name",
            "pipelines[].image.variant",
            "pipelines[].triggers[].branches",
            "pipelines[].packages[].path",
            "pipelines[].packages[].image.name",
            "pipelines[].packages[].image.variant",
            "pipelines[].packages[].artifacts[]",
            "pipelines[].packages[].copyArtifacts[]",
            "pipelines[].publish.secrets[]",
            "pipelines[].alwaysRebuildPaths[]",
            "pipelines[].artifacts[]",
            "deployRoles[].buildkite.pipeline",
            "deployRoles[].buildkite.branch",
            "deployRoles[].buildkite.steps[]",
            "deployRoles[].githubActions.repository",
            "kmsAdministrators[]",
            "adopt[].resource",
            "adopt[].id",
            "adopt[].ignoreChanges[]",
            // A key id or public key: the stored steps are signed again, the fleets' verification key sets change.
            "clusters[].signing.signingKeyId",
            "clusters[].signing.verificationKeys[].kid",
            "clusters[].signing.verificationKeys[].x",
            // A KMS key ARN: the fleets' PipelineSigningKMSKeyId and the stored steps' signatures follow it.
            "clusters[].signing.key",
        ].map((p) => [p, "a setting the platform acts on, not prose"]),
    ),
    "clusters[].signing.reason":
        "reaches no resource: only the policy pack's signing-off-declared warning quotes it (components/signing)",
    ...Object.fromEntries(["secrets.signing.*"].map((p) => [p, "a secret value: a cluster's private signing key set"])),
    ...Object.fromEntries(
        [
            "secrets.organization.env.*",
            "secrets.organization.privateSshKey",
            "secrets.organization.gitCredentials",
            "secrets.organization.gitCredentials[]",
            "secrets.organization.files.*",
            "secrets.pipelines.*.env.*",
            "secrets.pipelines.*.privateSshKey",
            "secrets.pipelines.*.gitCredentials",
            "secrets.pipelines.*.gitCredentials[]",
            "secrets.pipelines.*.files.*",
        ].map((p) => [p, "a secret value (test/plan/rotation.test.ts)"]),
    ),
};

type Def = { readonly type: string; readonly [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The path of every string leaf the schema accepts: `pipelines[].schedules[].message`, `tags.*`. */
function stringFields(schema: unknown, at = "", out = new Set<string>()): Set<string> {
    const def = defOf(schema);
    const join = (key: string) => (at ? `${at}.${key}` : key);
    switch (def.type) {
        case "object":
            for (const [key, value] of Object.entries(def.shape as Record<string, unknown>))
                stringFields(value, join(key), out);
            break;
        case "array":
            stringFields(def.element, `${at}[]`, out);
            break;
        case "optional":
        case "default":
        case "prefault":
        case "nullable":
        case "readonly":
            stringFields(def.innerType, at, out);
            break;
        case "union":
            for (const option of def.options as unknown[]) stringFields(option, at, out);
            break;
        case "record":
            stringFields(def.valueType, join("*"), out);
            break;
        case "pipe":
            stringFields(def.in, at, out);
            break;
        case "string":
            out.add(at);
            break;
    }
    return out;
}

/** A different value of the same kind, still valid. */
function edited(field: string, value: string): string {
    if (field.endsWith(".color")) return value.toUpperCase() === "#123456" ? "#654321" : "#123456";
    if (field.endsWith(".emoji")) return value === ":sparkles:" ? ":rocket:" : ":sparkles:";
    return `${value} edited`;
}

/** Edits, in place, every value of `config` at a free-text field path; returns how many it edited. */
function editField(config: unknown, field: string): number {
    const parts = field.split(/\.|(?=\[\])/).flatMap((p) => (p.startsWith("[]") ? ["[]", p.slice(2)] : [p]));
    const keys = parts.filter((p) => p !== "");
    const visit = (node: unknown, i: number): number => {
        if (node === null || typeof node !== "object") return 0;
        const key = keys[i];
        const children: [string | number, unknown][] =
            key === "[]"
                ? (node as unknown[]).map((v, j) => [j, v])
                : key === "*"
                  ? Object.entries(node)
                  : [[key, (node as Record<string, unknown>)[key]]];
        if (i < keys.length - 1) return children.reduce((n, [, child]) => n + visit(child, i + 1), 0);
        let n = 0;
        for (const [k, v] of children)
            if (typeof v === "string") {
                (node as Record<string | number, unknown>)[k] = edited(field, v);
                n++;
            }
        return n;
    };
    return visit(config, 0);
}

/** The top-level config keys in a stack file: `ci-platform:clusters` is `clusters`. */
function platformConfig(file: string): { config: Record<string, unknown>; platform: Record<string, unknown> } {
    const config = (parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
    const platform: Record<string, unknown> = {};
    for (const key of Object.keys(config))
        if (key.startsWith("ci-platform:")) platform[key.slice("ci-platform:".length)] = config[key];
    return { config, platform };
}

describe("free-text fields of the config", () => {
    it("are listed, and every other string of the schema is named with why it is not", () => {
        const fields = [...stringFields(platformConfigSchema)].sort();
        const classified = [...FREE_TEXT, ...Object.keys(NOT_FREE_TEXT)];
        assert.deepEqual(
            fields.filter((f) => !classified.includes(f)),
            [],
            "a new string field: add it to FREE_TEXT or NOT_FREE_TEXT",
        );
        assert.deepEqual(
            classified.filter((f) => !fields.includes(f)),
            [],
            "a field the schema no longer has",
        );
        assert.deepEqual(
            FREE_TEXT.filter((f) => f in NOT_FREE_TEXT),
            [],
        );
    });
});

describe("editing every free-text field of the prod config", () => {
    let base: PlanDocument;
    let head: PlanDocument;
    let diff: PlanDiff;
    const counts: Record<string, number> = {};
    before(async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-free-text-"));
        const { config, platform } = platformConfig(path.join(ROOT, "Pulumi.prod.yaml"));
        for (const field of FREE_TEXT) counts[field] = editField(platform, field);
        for (const [key, value] of Object.entries(platform)) config[`ci-platform:${key}`] = value;
        const file = path.join(dir, "Pulumi.edited.yaml");
        writeFileSync(file, JSON.stringify({ config }));
        for (const [args, out] of [
            [[], "base.json"],
            [["--config", file], "head.json"],
        ] as const) {
            const run = await planInProcess(...[...args, "--json", path.join(dir, out)]);
            assert.equal(run.code, 0, run.stderr);
        }
        base = JSON.parse(readFileSync(path.join(dir, "base.json"), "utf8")) as PlanDocument;
        head = JSON.parse(readFileSync(path.join(dir, "head.json"), "utf8")) as PlanDocument;
        diff = diffPlans(base, head);
    });

    it("edits values in the prod config for most fields (the test is not vacuous)", () => {
        const edited = FREE_TEXT.filter((f) => counts[f] > 0);
        // 11 of prod's: the tags left this list (a setting: they roll instances), taking two edited fields with them.
        assert.ok(edited.length >= 11, `edited: ${edited.join(", ")}`);
        assert.ok(diff.updated.length > 0);
    });

    it("replaces, adds and removes nothing", () => {
        assert.deepEqual(
            diff.replaced.map((c) => `${c.name}: ${c.replaceReasons.join(", ")}`),
            [],
        );
        assert.deepEqual(
            [...diff.added, ...diff.removed].map((r) => r.urn),
            [],
        );
    });

    it("leaves every agent token's description alone, so no provider version could rotate a token", () => {
        // terraform-provider-buildkite up to v1.27.0 (buildkite/resource_cluster_agent_token.go) replaced a token whose
        // description changed; the description holds no free text, so even under those facts nothing is replaced.
        const strict = {
            ...REPLACE_ON_CHANGE,
            "buildkite:Cluster/clusterAgentToken:ClusterAgentToken": ["clusterId", "description"],
        };
        assert.deepEqual(
            diffPlans(base, head, strict).replaced.map((c) => c.name),
            [],
        );
    });

    it("has a replace-on-change entry for every resource type the prod plan declares", () => {
        const types = [...new Set(head.resources.map((r) => r.type))].filter(
            (t) => t !== STACK_TYPE && !isProvider({ type: t }) && !t.startsWith("ci-platform:"),
        );
        assert.deepEqual(types.filter((t) => !(t in REPLACE_ON_CHANGE)).sort(), []);
    });
});
