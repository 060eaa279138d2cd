import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SPOT_ALLOCATION_STRATEGIES } from "../../components/config/schema";
import {
    ELASTIC_STACK_CAPABILITIES,
    ELASTIC_STACK_PARAMETERS,
    PINNED_ELASTIC_STACK_VERSION,
    templateUrl,
} from "../../components/agents/elastic-stack-template";

describe("elastic stack template facts", () => {
    it("builds the pinned release's template URL, never latest", () => {
        assert.equal(
            templateUrl(PINNED_ELASTIC_STACK_VERSION),
            "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml",
        );
        assert.throws(() => templateUrl("latest"), /not a pinned release/);
        assert.throws(() => templateUrl("main"), /not a pinned release/);
    });

    it("holds every parameter of the template with a type", () => {
        assert.equal(Object.keys(ELASTIC_STACK_PARAMETERS).length, 125);
        for (const [name, fact] of Object.entries(ELASTIC_STACK_PARAMETERS))
            assert.ok(["String", "Number", "CommaDelimitedList"].includes(fact.type), name);
    });

    it("allows every spot allocation strategy the config accepts", () => {
        for (const s of SPOT_ALLOCATION_STRATEGIES)
            assert.ok(ELASTIC_STACK_PARAMETERS.SpotAllocationStrategy.allowedValues?.includes(s), s);
    });

    it("knows the token is a NoEcho credential and the patterns compile", () => {
        assert.equal(ELASTIC_STACK_PARAMETERS.BuildkiteAgentToken.noEcho, true);
        for (const fact of Object.values(ELASTIC_STACK_PARAMETERS))
            if (fact.allowedPattern) assert.doesNotThrow(() => new RegExp(fact.allowedPattern as string));
    });

    it("needs the capabilities of a SAM template with named IAM", () => {
        assert.deepEqual([...ELASTIC_STACK_CAPABILITIES].sort(), [
            "CAPABILITY_AUTO_EXPAND",
            "CAPABILITY_IAM",
            "CAPABILITY_NAMED_IAM",
        ]);
    });
});
