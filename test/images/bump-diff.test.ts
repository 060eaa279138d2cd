import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { prodConfig } from "../fixtures/config";

/*
 * What a version bump changes among the images' resources: declares the prod images twice, before and after
 * `images:bump buildkite-test`, and compares the inputs resource by resource.
 */

const ROOT = path.resolve(__dirname, "../..");
let recorded = new Map<string, unknown>();

/** Installs this file's mocks; called before its tests run, since other test files in the process install theirs. */
function installMocks(): void {
    void pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                recorded.set(`${args.type}::${args.name}`, args.inputs);
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) =>
                args.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken"
                    ? { userName: "AWS", password: "pw" }
                    : {},
        },
        "ci-platform",
        "test",
        false,
    );
}

async function declare(versions: Record<string, string>): Promise<Map<string, unknown>> {
    recorded = new Map();
    installMocks();
    const images = await import("../../components/images");
    const config = prodConfig();
    const regions = images.imageRegions(config);
    const awsProviders = Object.fromEntries(
        regions.map((r) => [r, new aws.Provider(`aws-${r}`, { region: r as aws.Region })]),
    );
    const out = images.declareImages({
        config,
        versions,
        registries: images.declareImageRegistries({ regions, awsProviders, accountId: "123456789012" }),
        accountId: "123456789012",
        pullerRoleArns: { [config.homeRegion]: ["arn:aws:iam::123456789012:role/fleet"] },
        rootDir: ROOT,
    });
    await new Promise<void>((r) => pulumi.all(Object.values(out.images).map((i) => i.repositoryUrl)).apply(() => r()));
    let size = -1;
    while (size !== recorded.size) {
        size = recorded.size;
        await new Promise((r) => setTimeout(r, 20));
    }
    return recorded;
}

describe("a version bump", () => {
    let changed: string[];
    let beforeState: Map<string, unknown>;
    let afterState: Map<string, unknown>;
    let pins: Record<string, string>;
    let bumped: string;

    before(async () => {
        const versions = await import("../../components/images/versions");
        const parsed = versions.parseVersionsText(
            fs.readFileSync(path.join(ROOT, "agent-images/versions.json"), "utf8"),
        );
        assert.ok(parsed.ok);
        pins = { ...parsed.value };
        bumped = versions.bumpVersion(pins["buildkite-test"], "2026-11-21");
        beforeState = await declare(pins);
        afterState = await declare({ ...pins, "buildkite-test": bumped });
        assert.deepEqual([...afterState.keys()].sort(), [...beforeState.keys()].sort(), "the same resources");
        changed = [...afterState.keys()]
            .filter((k) => JSON.stringify(afterState.get(k)) !== JSON.stringify(beforeState.get(k)))
            .sort();
    });

    it("changes exactly the pushes of the bumped image, in every region", () => {
        const variants = prodConfig().images.find((i) => i.name === "buildkite-test")?.variants ?? [];
        const regions = ["ap-southeast-1", "eu-west-1", "us-east-1"];
        assert.deepEqual(
            changed,
            regions.flatMap((r) => variants.map((v) => `docker:index/image:Image::buildkite-test-${r}-${v}`)).sort(),
        );
    });

    it("changes their tag and version label, nothing else", () => {
        for (const key of changed) {
            const a = beforeState.get(key) as { imageName: string; build: { args: Record<string, string> } };
            const b = afterState.get(key) as { imageName: string; build: { args: Record<string, string> } };
            assert.equal(b.imageName, a.imageName.replace(`-${pins["buildkite-test"]}`, `-${bumped}`));
            assert.deepEqual(b.build.args, { ...a.build.args, VERSION: bumped });
        }
    });
});
