import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { secretObjectName } from "../../components/agents/naming";
import type { CapturedProgram } from "../../scripts/plan/capture";
import { readStackFile, secretVersionsIn } from "../../scripts/plan/stack-file";
import { ROOT } from "../fixtures/cli";
import { cachedRun } from "../fixtures/plans";

/*
 * No plain secret reaches any resource input, and the secrets reach the secrets buckets' objects only. The real
 * program runs on the prod stack file, as `npm run plan` runs it: each `secure:` value there becomes a distinctive
 * `[secret:<version>]` (scripts/plan/stack-file.ts securePlaceholder), so every place a secret lands can be found:
 * - marked secret, the plan shows "[secret]" and records the version at that input path (capture.ts secretVersions);
 * - not marked, the placeholder itself would be in the plan's inputs.
 */
const STACK_FILE = path.join(ROOT, "Pulumi.prod.yaml");
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
let captured: CapturedProgram;
let versions: string[];

before(async () => {
    const { config } = readStackFile(STACK_FILE);
    versions = [...new Set(secretVersionsIn(config["ci-platform:secrets"] ?? ""))].sort();
    // The prod stack's run as `npm run plan` makes it (scripts/plan/run.ts runPlan: the capture of the program on
    // Pulumi.prod.yaml), shared with the other files of the process.
    const run = await cachedRun({ stack: "prod" });
    captured = {
        resources: [...run.plan.resources],
        outputs: run.outputs,
        secretVersions: run.plan.secretVersions ?? {},
    };
});

describe("secrets are secrets from the start", () => {
    it("has distinct secret values to follow", () => {
        assert.ok(versions.length >= 10, `only ${versions.length} secure values in the prod stack file`);
    });

    it("marks secret every resource input and output that holds a secret value", () => {
        const unmarked = captured.resources.flatMap((r) =>
            secretVersionsIn(JSON.stringify(r.inputs)).map((v) => `${r.urn} holds secret ${v} in plain text`),
        );
        assert.deepEqual(unmarked, []);
        assert.deepEqual(secretVersionsIn(JSON.stringify(captured.outputs)), []);
    });

    it("puts the secret values in the secret objects' content (signing keys in their SSM parameters) and nowhere else", () => {
        const byUrn = new Map(captured.resources.map((r) => [r.urn, r]));
        const elsewhere: string[] = [];
        const reached = new Set<string>();
        for (const [urn, paths] of Object.entries(captured.secretVersions)) {
            const r = byUrn.get(urn);
            const carried = Object.values(paths).flatMap((v) => v.split(","));
            const isSecretObject =
                r?.type === OBJECT &&
                r.parent !== null &&
                r.name === secretObjectName(r.parent.split("::").pop() ?? "", String(r.inputs.key));
            // A cluster's private signing key set goes to the SSM SecureString of each fleet that signs uploads
            // (components/signing/fleets.ts), and nowhere else.
            const isSigningParameter = r?.type === "aws:ssm/parameter:Parameter" && r.name.endsWith("-signing-jwks");
            if (isSigningParameter && Object.keys(paths).join() === "value") carried.forEach((v) => reached.add(v));
            else if (!isSecretObject || Object.keys(paths).join() !== "content")
                elsewhere.push(`${urn}: ${Object.keys(paths).join(", ")}`);
            else carried.forEach((v) => reached.add(v));
        }
        assert.deepEqual(elsewhere, []);
        // Not vacuous: every secure value of the stack file reaches at least one secret object, but a signing key
        // set of a cluster without AWS fleets (macos: it signs the stored steps only, whose signatures are public).
        const { config } = readStackFile(STACK_FILE);
        const signing = (JSON.parse(config["ci-platform:secrets"] ?? "{}") as { signing?: Record<string, string> })
            .signing;
        const unreached = versions.filter((v) => !reached.has(v));
        const signingOnly = new Set(secretVersionsIn(JSON.stringify(signing ?? {})));
        assert.ok(unreached.length <= 1 && unreached.every((v) => signingOnly.has(v)), unreached.join(", "));
    });
});
