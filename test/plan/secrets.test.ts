import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { platformConfigSchema, secretsSchema } from "../../components/config";
import { readStackFile } from "../../scripts/plan/stack-file";
import { planInProcess, ROOT } from "../fixtures/cli";
import { cachedRun } from "../fixtures/plans";

/*
 * Secret hygiene. A stack config is generated with a distinct sentinel in every secret-bearing place: every leaf of
 * the `ci-platform:secrets` schema, found by walking the schema itself, so a secret field added later is covered
 * without touching this test. No sentinel, agent token or webhook URL may appear in the plan's JSON, markdown,
 * printed output, the stack's exported outputs or any generated step.
 */
const dir = mkdtempSync(path.join(tmpdir(), "secrets-"));
const SLUG = "kolibri-python-package";
const sentinels: string[] = [];

/** A value for `schema` with a fresh sentinel in every string leaf. */
function fill(schema: z.core.$ZodType, where: string): unknown {
    const def = schema._zod.def;
    switch (def.type) {
        case "default":
        case "optional":
        case "nullable":
            return fill((def as z.core.$ZodDefaultDef).innerType, where);
        case "string": {
            const value = `SENTINEL${sentinels.length}x${where.replace(/[^A-Za-z0-9]/g, "")}`;
            sentinels.push(value);
            return value;
        }
        case "object": {
            const shape = (def as z.core.$ZodObjectDef).shape;
            return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fill(v, `${where}.${k}`)]));
        }
        case "record": {
            // Keys: a declared pipeline under `pipelines`, otherwise a name every key check accepts.
            const key = where.endsWith("pipelines") ? SLUG : "SENTINEL_API_TOKEN";
            return { [key]: fill((def as z.core.$ZodRecordDef).valueType, `${where}.${key}`) };
        }
        case "array":
            return [fill((def as z.core.$ZodArrayDef).element, `${where}[0]`)];
        case "union": {
            const options = (def as z.core.$ZodUnionDef).options;
            return fill(options.find((o) => o._zod.def.type === "array") ?? options[0], where);
        }
        default:
            throw new Error(`the sentinel generator does not know ${def.type} at ${where}; teach it`);
    }
}

const secrets = fill(secretsSchema, "secrets");
const leaks = (text: string) => [
    ...sentinels.filter((s) => text.includes(s)),
    ...(text.match(/bkct_[0-9a-f]{20,}/g) ?? []),
    ...(text.match(/webhook\.buildkite\.com\/deliver\/[0-9a-f]+/g) ?? []),
];

let stackFile = "";
let plan = { json: "", markdown: "", stdout: "", stderr: "", diff: "" };

before(async () => {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    // Plain text, as a test fixture may hold it; but the clusters' private signing key sets stay prod's encrypted
    // placeholders: a sentinel string is no Ed25519 key set, and a real one's leak is test/signing/plan-secret.test.ts's.
    doc.config["ci-platform:secrets"] = {
        ...(secrets as Record<string, unknown>),
        signing: (doc.config["ci-platform:secrets"] as { signing: unknown }).signing,
    };
    // The sentinels fill one pipeline's secrets; every cluster takes the organisation's, so every checkout has one.
    doc.config["ci-platform:clusters"] = (doc.config["ci-platform:clusters"] as Record<string, unknown>[]).map(
        ({ organizationSecrets: _, ...cluster }) => cluster,
    );
    // The gated children's release check needs its read_builds token (components/config/release-checks.ts).
    const org = (secrets as { organization: { env: Record<string, string> } }).organization;
    org.env.BUILDKITE_READ_BUILDS_TOKEN = org.env.SENTINEL_API_TOKEN;
    // Dagster's publish step publishes with it (ci-platform:pipelines[dagster].publish.secrets).
    org.env.TWINE_PASSWORD = org.env.SENTINEL_API_TOKEN;
    stackFile = path.join(dir, "Pulumi.sentinel.yaml");
    writeFileSync(stackFile, stringify(doc));
    const base = path.join(dir, "base.json");
    const node = async (...args: string[]) => {
        const result = await planInProcess(...args);
        assert.equal(result.code, 0, result.stderr);
        return result;
    };
    const first = await node(
        "--config",
        stackFile,
        "--json",
        path.join(dir, "plan.json"),
        "--markdown",
        path.join(dir, "plan.md"),
    );
    await node("--stack", "prod", "--json", base);
    const diff = await node("--config", stackFile, "--diff", base, "--markdown", path.join(dir, "diff.md"));
    plan = {
        json: readFileSync(path.join(dir, "plan.json"), "utf8"),
        markdown: readFileSync(path.join(dir, "plan.md"), "utf8") + readFileSync(path.join(dir, "diff.md"), "utf8"),
        stdout: first.stdout + diff.stdout,
        stderr: first.stderr + diff.stderr,
        diff: diff.stdout,
    };
});

