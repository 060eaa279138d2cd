import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkoutOnEveryFleet, checkoutScheme } from "../../../policy/invariants/checkout";
import { named, prodResources, secretObject, without } from "./plan-resources";

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const check = (resources: Parameters<typeof checkoutOnEveryFleet.check>[0]) =>
    checkoutOnEveryFleet.check(resources, { requiredTags: [] });

describe("checkoutScheme", () => {
    it("tells SSH from HTTPS clone URLs", () => {
        assert.equal(checkoutScheme("git@github.com:learningequality/kolibri.git"), "ssh");
        assert.equal(checkoutScheme("ssh://git@github.com/dagster-io/dagster.git"), "ssh");
        assert.equal(checkoutScheme("https://github.com/learningequality/kolibri.git"), "https");
        assert.equal(checkoutScheme("http://github.com/learningequality/kolibri.git"), undefined);
    });
});

describe("invariant checkout-on-every-fleet", () => {
    it("is mandatory", () => assert.equal(checkoutOnEveryFleet.enforcementLevel, "mandatory"));

    it("passes the prod plan: public Kolibri repositories over HTTPS, ci-platform with git-credentials, dagster with its key", async () => {
        assert.deepEqual(check(await prodResources()), []);
    });

    it("fails an SSH checkout whose fleets get no SSH key (every pipeline but dagster before the fix)", async () => {
        const resources = await prodResources();
        named(resources, "ci-platform-pipeline", PIPELINE).inputs.repository =
            "git@github.com:learningequality/ci-platform.git";
        const findings = check(resources);
        // ci-platform runs on queue platform of cluster platform, served in us-east-1 only.
        assert.deepEqual(
            findings.map((f) => /AWS fleet "([^"]+)"/.exec(f.message)?.[1]),
            ["platform-us-east-1"],
        );
        assert.match(
            findings[0].message,
            /"ci-platform" checks out git@github\.com:learningequality\/ci-platform\.git over SSH, .* gets no SSH key: the secrets bucket it reads holds none of ci-platform\/private_ssh_key, ci-platform\/id_rsa_github, private_ssh_key, id_rsa_github.*Fix: set ci-platform:secrets\.pipelines\.ci-platform\.privateSshKey/,
        );
        assert.ok(findings.every((f) => f.urn === named(resources, "ci-platform-pipeline", PIPELINE).urn));
    });

    it("fails an SSH checkout in the one region whose bucket lacks the pipeline's key", async () => {
        // dagster's own cluster's bucket in eu-west-1 (secrets-dagster-eu-west-1).
        const gone = secretObject(await prodResources(), "dagster-eu-west-1", "dagster/private_ssh_key").urn;
        const findings = check(without(await prodResources(), (r) => r.urn === gone));
        assert.equal(findings.length, 1);
        assert.match(findings[0].message, /"dagster" .* AWS fleet "dagster-eu-west-1" \(eu-west-1\) gets no SSH key/);
    });

    it("fails a private HTTPS checkout without git-credentials, never a public one", async () => {
        const resources = without(
            await prodResources(),
            (r) => typeof r.inputs.key === "string" && /^(ci-platform\/)?git-credentials$/.test(r.inputs.key),
        );
        const findings = check(resources);
        // Both of this repository's pipelines clone it (ci-platform on its fleet, ci-platform-deploy on the deploy one).
        assert.deepEqual(findings.map((f) => /pipeline "([^"]+)"/.exec(f.message)?.[1]).sort(), [
            "ci-platform",
            "ci-platform-deploy",
        ]);
        assert.match(
            findings.find((f) => f.message.includes('"ci-platform" '))?.message ?? "",
            /over HTTPS, but AWS fleet "platform-us-east-1" .* gets no git credentials: the secrets bucket it reads holds none of git-credentials, ci-platform\/git-credentials/,
        );
    });

    it("fails a private HTTPS checkout on a static fleet that declares no credentials, passes once it does", async () => {
        const resources = await prodResources();
        const mac = named(resources, "kolibri-installer-macos-pipeline", PIPELINE);
        mac.inputs.tags = ["repo:learningequality/kolibri-app"]; // no longer public
        const findings = check(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /"kolibri-installer-macos" checks out https:\/\/github\.com\/learningequality\/kolibri-app\.git over HTTPS on static fleet "macos-office", which reads no secrets bucket and declares no https credential/,
        );
        named(resources, "macos-office", "ci-platform:agents:Fleet").inputs.checkoutCredentials = ["https"];
        assert.deepEqual(check(resources), []);
    });

    it("fails an SSH checkout on a static fleet even for a public repository", async () => {
        const resources = await prodResources();
        named(resources, "kolibri-installer-macos-pipeline", PIPELINE).inputs.repository =
            "git@github.com:learningequality/kolibri-app.git";
        assert.equal(check(resources).length, 1);
        named(resources, "macos-office", "ci-platform:agents:Fleet").inputs.checkoutCredentials = ["ssh"];
        assert.deepEqual(check(resources), []);
    });
});
