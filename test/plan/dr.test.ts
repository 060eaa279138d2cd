import assert from "node:assert/strict";
import { parseVersionsText } from "../../components/images/versions";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ROOT, runScript } from "../fixtures/cli";

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
        const restored = out.stdout.split("Restored from config")[1].split("Image pushes")[0];
        assert.match(restored, /pulumi:providers:docker::docker-eu-west-1/);
        assert.match(out.stdout, /pulumi state unprotect --stack 'prod' --yes '[^']*secrets-eu-west-1-bucket'/);
    });

    it("lists image pushes apart: not restored if missing, with the check and the --replace to push again", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const restored = out.stdout.split("Restored from config")[1].split("Image pushes")[0];
        assert.doesNotMatch(restored, /docker:index\/image:Image/, "a push is never restored by pulumi up");
        const pushes = out.stdout
            .split(/Image pushes \(\d+\): NOT restored if missing/)[1]
            ?.split("Rebuild in place")[0];
        assert.ok(pushes, "an image pushes section");
        const urn =
            "urn:pulumi:prod::ci-platform::ci-platform:images:Image$docker:index/image:Image::buildkite-test-eu-west-1-py3.12";
        const version = (parseVersionsText(readFileSync(path.join(ROOT, "agent-images/versions.json"), "utf8")).value ??
            {})["buildkite-test"];
        assert.ok(
            pushes.includes(
                `check: aws ecr describe-images --region eu-west-1 --repository-name ci-platform/buildkite-test --image-ids imageTag='py3.12-${version}'`,
            ),
        );
        assert.ok(pushes.includes(`push:  pulumi up --stack 'prod' --target '${urn}' --replace '${urn}'`));
    });

    it("evacuates a lost region: unprotect, then drop its AWS resources from the state, then move and up", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const steps = out.stdout
            .split("Evacuate instead")[1]
            .split("\n")
            .map((l) => /^\s+\d+\. (.*)$/.exec(l)?.[1])
            .filter((l): l is string => l !== undefined);
        const index = (re: RegExp) => steps.findIndex((l) => re.test(l));
        const lastIndex = (re: RegExp) => steps.map((l) => re.test(l)).lastIndexOf(true);
        const F = "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$";
        const deleted = steps
            .filter((l) => l.startsWith("pulumi state delete --stack 'prod' --yes '"))
            .map((l) => l.split(" --yes ")[1].slice(1, -1));
        // The fleet's stack and token parameter, whose replacement would otherwise start with a delete in the lost
        // region, leave the state; so do its other AWS resources, the bucket's objects and settings, and the pushes.
        for (const urn of [
            `${F}aws:cloudformation/stack:Stack::linux-eu-west-1-stack`,
            `${F}aws:ssm/parameter:Parameter::linux-eu-west-1-token-parameter`,
            `${F}aws:iam/policy:Policy::linux-eu-west-1-policy`,
            `${F}aws:s3/bucketObjectv2:BucketObjectv2::linux-eu-west-1-bootstrap`,
            "urn:pulumi:prod::ci-platform::ci-platform:agents:SecretsBucket$aws:kms/alias:Alias::secrets-eu-west-1-key-alias",
            "urn:pulumi:prod::ci-platform::ci-platform:images:Image$docker:index/image:Image::deb-builder-eu-west-1-trixie",
        ])
            assert.ok(deleted.includes(urn), `state delete of ${urn}`);
        // Retained resources, Buildkite resources, components and providers stay.
        for (const kept of [
            /kms\/key:Key::/,
            /s3\/bucket:Bucket::/,
            /ecr\/repository:Repository::/,
            /buildkite:/,
            /providers:/,
        ])
            assert.ok(!deleted.some((u) => kept.test(u)), `${kept} is not state-deleted`);
        assert.ok(!deleted.some((u) => /::ci-platform:agents:(Fleet|SecretsBucket)::/.test(u)), "no component");
        assert.equal(new Set(deleted).size, deleted.length);
        // Order: unprotect, then the stack before what it depends on, then the config edit, the diff and up.
        assert.ok(lastIndex(/^pulumi state unprotect /) < index(/^pulumi state delete /));
        assert.ok(
            index(/stack:Stack::linux-eu-west-1-stack/) < index(/parameter:Parameter::linux-eu-west-1-token-parameter/),
        );
        assert.ok(index(/alias:Alias::/) < lastIndex(/^pulumi state delete /));
        assert.ok(lastIndex(/^pulumi state delete /) < index(/^set `region:` of dagster-eu-west-1, linux-eu-west-1 /));
        assert.match(steps.at(-2) ?? "", /^check `npm run plan -- --diff/);
        assert.equal(steps.at(-1), "pulumi up --stack 'prod'");
    });

    it("names the nearest region when given one without fleets", async () => {
        const out = await dr("--region", "eu-west-2");
        assert.equal(out.code, 2);
        assert.match(out.stderr, /no AWS fleet runs in region "eu-west-2"; did you mean "eu-west-1"\?/);
    });
});
