import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ImageRegistry } from "../../components/images/agent-image";
import { declareImageRegistries, dockerProviderName } from "../../components/images/registries";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import { PlanResource, SECRET } from "../../scripts/plan/model";

/*
 * components/images/registries.ts under the SDK mocks (scripts/plan/capture.ts captureStack, the plan's seam): one
 * docker provider per image region, authenticated to that region's ECR registry.
 */

const ACCOUNT = "123456789012";
let resources: PlanResource[] = [];
let registries: Record<string, ImageRegistry> = {};
let awsProviders: Record<string, aws.Provider> = {};
const DOCKER = "pulumi:providers:docker";
const valueOf = <T>(input: pulumi.Input<T>): Promise<T> =>
    new Promise((resolve) => pulumi.output(input).apply((v) => resolve(v as T)));

before(async () => {
    ({ resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            const parent = new pulumi.ComponentResource("test:index:Registries", "registries");
            awsProviders = Object.fromEntries(
                ["us-east-1", "eu-west-1", "ap-south-1"].map((r) => [
                    r,
                    new aws.Provider(`aws-${r}`, { region: r as aws.Region }),
                ]),
            );
            registries = declareImageRegistries({
                regions: ["us-east-1", "eu-west-1", "us-east-1"],
                awsProviders,
                accountId: pulumi.output(ACCOUNT),
                providerPrefix: "ecr",
                providerOptions: { parent },
            });
        },
    }));
});

describe("declareImageRegistries", () => {
    it("declares one docker provider per region images are pushed to, named after the region alone", () => {
        assert.equal(dockerProviderName("eu-west-1"), "docker-eu-west-1");
        assert.equal(dockerProviderName("eu-west-1", "ecr"), "ecr-eu-west-1");
        assert.deepEqual(
            resources
                .filter((r) => r.type === DOCKER)
                .map((r) => r.name)
                .sort(),
            ["ecr-eu-west-1", "ecr-us-east-1"],
        );
        assert.deepEqual(Object.keys(registries), ["eu-west-1", "us-east-1"]);
    });

    it("passes the provider options through (the provider registry's parent)", () => {
        const parent = resources.find((r) => r.type === "test:index:Registries");
        assert.ok(parent);
        for (const r of resources.filter((x) => x.type === DOCKER)) assert.equal(r.parent, parent.urn, r.name);
    });

    it("authenticates each provider to its own region's registry, the password a secret", async () => {
        const provider = resources.find((r) => r.name === "ecr-eu-west-1");
        assert.ok(provider);
        // The password is a secret, so the whole registryAuth input is one in the plan (scripts/plan/redact.ts).
        assert.equal(provider.inputs.registryAuth, SECRET);
        const registry = registries["eu-west-1"];
        assert.equal(registry.region, "eu-west-1");
        assert.equal(await valueOf(registry.server), `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`);
        assert.equal(await pulumi.isSecret(pulumi.output(registry.password)), true);
    });

    it("hands each registry the AWS provider of its region", () => {
        for (const region of ["us-east-1", "eu-west-1"])
            assert.equal(registries[region].awsProvider, awsProviders[region], region);
    });

    it("refuses a region without an AWS provider, naming the region and the providers it has", () => {
        assert.throws(() => declareImageRegistries({ regions: ["eu-north-1"], awsProviders: {}, accountId: ACCOUNT }), {
            message: "no AWS provider for region eu-north-1, where images are pushed; known: none",
        });
    });
});
