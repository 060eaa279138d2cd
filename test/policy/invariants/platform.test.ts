import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    explicitProviders,
    imagesInEveryRegion,
    isCustomResource,
    isDefaultProvider,
    oneScalerPerQueue,
    PLATFORM_INVARIANTS,
    queuesServed,
} from "../../../policy/invariants/platform";
import { DEFAULT_PARAMS } from "../../../policy/rules";
import { compliantStack, find, FLEET_URN, resource, STEPS, urn, type MutableResource } from "../compliant-stack";

/*
 * The platform invariants over the compliant stack changed one thing at a time (test/policy/rules.test.ts checks that
 * each rule catches its cases through runPolicies; this file checks what each one exempts and what it says).
 */
type Stack = MutableResource[];
const CFN = "aws:cloudformation/stack:Stack";
const TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/** The stack with one more Elastic CI Stack fleet, `name`, in `region`, serving the same queue. */
function withFleet(stack: Stack, name: string, region: string): Stack {
    const fleet = urn("ci-platform:agents:Fleet", name);
    const provider = urn("pulumi:providers:aws", `aws-${region}`);
    const token = structuredClone(find(stack, TOKEN));
    const cfn = structuredClone(find(stack, CFN));
    return [
        ...stack,
        ...(stack.some((r) => r.urn === provider)
            ? []
            : [resource("pulumi:providers:aws", `aws-${region}`, { region })]),
        resource("ci-platform:agents:Fleet", name, structuredClone(find(stack, "ci-platform:agents:Fleet").inputs)),
        { ...token, urn: urn(TOKEN, `${name}-token`), name: `${name}-token`, parent: fleet },
        { ...cfn, urn: urn(CFN, `${name}-stack`), name: `${name}-stack`, parent: fleet, provider },
    ];
}
const withSteps = (stack: Stack, steps: string): Stack => {
    find(stack, PIPELINE).inputs.steps = steps;
    return stack;
};

describe("isCustomResource and isDefaultProvider", () => {
    it("a custom resource is neither a component, the stack nor a provider", () => {
        assert.equal(isCustomResource(resource("aws:s3/bucket:Bucket", "b", {})), true);
        assert.equal(isCustomResource(resource("ci-platform:agents:Fleet", "f", {})), false);
        assert.equal(isCustomResource(resource("pulumi:providers:aws", "p", {})), false);
        assert.equal(isCustomResource(resource("pulumi:pulumi:Stack", "s", {})), false);
    });

    it("recognises the engine's default provider names, with or without the id", () => {
        // pulumi/pulumi pkg/resource/deploy/providers/registry.go defaultProviderName: default or default_<version>.
        const p = (name: string) => urn("pulumi:providers:aws", name);
        assert.equal(isDefaultProvider(p("default")), true);
        assert.equal(isDefaultProvider(`${p("default_7_48_0")}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`), true);
        assert.equal(isDefaultProvider(p("aws-us-east-1")), false);
        assert.equal(isDefaultProvider(p("defaults")), false);
        assert.equal(isDefaultProvider(urn("aws:s3/bucket:Bucket", "default")), false);
    });
});

