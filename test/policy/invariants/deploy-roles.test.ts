import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    buildkiteSubjects,
    canWrite,
    deployRolesApart,
    sessionTagProblems,
} from "../../../policy/invariants/deploy-roles";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { type Editable, named, prodResources } from "./plan-resources";

/*
 * Issue 12, "Deploy credentials": a step that assumes a deploy role runs only on a queue of a cluster holding no
 * other pipeline. Checked on the prod plan, and on copies of it edited the ways a config or code change could.
 */

const check = (resources: readonly PlanResource[]) => deployRolesApart.check(resources, { requiredTags: [] });
const ROLE = "aws:iam/role:Role";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

/** Rewrites a role's trust policy's subjects (and audience) in place. */
function retrust(resources: Editable[], role: string, subjects: string[], audience = "sts.amazonaws.com"): Editable[] {
    const r = named(resources, role, ROLE);
    const doc = JSON.parse(String(r.inputs.assumeRolePolicy)) as {
        Statement: { Condition: { StringLike: Record<string, unknown>; StringEquals: Record<string, unknown> } }[];
    };
    doc.Statement[0].Condition.StringLike["agent.buildkite.com:sub"] = subjects;
    doc.Statement[0].Condition.StringEquals["agent.buildkite.com:aud"] = audience;
    r.inputs.assumeRolePolicy = JSON.stringify(doc);
    return resources;
}
const sub = (pipeline: string, ref = "refs/heads/main", step = "deploy") =>
    `organization:learningequality:pipeline:${pipeline}:ref:${ref}:commit:*:step:${step}`;

