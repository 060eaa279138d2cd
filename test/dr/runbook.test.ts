import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pushTargets } from "../../scripts/dr/runbook";
import { imageChildNames } from "../../components/images";

/*
 * The runbooks of `npm run dr` (scripts/dr/runbook.ts): printed whole by test/dr.test.ts through the command line;
 * here, where the runbook tells to look for each image push.
 */

describe("the recovery runbook (scripts/dr/runbook.ts)", () => {
    it("finds each image push by its region, repository and tag", () => {
        const targets = pushTargets([{ name: "buildkite-test", variants: ["py3.12"] }], { "buildkite-test": "1.2.3" }, [
            "eu-west-1",
        ]);
        const name = imageChildNames("buildkite-test", "eu-west-1", ["py3.12"]).pushes["py3.12"];
        assert.deepEqual(targets, {
            [name]: { region: "eu-west-1", repository: "ci-platform/buildkite-test", tag: "py3.12-1.2.3" },
        });
    });
});
