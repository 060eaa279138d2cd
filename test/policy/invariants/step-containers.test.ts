import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { containerImdsBlock, stepContainersNoInstanceRole } from "../../../policy/invariants/step-containers";
import { DEFAULT_PARAMS } from "../../../policy/rules";
import { named, prodResources, without } from "./plan-resources";

/*
 * Step containers and the instance role, judged on the prod stack's offline plan: every Linux fleet's bootstrap
 * script (the object BootstrapScriptUrl names) runs block_container_imds, or the fleet's config lets its steps use
 * the role. Windows fleets are not judged: nothing of ours runs there to block it.
 */
const check = (resources: Parameters<typeof stepContainersNoInstanceRole.check>[0]) =>
    stepContainersNoInstanceRole.check(resources, DEFAULT_PARAMS);

describe("step-containers-no-instance-role", () => {
    it("the prod plan complies: every Linux fleet's rendered bootstrap blocks IMDS for containers", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        assert.equal(containerImdsBlock(named(resources, "linux-us-east-1-bootstrap").inputs.content), "blocked");
    });

    it("a bootstrap script that never calls the block is a violation", async () => {
        const resources = await prodResources();
        const bootstrap = named(resources, "linux-us-east-1-bootstrap");
        bootstrap.inputs.content = String(bootstrap.inputs.content).replace(/^\s+block_container_imds$/m, "");
        const found = check(resources);
        assert.equal(found.length, 1);
        assert.match(
            found[0].message,
            /AWS fleet "linux-us-east-1" boots with a bootstrap script \(_ci-platform\/bootstrap\/linux-us-east-1-[0-9a-f]+\.sh\) that does not block IMDS/,
        );
    });

    it("a Linux fleet that boots with no bootstrap script, or another one, is a violation", async () => {
        const resources = await prodResources();
        const stack = named(resources, "linux-eu-west-1-stack");
        (stack.inputs.parameters as Record<string, string>).BootstrapScriptUrl = "";
        const other = named(resources, "linux-ap-southeast-1-stack");
        (other.inputs.parameters as Record<string, string>).BootstrapScriptUrl = "s3://elsewhere/theirs.sh";
        assert.deepEqual(
            check(resources).map((f) => f.urn.split("::").pop()),
            ["linux-ap-southeast-1", "linux-eu-west-1"],
        );
    });

    it("a Linux fleet whose bootstrap object is missing is a violation", async () => {
        const resources = without(await prodResources(), (r) => r.name === "large-us-east-1-bootstrap");
        assert.deepEqual(
            check(resources).map((f) => f.urn.split("::").pop()),
            ["large-us-east-1"],
        );
    });

    it("stepsUseInstanceRole: true rendered into the script is the config's word: no violation", async () => {
        const resources = await prodResources();
        const bootstrap = named(resources, "linux-us-east-1-bootstrap");
        bootstrap.inputs.content = String(bootstrap.inputs.content).replace(
            "readonly CI_PLATFORM_STEPS_USE_INSTANCE_ROLE='false'",
            "readonly CI_PLATFORM_STEPS_USE_INSTANCE_ROLE='true'",
        );
        assert.equal(containerImdsBlock(bootstrap.inputs.content), "allowed-by-config");
        assert.deepEqual(check(resources), []);
    });

    it("does not judge a Windows fleet (no bootstrap script of ours runs there)", async () => {
        const resources = await prodResources();
        const windows = named(resources, "windows-us-east-1-stack");
        (windows.inputs.parameters as Record<string, string>).BootstrapScriptUrl = "";
        assert.deepEqual(check(resources), []);
    });

    it("an opaque script is not judged", () => {
        assert.equal(containerImdsBlock("[secret]"), "unknown");
        assert.equal(containerImdsBlock("[unknown]"), "unknown");
    });
});
