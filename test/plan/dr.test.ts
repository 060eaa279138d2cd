import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runScript } from "../fixtures/cli";

const dr = (...args: string[]) => runScript("scripts/dr.ts", args);

describe("npm run dr", () => {
    it("prints the commands that rebuild one fleet: its stack and token replaced, its region's bucket kept", async () => {
        const out = await dr("--fleet", "linux-ap-southeast-1");
        assert.equal(out.code, 0, out.stderr);
        const stack =
            "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:cloudformation/stack:Stack::linux-ap-southeast-1-stack";
        assert.match(out.stdout, /Recovery of fleet linux-ap-southeast-1 in stack prod/);
        const up = out.stdout.split("\n").find((l) => l.includes("pulumi up --stack 'prod'"));
        assert.ok(up, "a pulumi up command");
        assert.ok(up.includes(`--replace '${stack}'`), "the fleet's stack is replaced");
        assert.ok(
            !up.includes(
                "--replace 'urn:pulumi:prod::ci-platform::ci-platform:agents:SecretsBucket$aws:s3/bucket:Bucket",
            ),
        );
        assert.doesNotMatch(out.stdout, /linux-us-east-1-stack/, "no other fleet is touched");
    });

    it("lists a region's stateful resources as retained, with the commands to evacuate it", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const retained = out.stdout.split("Recreated from config")[0];
        assert.match(retained, /aws:s3\/bucket:Bucket::secrets-eu-west-1-bucket/);
        assert.match(retained, /aws:kms\/key:Key::secrets-eu-west-1-key/);
        // Images are pushed to every fleet region: the region's repositories are state too.
        assert.match(retained, /aws:ecr\/repository:Repository::buildkite-test-eu-west-1-repository/);
        assert.match(out.stdout, /pulumi state unprotect --stack 'prod' --yes '[^']*deb-builder-eu-west-1-repository'/);
        const restored = out.stdout.split("Restored from config")[1];
        assert.match(restored, /docker:index\/image:Image::buildkite-test-eu-west-1-py3\.12/);
        assert.match(restored, /pulumi:providers:docker::docker-eu-west-1/);
        assert.match(out.stdout, /pulumi state unprotect --stack 'prod' --yes '[^']*secrets-eu-west-1-bucket'/);
    });

    it("names the nearest region when given one without fleets", async () => {
        const out = await dr("--region", "eu-west-2");
        assert.equal(out.code, 2);
        assert.match(out.stderr, /no AWS fleet runs in region "eu-west-2"; did you mean "eu-west-1"\?/);
    });
});