describe("invariant deploy-roles-apart", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(deployRolesApart.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(deployRolesApart));
    });

    it("passes the prod plan, which declares the deploy role for ci-platform-deploy's deploy step on main", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        const deploy = named(resources, "deploy-roles-ci-platform-deploy", ROLE);
        assert.deepEqual(buildkiteSubjects(deploy), {
            subjects: [sub("ci-platform-deploy")],
            audience: true,
        });
        assert.equal(canWrite(deploy, resources), true);
        assert.equal(canWrite(named(resources, "deploy-roles-ci-platform-read", ROLE), resources), false);
        assert.equal(canWrite(named(resources, "deploy-roles-ci-platform-pr-preview", ROLE), resources), false);
        assert.equal(deploy.protect, true, "the deploy role is protected");
    });

    it("flags a deploy role whose pipeline shares its cluster with another pipeline", async () => {
        const resources = await prodResources();
        // ci-platform (pull request code) moved into the deploy cluster.
        const own = named(resources, "ci-platform-pipeline", PIPELINE);
        const deploy = named(resources, "ci-platform-deploy-pipeline", PIPELINE);
        own.inputs.clusterId = deploy.inputs.clusterId;
        own.dependsOn = deploy.dependsOn;
        const findings = check(resources);
        assert.equal(findings.length, 1, JSON.stringify(findings));
        assert.match(
            findings[0].message,
            /^Deploy role "deploy-roles-ci-platform-deploy" admits jobs of pipeline "ci-platform-deploy", whose cluster "deploy" also runs "ci-platform"/,
        );
    });

    it("flags wildcards where the pipeline or the branch stands, a missing subject condition, and another audience", async () => {
        const cases: [string[], string, RegExp][] = [
            [[sub("*")], "sts.amazonaws.com", /names no single pipeline/],
            [["organization:learningequality:*"], "sts.amazonaws.com", /names no single pipeline/],
            [
                [sub("ci-platform-deploy", "refs/heads/*")],
                "sts.amazonaws.com",
                /any branch of pipeline "ci-platform-deploy"/,
            ],
            [[sub("kolibri-python-package")], "sts.amazonaws.com", /cluster "default" also runs/],
            [[sub("not-in-this-stack")], "sts.amazonaws.com", /which this stack does not declare/],
            [[], "sts.amazonaws.com", /subject "\*", which names no single pipeline/],
            [
                [sub("ci-platform-deploy")],
                "https://buildkite.com/learningequality",
                /does not require agent\.buildkite\.com:aud/,
            ],
        ];
        for (const [subjects, audience, expected] of cases) {
            const resources = retrust(await prodResources(), "deploy-roles-ci-platform-deploy", subjects, audience);
            const messages = check(resources).map((f) => f.message);
            assert.ok(
                messages.some((m) => expected.test(m)),
                `${subjects.join(" ")}: ${messages.join("\n")}`,
            );
        }
    });

    it("flags a deploy role that a build created through the API or the UI could take (session tags build_source, pipeline_id)", async () => {
        type Doc = { Statement: { Condition: Record<string, Record<string, unknown>> }[] };
        const edit = (resources: Editable[], change: (doc: Doc) => void): Editable[] => {
            const r = named(resources, "deploy-roles-ci-platform-deploy", ROLE);
            const doc = JSON.parse(String(r.inputs.assumeRolePolicy)) as Doc;
            change(doc);
            r.inputs.assumeRolePolicy = JSON.stringify(doc);
            return resources;
        };
        const equals = (doc: Doc) => doc.Statement[0].Condition.StringEquals;
        const cases: [(doc: Doc) => void, RegExp][] = [
            [(d) => delete equals(d)["aws:RequestTag/build_source"], /does not require the session tag build_source/],
            [(d) => (equals(d)["aws:RequestTag/build_source"] = ["webhook", "api"]), /whose source is "api"/],
            [(d) => (equals(d)["aws:RequestTag/build_source"] = "ui"), /whose source is "ui"/],
            [(d) => (equals(d)["aws:RequestTag/build_source"] = ["webhook", "trigger_job"]), /"trigger_job"/],
            [
                (d) => {
                    delete equals(d)["aws:RequestTag/build_source"];
                    d.Statement[0].Condition.StringLike["aws:RequestTag/build_source"] = "*";
                },
                /does not require the session tag build_source/,
            ],
            [(d) => delete equals(d)["aws:RequestTag/pipeline_id"], /pipeline_id to be one pipeline's UUID/],
            [(d) => (equals(d)["aws:RequestTag/pipeline_id"] = "*"), /pipeline_id to be one pipeline's UUID/],
            [(d) => (equals(d)["aws:RequestTag/pipeline_id"] = ["a", "b"]), /pipeline_id to be one pipeline's UUID/],
        ];
        for (const [change, expected] of cases) {
            const findings = check(edit(await prodResources(), change)).map((f) => f.message);
            assert.equal(findings.length, 1, findings.join("\n"));
            assert.match(findings[0], /^Deploy role "deploy-roles-ci-platform-deploy" /);
            assert.match(findings[0], expected);
        }
        const prod = named(await prodResources(), "deploy-roles-ci-platform-deploy", ROLE);
        assert.deepEqual(sessionTagProblems(prod), []);
    });

    it("counts an inline Allow of read actions (the read role's kms:Decrypt through SSM) as reading, any other as writing", async () => {
        const resources = await prodResources();
        const read = named(resources, "deploy-roles-ci-platform-read", ROLE);
        const inline = named(resources, "deploy-roles-ci-platform-read-token-parameters");
        assert.match(String(inline.inputs.policy), /"kms:Decrypt"/);
        assert.equal(canWrite(read, resources), false);
        inline.inputs.policy = String(inline.inputs.policy).replace('"kms:Decrypt"', '["kms:Decrypt","kms:Encrypt"]');
        assert.equal(canWrite(read, resources), true);
    });

    it("leaves read-only roles alone, and judges one that gains a write policy", async () => {
        const resources = retrust(await prodResources(), "deploy-roles-ci-platform-read", [sub("*", "*", "preview")]);
        assert.deepEqual(check(resources), []);
        const attachment = named(resources, "deploy-roles-ci-platform-read-ReadOnlyAccess");
        attachment.inputs.policyArn = "arn:aws:iam::aws:policy/PowerUserAccess";
        assert.match(
            check(resources)[0]?.message ?? "",
            /Deploy role "deploy-roles-ci-platform-read" admits .* names no single pipeline/,
        );
    });
});