describe("explicit-providers", () => {
    it("passes the compliant stack, components and the SDK's dynamic resources without a provider", () => {
        const stack = compliantStack();
        stack.push(resource("pulumi-nodejs:dynamic:Resource", "kms-signature", {}, { provider: null }));
        assert.deepEqual(explicitProviders.check(stack, DEFAULT_PARAMS), []);
    });

    it("names the resource and the package whose provider to pass", () => {
        const stack = compliantStack();
        find(stack, PIPELINE).provider = null;
        const [finding, ...rest] = explicitProviders.check(stack, DEFAULT_PARAMS);
        assert.deepEqual(rest, []);
        assert.equal(finding.urn, find(stack, PIPELINE).urn);
        assert.match(finding.message, /uses the default provider.*Fix: pass the program's buildkite provider/);
    });
});

describe("queues-served", () => {
    it("tells a queue the cluster does not declare from a declared queue no fleet serves", () => {
        const undeclared = queuesServed.check(
            withSteps(compliantStack(), STEPS.replace("queue: default", "queue: gpu")),
            DEFAULT_PARAMS,
        );
        assert.equal(undeclared.length, 1);
        assert.match(undeclared[0].message, /step "tests" .* queue "gpu", which is not declared in cluster/);
        const unserved = queuesServed.check(
            compliantStack().filter((r) => r.parent !== FLEET_URN),
            DEFAULT_PARAMS,
        );
        assert.ok(unserved.length > 0);
        assert.match(unserved[0].message, /queue "default", which no fleet serves/);
    });
});

describe("one-scaler-per-queue", () => {
    it("reports every stack after the first on a queue, at that stack, naming all of them", () => {
        // buildkite-agent-scaler v1.12.0 scaler/scaler.go: each stack scales to the whole queue's backlog.
        const stack = withFleet(
            withFleet(compliantStack(), "linux-eu-west-1", "eu-west-1"),
            "linux-ap",
            "ap-southeast-1",
        );
        const findings = oneScalerPerQueue.check(stack, DEFAULT_PARAMS);
        assert.deepEqual(
            findings.map((f) => f.urn),
            [urn(CFN, "linux-eu-west-1-stack"), urn(CFN, "linux-ap-stack")],
        );
        assert.match(
            findings[0].message,
            /served by 3 Elastic CI Stacks \(linux-us-east-1, linux-eu-west-1, linux-ap\)/,
        );
        assert.deepEqual(oneScalerPerQueue.check(compliantStack(), DEFAULT_PARAMS), []);
    });
});

describe("images-in-every-region", () => {
    const steps = (image: string) =>
        STEPS.replace(
            `${ECR_HOST}/ci-platform/buildkite-test:py3.11-1.4.0`,
            `${image}/ci-platform/buildkite-test:py3.11-1.4.0`,
        );

    it("an explicit ECR host names its region: a fleet elsewhere pulls from there", () => {
        const stack = withFleet(compliantStack(), "linux-eu-west-1", "eu-west-1");
        assert.deepEqual(imagesInEveryRegion.check(stack, DEFAULT_PARAMS), []);
    });

    it("${CI_PLATFORM_ECR_REGISTRY} resolves to each serving fleet's region, so each needs the push", () => {
        const stack = withSteps(
            withFleet(compliantStack(), "linux-eu-west-1", "eu-west-1"),
            steps("${CI_PLATFORM_ECR_REGISTRY}"),
        );
        const findings = imagesInEveryRegion.check(stack, DEFAULT_PARAMS);
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, find(stack, PIPELINE).urn);
        assert.match(
            findings[0].message,
            /^pipeline \S+ runs ci-platform\/buildkite-test:py3\.11-1\.4\.0 in eu-west-1 \(steps tests\), but nothing pushes that tag to eu-west-1's registry/,
        );
        // Served in us-east-1 only, the same reference needs nothing more.
        assert.deepEqual(
            imagesInEveryRegion.check(
                withSteps(compliantStack(), steps("$${CI_PLATFORM_ECR_REGISTRY}")),
                DEFAULT_PARAMS,
            ),
            [],
        );
    });

    it("leaves images that are not the platform's alone", () => {
        const stack = withSteps(compliantStack(), STEPS.replace(/image: .*/, "image: python:3.11"));
        assert.deepEqual(imagesInEveryRegion.check(stack, DEFAULT_PARAMS), []);
    });
});

describe("PLATFORM_INVARIANTS", () => {
    it("are mandatory stack rules, in the order reported", () => {
        assert.deepEqual(
            PLATFORM_INVARIANTS.map((r) => r.name),
            ["explicit-providers", "queues-served", "one-scaler-per-queue", "images-in-every-region"],
        );
        assert.ok(PLATFORM_INVARIANTS.every((r) => r.kind === "stack" && r.enforcementLevel === "mandatory"));
    });
});
