import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PolicyPackArgs } from "@pulumi/policy";
import { RULES } from "../../policy/rules";

/*
 * policy/index.ts calls `new PolicyPack(...)`, which starts the analyzer's gRPC server. The test swaps @pulumi/policy's
 * PolicyPack for a recorder before loading index.ts, and checks what the pack registers.
 */
describe("policy/index.ts", () => {
    it("registers the ci-platform pack with one policy per rule, same names", async () => {
        const registered: { name: string; args: PolicyPackArgs }[] = [];
        const modulePath = require.resolve("@pulumi/policy");
        const real = (await import("@pulumi/policy")) as unknown as Record<string, unknown>;
        require.cache[modulePath] = {
            ...require.cache[modulePath],
            exports: {
                ...real,
                PolicyPack: class {
                    constructor(name: string, args: PolicyPackArgs) {
                        registered.push({ name, args });
                    }
                },
            },
        } as NodeJS.Module;
        await import("../../policy/index");
        assert.equal(registered.length, 1);
        assert.equal(registered[0]?.name, "ci-platform");
        assert.deepEqual(
            registered[0]?.args.policies.map((p) => p.name),
            RULES.map((r) => r.name),
        );
        assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length, "rule names are unique");
    });
});
