import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    unknownCheckingProxy,
    type PolicyResource,
    type ResourceValidationArgs,
    type ResourceValidationPolicy,
    type StackValidationPolicy,
} from "@pulumi/policy";
import { fromPolicyResource, packArgs, plainProps, PACK_NAME } from "../../policy/pack";
import { RULES } from "../../policy/rules";
import { compliantStack, type MutableResource } from "./compliant-stack";

/** What @pulumi/policy puts in place of an unknown string (proxy.js `unknownStringValue`). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const policies = packArgs().policies;
const policy = (name: string) => {
    const found = policies.find((p) => p.name === name);
    assert.ok(found, `no policy ${name}`);
    return found;
};

/** Resource-level arguments as the analyzer server builds them (props behind its unknown-checking proxy). */
function resourceArgs(r: MutableResource, config: Record<string, unknown> = {}): ResourceValidationArgs {
    return {
        type: r.type,
        props: unknownCheckingProxy(r.inputs),
        urn: r.urn,
        name: r.name,
        opts: {
            protect: r.protect,
            ignoreChanges: [],
            aliases: [],
            additionalSecretOutputs: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
    };
}

function validateResource(name: string, r: MutableResource, config?: Record<string, unknown>): string[] {
    const p = policy(name) as ResourceValidationPolicy;
    const messages: string[] = [];
    const validate = p.validateResource;
    assert.ok(typeof validate === "function");
    void validate(resourceArgs(r, config), (message) => messages.push(message));
    return messages;
}

const find = (stack: MutableResource[], type: string) => {
    const r = stack.find((x) => x.type === type);
    assert.ok(r);
    return r;
};

describe("the CrossGuard adapter", () => {
    it("makes one policy per rule, with its level, severity and remediation", () => {
        assert.equal(PACK_NAME, "ci-platform");
        assert.deepEqual(
            policies.map((p) => [p.name, p.enforcementLevel, p.severity]),
            RULES.map((r) => [r.name, r.enforcementLevel, r.severity]),
        );
        for (const p of policies) assert.ok(p.remediationSteps && p.description);
        const kinds = policies.map((p) => ("validateStack" in p ? "stack" : "resource"));
        assert.deepEqual(
            kinds,
            RULES.map((r) => r.kind),
        );
    });

    it("reports a violating resource and passes a compliant one", () => {
        const stack = compliantStack();
        const repo = find(stack, "aws:ecr/repository:Repository");
        assert.deepEqual(validateResource("ecr-immutable-tags", repo), []);
        repo.inputs.imageTagMutability = "MUTABLE";
        assert.equal(validateResource("ecr-immutable-tags", repo).length, 1);
    });

    it("ignores resources of other types", () => {
        const bucket = find(compliantStack(), "aws:s3/bucket:Bucket");
        assert.deepEqual(validateResource("ecr-immutable-tags", bucket), []);
    });

    it("reads unknown values instead of giving up on them", () => {
        const cfn = find(compliantStack(), "aws:cloudformation/stack:Stack");
        cfn.inputs.templateUrl = UNKNOWN_STRING;
        assert.deepEqual(validateResource("elastic-stack-pinned-release", cfn), []);
        assert.deepEqual(plainProps(unknownCheckingProxy({ a: [UNKNOWN_STRING], b: { c: 1 } })), {
            a: ["[unknown]"],
            b: { c: 1 },
        });
    });

    it("reads the required tags from policy config", () => {
        const key = find(compliantStack(), "aws:kms/key:Key");
        assert.deepEqual(validateResource("cost-tags", key), []);
        const [message] = validateResource("cost-tags", key, { requiredTags: ["Owner"] });
        assert.match(message ?? "", /Owner/);
    });

    it("checks protect (CrossGuard does not show retainOnDelete)", () => {
        const bucket = find(compliantStack(), "aws:s3/bucket:Bucket");
        assert.deepEqual(validateResource("stateful-resources-protected", bucket), []);
        bucket.protect = false;
        assert.equal(validateResource("stateful-resources-protected", bucket).length, 1);
    });

    it("runs stack rules over the engine's resources, linking companions through dependencies", () => {
        const stack = compliantStack();
        const bucket = find(stack, "aws:s3/bucket:Bucket");
        const asPolicyResource = (r: MutableResource): PolicyResource => ({
            type: r.type,
            props: unknownCheckingProxy({ ...r.inputs, ...(r === bucket ? {} : { bucket: UNKNOWN_STRING }) }),
            urn: r.urn,
            name: r.name,
            opts: {
                protect: r.protect,
                ignoreChanges: [],
                aliases: [],
                additionalSecretOutputs: [],
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        });
        const resources = stack.map(asPolicyResource);
        const bucketResource = resources.find((r) => r.urn === bucket.urn);
        assert.ok(bucketResource);
        const versioning = resources.find((r) => r.type === "aws:s3/bucketVersioning:BucketVersioning");
        assert.ok(versioning);
        versioning.propertyDependencies = { bucket: [bucketResource] };
        assert.deepEqual(fromPolicyResource(versioning).dependsOn, [bucket.urn]);

        const p = policy("secrets-bucket-versioned") as StackValidationPolicy;
        const found: [string, string | undefined][] = [];
        const run = () =>
            p.validateStack(
                {
                    resources,
                    stackTags: new Map(),
                    getConfig: <T extends object>() => ({}) as T,
                    notApplicable: () => {
                        throw new Error();
                    },
                },
                (message, urn) => found.push([message, urn]),
            );
        void run();
        assert.deepEqual(found, []);
        versioning.propertyDependencies = {};
        void run();
        assert.equal(found.length, 1);
        assert.equal(found[0]?.[1], bucket.urn);
    });
});
