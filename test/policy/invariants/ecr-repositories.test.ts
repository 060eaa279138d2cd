import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ecrRepositoriesWhole } from "../../../policy/invariants/ecr-repositories";
import { RULES, type RuleContext } from "../../../policy/rules";
import { prodResources } from "./plan-resources";

const ECR = "aws:ecr/repository:Repository";
const context: RuleContext = { params: { requiredTags: [] } };

describe("invariant ecr-repositories-whole", () => {
    it("is mandatory and in the pack, and stateful-resources-protected leaves the repositories to it", () => {
        assert.equal(ecrRepositoriesWhole.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(ecrRepositoriesWhole));
    });

    it("passes the prod plan: every repository protected, not retained, force-deleted with its images", async () => {
        const repositories = (await prodResources()).filter((r) => r.type === ECR);
        assert.ok(repositories.length >= 6, "two images in three regions");
        for (const r of repositories) {
            assert.deepEqual(ecrRepositoriesWhole.check(r, context), [], r.name);
            assert.equal(r.protect, true);
            assert.equal(r.retainOnDelete, false);
            assert.equal(r.inputs.forceDelete, true);
        }
        const stateful = RULES.find((r) => r.name === "stateful-resources-protected");
        assert.ok(stateful && stateful.kind === "resource");
        for (const r of repositories) assert.deepEqual(stateful.check(r, context), [], r.name);
    });

    it("refuses a repository retained on delete (the old stance: its tags stay behind for a re-add to collide with)", async () => {
        const repository = (await prodResources()).find((r) => r.type === ECR);
        assert.ok(repository);
        const retained = { ...repository, retainOnDelete: true, inputs: { ...repository.inputs, forceDelete: false } };
        const found = ecrRepositoriesWhole.check(retained, context);
        assert.equal(found.length, 1);
        assert.match(found[0], /retained on delete .*; not forceDelete/);
        assert.match(found[0], new RegExp(`"${repository.name}"`));
    });

    it("refuses an unprotected repository, and accepts retention unknown (CrossGuard does not show it)", async () => {
        const repository = (await prodResources()).find((r) => r.type === ECR);
        assert.ok(repository);
        assert.match(ecrRepositoriesWhole.check({ ...repository, protect: false }, context)[0] ?? "", /not protected/);
        assert.deepEqual(ecrRepositoriesWhole.check({ ...repository, retainOnDelete: undefined }, context), []);
    });
});