describe("secret hygiene", () => {
    it("fills every leaf of the secrets schema with a sentinel", () => {
        assert.ok(sentinels.length >= 8, `only ${sentinels.length} sentinels`);
        assert.ok(secretsSchema.safeParse(secrets).success);
    });

    it("keeps every sentinel, agent token and webhook URL out of the plan JSON, markdown and printed output", () => {
        assert.deepEqual(leaks(plan.json), []);
        assert.deepEqual(leaks(plan.markdown), []);
        assert.deepEqual(leaks(plan.stdout + plan.stderr), []);
        assert.ok(plan.json.includes('"[secret]"'));
    });

    it("writes each secret into its bucket object, shown only as [secret]", () => {
        const doc = JSON.parse(plan.json) as { resources: { type: string; inputs: Record<string, unknown> }[] };
        const objects = doc.resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2");
        const secretObjects = objects.filter((o) => String(o.inputs.key).startsWith(`${SLUG}/`));
        assert.ok(secretObjects.length >= 3, "env, SSH key, git credentials and files of the pipeline");
        for (const o of secretObjects) assert.equal(o.inputs.content, "[secret]", String(o.inputs.key));
    });

    it("keeps them out of the stack's exported outputs and every generated step", async () => {
        const { secretKeys } = readStackFile(stackFile);
        assert.ok(secretKeys.includes("ci-platform:secrets"));
        // The capture of the program on the sentinel stack file (scripts/plan.ts runPlan), as the plans above made
        // it: the run they shared (planInProcess), not a second one.
        const captured = await cachedRun({ config: stackFile });
        assert.equal(captured.plan.stack, "sentinel");
        assert.deepEqual(leaks(JSON.stringify(captured.outputs)), []);
        const steps = captured.plan.resources
            .filter((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline")
            .map((r) => String(r.inputs.steps));
        assert.ok(steps.length > 0);
        assert.deepEqual(leaks(steps.join("\n")), []);
    });

    it("has no secret-looking field outside ci-platform:secrets (add it there, or to this list with a reason)", () => {
        const suspicious: string[] = [];
        const walk = (schema: z.core.$ZodType, where: string) => {
            const def = schema._zod.def;
            if (def.type === "default" || def.type === "optional" || def.type === "nullable")
                return walk((def as z.core.$ZodDefaultDef).innerType, where);
            if (def.type === "array") return walk((def as z.core.$ZodArrayDef).element, `${where}[]`);
            if (def.type === "record") return walk((def as z.core.$ZodRecordDef).valueType, `${where}{}`);
            if (def.type === "union") return (def as z.core.$ZodUnionDef).options.forEach((o) => walk(o, where));
            if (def.type !== "object") return;
            for (const [key, value] of Object.entries((def as z.core.$ZodObjectDef).shape)) {
                if (/token|password|secret|credential|private|ssh|apikey/i.test(key))
                    suspicious.push(`${where}.${key}`);
                walk(value, `${where}.${key}`);
            }
        };
        for (const [key, value] of Object.entries(platformConfigSchema.shape)) if (key !== "secrets") walk(value, key);
        // Not secret values: a number of days (how long old secret versions are kept); variable names and checkout
        // methods (what a pipeline needs, what a static fleet's machines hold), never their values; and whether a
        // cluster takes the organisation's secrets (a boolean).
        const allowed = [
            "clusters[].organizationSecrets",
            "elasticStack.secretsVersionExpirationDays",
            "fleets[].providesSecrets",
            "fleets[].checkoutCredentials",
            "pipelines[].requiresSecrets",
            "pipelines[].publish.secrets",
        ];
        assert.deepEqual(
            suspicious.filter((s) => !allowed.includes(s)),
            [],
        );
    });
});
