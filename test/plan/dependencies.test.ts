import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { secretsBucketName } from "../../components/agents/naming";
import { pipelinesServed } from "../../components/config/access-checks";
import { ecrRegion, pipelineSteps, platformImagePath } from "../../policy/platform";
import type { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { planInProcess } from "../fixtures/cli";
import { prodConfig } from "../fixtures/config";

/*
 * Issue 17, "every step finds what it needs", on the prod plan's `dependsOn` (npm run plan -- --json):
 * - each fleet's CloudFormation stack waits for every object its instances read at boot (the bootstrap script or
 *   agent env file, the hooks bundle) and the secrets objects its jobs read, and no other cluster's or pipeline's;
 * - each pipeline waits for the pushes of exactly the image tags its steps name, stored or uploaded, in the regions
 *   of the fleets that run those steps.
 * Expectations are computed from the config and the plan's own inputs (the policy pack's step reader parses the
 * stored YAML and the documents it uploads), not from the program's code under test.
 */

let resources: PlanResource[] = [];
const byName = (type: string, name: string): PlanResource => {
    const r = resources.find((x) => x.type === type && x.name === name);
    assert.ok(r, `${type} ${name} in the plan`);
    return r;
};
const names = (urns: readonly string[]) => urns.map((u) => u.slice(u.lastIndexOf("::") + 2)).sort();
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

before(async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "deps-plan-")), "plan.json");
    const run = await planInProcess(...["--json", out]);
    assert.equal(run.code, 0, run.stderr);
    resources = [...(JSON.parse(readFileSync(out, "utf8")) as PlanDocument).resources];
});

describe("every fleet's stack waits for what its instances and jobs read", () => {
    it("depends on its boot object, its bucket's hooks bundle (Linux) and exactly its pipelines' secrets", () => {
        const config = prodConfig();
        let secretDeps = 0;
        for (const fleet of config.fleets) {
            if (fleet.kind !== "aws") continue;
            const stack = byName("aws:cloudformation/stack:Stack", `${fleet.name}-stack`);
            const bucket = resources.find(
                (r) =>
                    r.type === "ci-platform:agents:SecretsBucket" &&
                    r.name === secretsBucketName(fleet.region, fleet.cluster),
            );
            assert.ok(bucket, `the bucket of ${fleet.name}`);
            const objects = resources.filter((r) => r.type === OBJECT && r.parent === bucket.urn);
            const deps = new Set(stack.dependsOn);

            const hooks = objects.filter((o) => String(o.inputs.key).startsWith("_ci-platform/hooks/"));
            assert.ok(hooks.length > 0);
            const linux = fleet.os === "linux";
            for (const h of hooks) assert.equal(deps.has(h.urn), linux, `${fleet.name} waits for ${h.name}: ${linux}`);
            const boot = byName(OBJECT, `${fleet.name}-${linux ? "bootstrap" : "agent-env"}`);
            assert.ok(deps.has(boot.urn), `${fleet.name} waits for ${boot.name}`);

            // What its jobs read: the root objects when its cluster takes organisation secrets, and the objects of
            // the pipelines it serves (the fleet's IAM grants, from the same definition).
            const served = new Set(pipelinesServed(config, fleet).map((p) => p.slug));
            const takesOrg =
                config.secrets.organization !== undefined &&
                config.clusters.find((c) => c.name === fleet.cluster)?.organizationSecrets !== false;
            const secrets = objects.filter((o) => !String(o.inputs.key).startsWith("_ci-platform/"));
            const expected = secrets.filter((o) => {
                const [first, ...rest] = String(o.inputs.key).split("/");
                const pipeline = rest.length > 0 && first !== "secret-files" ? first : undefined;
                return pipeline === undefined ? takesOrg : served.has(pipeline);
            });
            assert.deepEqual(
                names(stack.dependsOn.filter((u) => secrets.some((s) => s.urn === u))),
                names(expected.map((o) => o.urn)),
                fleet.name,
            );
            secretDeps += expected.length;
            // Nothing of another bucket.
            const foreign = resources.filter(
                (r) => r.type === OBJECT && r.parent !== bucket.urn && r.parent !== stack.parent,
            );
            assert.deepEqual(
                foreign.filter((r) => deps.has(r.urn)).map((r) => r.name),
                [],
            );
        }
        assert.ok(secretDeps >= 3, `the prod plan exercises secrets dependencies (${secretDeps})`);
    });
});

describe("every pipeline waits for the image pushes its steps pull", () => {
    it("depends on exactly the pushes of the tags its stored and uploaded steps name, in its fleets' regions", () => {
        const config = prodConfig();
        const pushes = resources.filter((r) => r.type === "docker:index/image:Image");
        let uploadedNeeds = 0;
        for (const pipeline of resources.filter((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline")) {
            const slug = String(pipeline.inputs.slug ?? pipeline.name.replace(/-pipeline$/, ""));
            const pc = config.pipelines.find((p) => p.slug === slug);
            assert.ok(pc, slug);
            const expected = new Set<string>();
            for (const step of pipelineSteps(String(pipeline.inputs.steps))) {
                if (step.kind !== "command" || step.image === undefined) continue;
                const reference = platformImagePath(step.image);
                if (reference === undefined) continue;
                for (const fleet of config.fleets) {
                    if (fleet.cluster !== pc.cluster || fleet.queue !== step.queue) continue;
                    const region = fleet.kind === "aws" ? fleet.region : config.homeRegion;
                    const push = pushes.find(
                        (p) =>
                            ecrRegion(String(p.inputs.imageName)) === region &&
                            platformImagePath(String(p.inputs.imageName)) === reference,
                    );
                    assert.ok(push, `${slug}: a push of ${reference} to ${region}`);
                    expected.add(push.urn);
                    if (step.uploaded) uploadedNeeds++;
                }
            }
            assert.deepEqual(
                names(pipeline.dependsOn.filter((u) => pushes.some((p) => p.urn === u))),
                names([...expected]),
                slug,
            );
        }
        // The monorepo's package steps are uploaded at build time, and name images too.
        assert.ok(uploadedNeeds > 0, "an uploaded step names an image in the prod config");
        assert.deepEqual(
            names(byName("buildkite:Pipeline/pipeline:Pipeline", "dagster-pipeline").dependsOn).filter((n) =>
                n.startsWith("buildkite-test-"),
            ),
            ["buildkite-test-eu-west-1-py3.12"],
        );
    });
});
