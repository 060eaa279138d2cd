import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as hooks from "../../../components/hooks";
import {
    ALLOWLIST_KEY_PREFIX,
    ALLOWLIST_OBJECT_HEADER,
    allowlistContentProblem,
    linuxFleetAllowlistObject,
} from "../../../policy/invariants/allowlist-object";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { named, prodResources, without } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => linuxFleetAllowlistObject.check(resources, { requiredTags: [] });
const names = (resources: readonly PlanResource[]) => check(resources).map((f) => f.urn.split("::").pop());

describe("invariant linux-fleet-allowlist-object", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(linuxFleetAllowlistObject.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(linuxFleetAllowlistObject));
    });

    it("passes the prod plan: every Linux fleet has its allow-list object, and Windows fleets need none", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        assert.ok(resources.some((r) => r.name === "linux-us-east-1-allowlist"));
    });

    it("fails a fleet whose allow-list object is missing, or malformed", async () => {
        const resources = without(await prodResources(), (r) => r.name === "linux-us-east-1-allowlist");
        assert.deepEqual(names(resources), ["linux-us-east-1-stack"]);
        assert.match(check(resources)[0].message, /refused/);

        const malformed = await prodResources();
        named(malformed, "linux-us-east-1-allowlist").inputs.content = "kolibri https://github.com/x/y.git\n";
        assert.deepEqual(names(malformed), ["linux-us-east-1-stack"]);
        assert.match(check(malformed)[0].message, /does not start with/);
    });

    it("fails a bootstrap script that does not say where the list is, or points at a content-addressed key", async () => {
        const resources = await prodResources();
        const script = named(resources, "linux-us-east-1-bootstrap");
        const content = String(script.inputs.content);
        script.inputs.content = content.replace(/^readonly CI_PLATFORM_ALLOWLIST_KEY=.*\n/m, "");
        assert.deepEqual(names(resources), ["linux-us-east-1-stack"]);
        script.inputs.content = content.replace(
            /^readonly CI_PLATFORM_ALLOWLIST_KEY='([^']*)'$/m,
            "readonly CI_PLATFORM_ALLOWLIST_KEY='_ci-platform/allowlist/x/0123abcd'",
        );
        assert.match(check(resources)[0].message, /not a fixed/);
    });

    it("keeps the same header and key prefix as the program and the hook", () => {
        assert.equal(ALLOWLIST_OBJECT_HEADER, hooks.ALLOWLIST_OBJECT_HEADER);
        assert.equal(ALLOWLIST_KEY_PREFIX, hooks.ALLOWLIST_KEY_PREFIX);
        const lib = readFileSync(path.join(__dirname, "../../../hooks/lib/repository.bash"), "utf8");
        assert.match(lib, new RegExp(`^CI_ALLOWLIST_HEADER="${ALLOWLIST_OBJECT_HEADER}"$`, "m"));
    });

    it("reads the content as the hook does", () => {
        assert.equal(allowlistContentProblem("# ci-platform allow-list v1\n"), undefined);
        assert.equal(allowlistContentProblem("# ci-platform allow-list v1\na https://h/o/r.git\n"), undefined);
        assert.match(allowlistContentProblem("# ci-platform allow-list v1\na https://h/o/r.git") ?? "", /newline/);
        assert.match(allowlistContentProblem("# ci-platform allow-list v1\nA b c\n") ?? "", /not "slug url"/);
    });
});
