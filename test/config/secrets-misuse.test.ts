import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { SECRET_VALUE_PLACEHOLDER, loadStackSecrets } from "../../components/config";
import { loadStackConfig } from "../../components/platform-config";
import { CapturedProgram, captureStack } from "../../scripts/plan/capture";
import { readStackFile, secretVersionsIn } from "../../scripts/plan/stack-file";
import { ROOT } from "../fixtures/cli";

/*
 * The program's config cannot leak a secret: a use of `config.secrets` outside the secrets buckets (here, written
 * into a plain resource input on purpose) gets names and placeholders, never a value. Before the secrets were read
 * with getSecretObject, loadStackConfig returned the plain values and this resource carried them in the clear.
 */
let captured: CapturedProgram;
let secretsOutput: pulumi.Output<unknown> | undefined;
const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply(r));

before(async () => {
    const { config, secretKeys } = readStackFile(path.join(ROOT, "Pulumi.prod.yaml"));
    captured = await captureStack({
        project: "ci-platform",
        stack: "prod",
        config,
        secretKeys,
        run: () => {
            const platform = loadStackConfig();
            secretsOutput = loadStackSecrets();
            const provider = new aws.Provider("aws", { region: "us-east-1" });
            new aws.s3.BucketObjectv2(
                "misuse",
                { bucket: "elsewhere", key: "config.json", content: JSON.stringify(platform.secrets) },
                { provider },
            );
        },
    });
});

describe("a use of the secrets config outside the secrets buckets", () => {
    it("gets no secret value, in plain text or marked secret", () => {
        const misuse = captured.resources.find((r) => r.name === "misuse");
        assert.ok(misuse);
        const value = String(misuse.inputs.content);
        assert.deepEqual(secretVersionsIn(value), [], "a secret value in plain text");
        assert.equal(captured.secretVersions[misuse.urn], undefined, "a secret value, even marked secret");
        assert.ok(value.includes(SECRET_VALUE_PLACEHOLDER), "the names stay, with placeholders");
        assert.ok(value.includes("BUILDKITE_API_TOKEN"));
    });

    it("reads the values as a Pulumi secret", async () => {
        assert.ok(secretsOutput);
        assert.equal(await pulumi.isSecret(secretsOutput), true);
        const values = JSON.stringify(await resolve(secretsOutput));
        assert.ok(secretVersionsIn(values).length >= 10);
        assert.ok(!values.includes(SECRET_VALUE_PLACEHOLDER));
    });
});
