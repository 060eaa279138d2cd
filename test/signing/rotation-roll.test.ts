import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { signingParameterPaths, signingParameterPatterns } from "../../components/signing/fleets";
import { consequencesOf } from "../../scripts/plan/consequences";
import { type PlanDiff, diffPlans } from "../../scripts/plan/diff";
import type { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { resourceMatches } from "../../policy/reachability";
import { planOfEditedProd } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";
import { AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/*
 * A key rotation reaches every running instance (issue 16): the Elastic CI Stack reads the key sets once, at boot, so
 * their SSM paths carry a digest of the public material, and a changed set is a new path, a new stack parameter, a
 * new launch template and a roll of the fleet. Only the fleets of the cluster whose keys changed roll.
 */
const dir = mkdtempSync(path.join(tmpdir(), "signing-roll-"));
const STACK = "aws:cloudformation/stack:Stack";
const PARAMETER = "aws:ssm/parameter:Parameter";
const POLICY = "aws:iam/policy:Policy";
/** The AWS fleets of cluster default in prod (Windows too: its bootstrap reads the same parameters). */
const DEFAULT_FLEETS = [
    "large-us-east-1",
    "linux-ap-southeast-1",
    "linux-eu-west-1",
    "linux-us-east-1",
    "windows-us-east-1",
];

type Cluster = { name: string; signing?: { verificationKeys?: unknown[] } };
let base: PlanDocument;
let head: PlanDocument;
let diff: PlanDiff;
let newKid: PlanDocument;

const byName = (plan: PlanDocument, name: string, type: string): PlanResource => {
    const found = plan.resources.find((r) => r.name === name && r.type === type);
    assert.ok(found, name);
    return found;
};
const stackParameters = (plan: PlanDocument, fleet: string) =>
    byName(plan, `${fleet}-stack`, STACK).inputs.parameters as Record<string, string>;

before(async () => {
    // The prod stack's own plan, shared with the other files of the process (stack prod; diffs are stack-neutral).
    base = await planAsCliWrites();
    head = await planOfEditedProd(dir, "added-key", (config) => {
        const clusters = config["ci-platform:clusters"] as Cluster[];
        const cluster = clusters.find((c) => c.name === "default");
        assert.ok(cluster?.signing?.verificationKeys);
        // Rotation, step 1: the new public key beside the old one.
        cluster.signing.verificationKeys.push(...(JSON.parse(AGENT_TEST_PUBLIC_JWKS) as { keys: unknown[] }).keys);
    });
    diff = diffPlans(base, head);
    newKid = await planOfEditedProd(dir, "new-kid", (config) => {
        const cluster = (config["ci-platform:clusters"] as Cluster[]).find((c) => c.name === "default");
        assert.ok(cluster?.signing?.verificationKeys);
        cluster.signing.verificationKeys.push(...(JSON.parse(AGENT_TEST_PUBLIC_JWKS) as { keys: unknown[] }).keys);
        // Rotation, step 2: sign with the new key (the private set is a secret: the prod stack file's stays).
        (cluster.signing as Record<string, unknown>).signingKeyId = "TEST_DO_NOT_USE";
    });
});

describe("a new verification key rolls its cluster's fleets, and no other's", () => {
    it("gives each fleet of the cluster a new verification path, in the parameter and in the stack", () => {
        const aws = head.resources
            .filter((r) => r.type === STACK)
            .map((r) => r.name.replace(/-stack$/, ""))
            .filter((f) => stackParameters(head, f).BuildkiteAgentVerificationKeySSMParameter !== undefined);
        const changed = aws.filter(
            (f) =>
                stackParameters(head, f).BuildkiteAgentVerificationKeySSMParameter !==
                stackParameters(base, f).BuildkiteAgentVerificationKeySSMParameter,
        );
        assert.deepEqual(changed.sort(), DEFAULT_FLEETS);
        assert.ok(aws.length > changed.length, "other clusters' fleets keep their paths");
        for (const fleet of DEFAULT_FLEETS) {
            const before = byName(base, `${fleet}-verification-jwks`, PARAMETER);
            const after = byName(head, `${fleet}-verification-jwks`, PARAMETER);
            assert.notEqual(after.inputs.name, before.inputs.name, fleet);
            assert.match(
                String(after.inputs.name),
                new RegExp(`^/ci-platform/${fleet}/verification-jwks-[0-9a-f]{16}$`),
            );
            assert.equal(stackParameters(head, fleet).BuildkiteAgentVerificationKeySSMParameter, after.inputs.name);
        }
    });

    it("says in the plan's consequences that those fleets replace their instances, and only those", () => {
        const instances = consequencesOf(diff)
            .filter((c) => c.kind === "instances")
            .map((c) => c.text);
        // The upload fleets' signing paths carry the same digest, so they move too (and their agents keep the key).
        const both = "BuildkiteAgentSigningKeySSMParameter, BuildkiteAgentVerificationKeySSMParameter";
        assert.deepEqual(instances, [
            `large-us-east-1: replaces its instances (${both})`,
            `linux-ap-southeast-1: replaces its instances (${both})`,
            "linux-eu-west-1: replaces its instances (BuildkiteAgentVerificationKeySSMParameter)",
            `linux-us-east-1: replaces its instances (${both})`,
            `windows-us-east-1: replaces its instances (${both})`,
        ]);
    });

    it("keeps the old parameters for a rollback, and the role reads every version of its own paths only", () => {
        for (const fleet of DEFAULT_FLEETS) {
            const old = byName(base, `${fleet}-verification-jwks`, PARAMETER);
            assert.equal(old.retainOnDelete, true, `${fleet}: the old path outlives the roll`);
            assert.equal(old.inputs.overwrite, true, `${fleet}: a path that comes back is written over`);
            // The role's policy does not change with the keys, and it reads the old and the new path.
            assert.ok(!diff.updated.some((c) => c.type === POLICY && c.name.startsWith(`${fleet}-`)), fleet);
            const policy = JSON.parse(String(byName(head, `${fleet}-policy`, POLICY).inputs.policy)) as {
                Statement: { Sid?: string; Resource: string | string[] }[];
            };
            const grant = policy.Statement.find((s) => s.Sid === "ReadSigningKeys");
            assert.ok(grant, fleet);
            const resources = [grant.Resource].flat();
            // An ARN of `path` in the fleet's account and region (parameterArn: `...:parameter` + the path).
            const reads = (path: string) =>
                resources.some((p) => resourceMatches(p, `${p.slice(0, p.indexOf(":parameter/") + 10)}${path}`));
            const now = String(byName(head, `${fleet}-verification-jwks`, PARAMETER).inputs.name);
            assert.ok(reads(String(old.inputs.name)), `${fleet} reads the old path`);
            assert.ok(reads(now), `${fleet} reads the new path`);
            assert.ok(!reads(now.replace(`/${fleet}/`, `/${fleet}x/`)), `${fleet} reads no other fleet's`);
        }
    });
});

describe("signing with the new key rolls the fleets that sign, and only those", () => {
    it("moves their signing path and kid; the other fleets keep their verification path", () => {
        const instances = consequencesOf(diffPlans(head, newKid))
            .filter((c) => c.kind === "instances")
            .map((c) => c.text);
        const signing = "BuildkiteAgentSigningKeyID, BuildkiteAgentSigningKeySSMParameter";
        assert.deepEqual(
            instances,
            DEFAULT_FLEETS.filter((f) => f !== "linux-eu-west-1").map(
                (f) => `${f}: replaces its instances (${signing})`,
            ),
        );
    });
});

describe("signing parameter paths", () => {
    const signing = { signingKeyId: "default-2026", verificationJwks: '{"keys":[{"kid":"default-2026"}]}' };

    it("change with the verification set and with the signing kid (rotation steps 1, 2 and 3 each roll)", () => {
        const a = signingParameterPaths("f", signing);
        const newKid = signingParameterPaths("f", { ...signing, signingKeyId: "default-2027" });
        assert.notEqual(newKid.signing, a.signing);
        assert.equal(newKid.verification, a.verification, "a new kid rolls only the fleets that sign");
        assert.notEqual(
            signingParameterPaths("f", { ...signing, verificationJwks: '{"keys":[]}' }).verification,
            a.verification,
        );
        assert.deepEqual(signingParameterPaths("f", { ...signing }), a, "the same keys, the same paths");
    });

    it("are matched by the role's patterns, which match no other fleet's", () => {
        const paths = signingParameterPaths("f", signing);
        const patterns = signingParameterPatterns("f", true);
        for (const p of [paths.signing, paths.verification])
            assert.ok(
                patterns.some((pattern) => resourceMatches(pattern, p)),
                p,
            );
        const other = signingParameterPaths("f2", signing).verification;
        assert.ok(!patterns.some((pattern) => resourceMatches(pattern, other)), other);
        assert.deepEqual(
            signingParameterPatterns("f", false).filter((p) => p.includes("signing-jwks")),
            [],
            "no private set for a fleet that does not sign",
        );
    });
});
