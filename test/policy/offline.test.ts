import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    findProvider,
    formatViolation,
    hasMandatoryViolation,
    runPolicies,
    RULES,
    type PlanResource,
    type Violation,
} from "../../policy/offline";
import type { ResourceRule, StackRule } from "../../policy/rules";
import { compliantStack, resource, urn } from "./compliant-stack";

/** A resource rule over `type` that reports every resource it judges, with the params and provider it was given. */
const echoRule = (type: string, level: "mandatory" | "advisory" = "advisory"): ResourceRule => ({
    kind: "resource",
    name: `echo-${type}`,
    description: "test",
    enforcementLevel: level,
    severity: "low",
    types: [type],
    remediation: "none",
    check: (r, { params, provider }) => [
        `${r.name} tags=${params.requiredTags.join("+")} provider=${provider?.name ?? "-"}`,
    ],
});
const stackRule: StackRule = {
    kind: "stack",
    name: "count",
    description: "test",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [],
    remediation: "none",
    check: (resources) => [{ urn: resources[0]?.urn ?? "", message: `${resources.length} resources` }],
};

describe("findProvider", () => {
    it("finds the provider by its URN, or by the engine's `<urn>::<id>` reference", () => {
        const provider = resource("pulumi:providers:aws", "aws-us-east-1", { region: "us-east-1" });
        const byUrn = new Map<string, PlanResource>([[provider.urn, provider]]);
        const bucket = (ref: string | null) => resource("aws:s3/bucket:Bucket", "b", {}, { provider: ref });
        assert.equal(findProvider(bucket(provider.urn), byUrn), provider);
        assert.equal(findProvider(bucket(`${provider.urn}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`), byUrn), provider);
        assert.equal(findProvider(bucket(null), byUrn), undefined);
        assert.equal(findProvider(bucket(urn("pulumi:providers:aws", "other")), byUrn), undefined);
    });
});

describe("runPolicies", () => {
    it("passes the compliant stack with every rule of the pack", () => {
        assert.deepEqual(runPolicies(compliantStack()), []);
    });

    it("reports in rule order, then by URN, with the rule's level and severity, its params merged over the defaults", () => {
        const provider = resource("pulumi:providers:aws", "aws-us-east-1", { region: "us-east-1" });
        const z = resource("aws:s3/bucket:Bucket", "z", {}, { provider: provider.urn });
        const a = resource("aws:s3/bucket:Bucket", "a", {}, { provider: null });
        const key = resource("aws:kms/key:Key", "k", {});
        const violations = runPolicies([z, key, a, provider], {
            rules: [echoRule("aws:s3/bucket:Bucket"), stackRule, echoRule("aws:kms/key:Key", "mandatory")],
            params: { requiredTags: ["Team"] },
        });
        assert.deepEqual(
            violations.map((v) => [v.policy, v.enforcementLevel, v.severity, v.urn, v.message]),
            [
                ["echo-aws:s3/bucket:Bucket", "advisory", "low", a.urn, "a tags=Team provider=-"],
                ["echo-aws:s3/bucket:Bucket", "advisory", "low", z.urn, "z tags=Team provider=aws-us-east-1"],
                // A stack rule sees every resource, sorted by URN.
                ["count", "mandatory", "high", [a, z, key, provider].map((r) => r.urn).sort()[0], "4 resources"],
                ["echo-aws:kms/key:Key", "mandatory", "low", key.urn, "k tags=Team provider=aws-us-east-1"],
            ],
        );
    });

    it("uses the default params and every rule of the pack when given none", () => {
        const violations = runPolicies([resource("aws:s3/bucket:Bucket", "untagged", {})]);
        assert.ok(violations.some((v) => v.policy === "cost-tags" && /CostCenter/.test(v.message)));
        assert.ok(violations.every((v) => RULES.some((r) => r.name === v.policy)));
    });
});

describe("hasMandatoryViolation and formatViolation", () => {
    const violation = (enforcementLevel: Violation["enforcementLevel"]): Violation => ({
        policy: "cost-tags",
        enforcementLevel,
        severity: "medium",
        urn: "urn:x",
        message: "add CostCenter",
    });

    it("only a mandatory violation stops a deployment", () => {
        assert.equal(hasMandatoryViolation([]), false);
        assert.equal(hasMandatoryViolation([violation("advisory")]), false);
        assert.equal(hasMandatoryViolation([violation("advisory"), violation("mandatory")]), true);
    });

    it("prints the level, severity, policy and URN, then the indented message", () => {
        assert.equal(formatViolation(violation("mandatory")), "[mandatory/medium] cost-tags urn:x\n    add CostCenter");
    });
});
