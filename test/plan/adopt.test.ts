import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { Adopter, adoptSchema } from "../../components/config/adopt";
import { adoption } from "../../components/config/adopt-transform";
import { PlanDocument } from "../../scripts/plan/model";
import { cutProd, planInProcess, ROOT, withoutRegion } from "../fixtures/cli";

/*
 * Re-adoption by import (`ci-platform:adopt`): re-adding a region whose secrets keys were kept (taken back within
 * their deletion window, or left in the account by the region-down runbook) adopts them instead of creating them.
 * Image repositories are never adopted: they are deleted with their images, and one left behind holds the tags the
 * program would push into it (components/images/check.ts refuses the entry).
 */
const dir = mkdtempSync(path.join(tmpdir(), "adopt-"));
const REGION = "eu-west-1";
// The token key: the image repositories are never adopted (they are deleted with their images; adopting one would
// push tags it still holds), which the last test shows.
const REPOSITORY = `secrets-${REGION}-token-key`;
const REPOSITORY_ID = "5678abcd-12ab-34cd-56ef-1234567890ab";
const KEY = `secrets-${REGION}-key`;
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";

function stackFile(name: string, edit: (config: Record<string, unknown>) => void): string {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, stringify(doc));
    return file;
}

/**
 * The prod config cut to the default cluster's fleets in the home region and in REGION (fixtures/cli.ts cutProd): what
 * the config errors below name (REGION's secrets bucket, key and image repositories) is there, as in prod.
 */
const smallStack = (config: Record<string, unknown>) =>
    cutProd(config, { clusters: ["default"], fleets: ["linux-us-east-1", `linux-${REGION}`], pipelines: [] });

const adoptEntries = [
    { resource: REPOSITORY, id: REPOSITORY_ID },
    { resource: `aws:kms/key:Key::${KEY}`, id: KEY_ID },
];

let plan: PlanDocument;
let diffText: string;
let markdown: string;

describe("ci-platform:adopt", () => {
    before(async () => {
        // The prod config without the region's fleets (its pipelines moved to the home region's default queue): the
        // same stack file as the drill's and the recovery scopes', one plan.
        const base = stackFile(`without-${REGION}`, (c) => withoutRegion(c, REGION));
        const baseJson = path.join(dir, "removed.json");
        const removed = await planInProcess(...["--config", base, "--json", baseJson]);
        assert.equal(removed.code, 0, removed.stderr);
        const readded = stackFile("readded", (c) => (c["ci-platform:adopt"] = adoptEntries));
        const json = path.join(dir, "readded.json");
        const md = path.join(dir, "readded.md");
        const run = await planInProcess(...["--config", readded, "--json", json, "--diff", baseJson, "--markdown", md]);
        assert.equal(run.code, 0, run.stderr);
        plan = JSON.parse(readFileSync(json, "utf8")) as PlanDocument;
        diffText = run.stdout;
        markdown = readFileSync(md, "utf8");
    });

    it("sets the import id of exactly the resources it names, by name or by <type>::<name>", () => {
        const imported = plan.resources.filter((r) => r.importId !== null);
        assert.deepEqual(imported.map((r) => [r.type, r.name, r.importId]).sort(), [
            ["aws:kms/key:Key", KEY, KEY_ID],
            ["aws:kms/key:Key", REPOSITORY, REPOSITORY_ID],
        ]);
        for (const r of plan.resources) assert.ok(r.importId === null || typeof r.importId === "string", r.urn);
    });

    it("shows them in the diff as imports (=), not creates, beside the region's other resources created", () => {
        const lines = diffText.split("\n");
        assert.ok(lines.includes(`= import   aws:kms/key:Key  ${REPOSITORY}  (id ${REPOSITORY_ID})`), diffText);
        assert.ok(lines.includes(`= import   aws:kms/key:Key  ${KEY}  (id ${KEY_ID})`));
        assert.ok(
            !lines.some((l) => l.startsWith("+ create") && (l.endsWith(` ${REPOSITORY}`) || l.endsWith(` ${KEY}`))),
        );
        assert.ok(lines.some((l) => l.startsWith("+ create   aws:s3/bucket:Bucket  secrets-eu-west-1-bucket")));
        assert.match(diffText, /, 2 to import\n/);
        assert.match(markdown, /\*\*2\*\* to import/);
        assert.ok(markdown.includes(`- **import** \`${KEY}\` (aws kms Key) from id \`${KEY_ID}\``));
        assert.ok(!markdown.includes(`- **create** \`${REPOSITORY}\``), "not listed as created");
    });

    it("is a config error when an entry names no declared resource, a component, or the same one twice", async () => {
        const file = stackFile("unknown", (c) => {
            smallStack(c);
            c["ci-platform:adopt"] = [
                ...adoptEntries,
                { resource: "buildkite-test-eu-west-1-repositry", id: "ci-platform/buildkite-test" },
                { resource: `secrets-${REGION}`, id: "x" },
            ];
        });
        const run = await planInProcess(...["--config", file]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /ci-platform:adopt\[2\]\.resource: names no resource the program declares; did you mean "buildkite-test-eu-west-1-repository"\?/,
        );
        assert.match(
            run.stderr,
            /ci-platform:adopt\[3\]\.resource: names a component \(ci-platform:agents:SecretsBucket\)/,
        );
        assert.doesNotMatch(run.stderr, /adopt\[[01]\]/, "the valid entries are fine");
        assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
        const twice = stackFile("twice", (c) => {
            smallStack(c);
            c["ci-platform:adopt"] = [adoptEntries[0], adoptEntries[0]];
        });
        const again = await planInProcess(...["--config", twice]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /ci-platform:adopt\[1\]\.resource: must name a resource once; adopt\[0\]/);
    });
});

describe("Adopter", () => {
    const declared = [
        { type: "aws:ecr/repository:Repository", name: "a-repository", custom: true, provider: false },
        { type: "aws:kms/alias:Alias", name: "same", custom: true, provider: false },
        { type: "aws:kms/key:Key", name: "same", custom: true, provider: false },
        { type: "pulumi:providers:aws", name: "ci-platform-aws-eu-west-1", custom: true, provider: true },
    ];
    const run = (entries: { resource: string; id: string }[]) => {
        const adopter = new Adopter(entries);
        const ids = declared.map((r) => adopter.see(r)?.id);
        return { ids, issues: adopter.issues() };
    };

    it("imports the one resource an entry names, and asks for <type>::<name> when the name is shared", () => {
        assert.deepEqual(run([{ resource: "a-repository", id: "ci-platform/a" }]).ids, [
            "ci-platform/a",
            undefined,
            undefined,
            undefined,
        ]);
        const shared = run([{ resource: "same", id: "k" }]);
        assert.match(shared.issues[0].message, /names 2 resources: aws:kms\/alias:Alias::same, aws:kms\/key:Key::same/);
        assert.deepEqual(run([{ resource: "aws:kms/key:Key::same", id: "k" }]).ids, [
            undefined,
            undefined,
            "k",
            undefined,
        ]);
    });

    it("never imports a provider", () => {
        const { ids, issues } = run([{ resource: "ci-platform-aws-eu-west-1", id: "x" }]);
        assert.deepEqual(ids, [undefined, undefined, undefined, undefined]);
        assert.match(issues[0].message, /names a provider/);
    });

    it("the schema refuses blank names and ids, and unknown keys", () => {
        assert.equal(adoptSchema.safeParse([{ resource: "a b", id: "x" }]).success, false);
        assert.equal(adoptSchema.safeParse([{ resource: "a", id: "" }]).success, false);
        assert.equal(adoptSchema.safeParse([{ resource: "a", id: "x", urn: "y" }]).success, false);
        assert.deepEqual(adoptSchema.parse(undefined), []);
        assert.equal(adoptSchema.safeParse([{ resource: "a", id: "x", ignoreChanges: ["not a name"] }]).success, false);
        assert.equal(
            adoptSchema.safeParse([{ resource: "a", id: "x", ignoreChanges: ["defaultTeamId"] }]).success,
            true,
        );
    });
});

describe("ci-platform:adopt of an image repository", () => {
    it("is a config error naming the entry: the repository holds the tags the re-add would push", async () => {
        const file = stackFile("repository", (c) => {
            smallStack(c);
            c["ci-platform:adopt"] = [
                { resource: `buildkite-test-${REGION}-repository`, id: "ci-platform/buildkite-test" },
            ];
        });
        const run = await planInProcess(...["--config", file]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /ci-platform:adopt\[0\]\.resource: adopts the image repository ci-platform\/buildkite-test/,
        );
        assert.match(run.stderr, /aws ecr delete-repository --force/);
    });
});

describe("adoption: the transformation", () => {
    // A stand-in that passes the transformation's instanceof test without registering anything.
    const custom = Object.create(pulumi.CustomResource.prototype) as pulumi.CustomResource;
    const args = (name: string, opts: pulumi.CustomResourceOptions = {}): pulumi.ResourceTransformationArgs => ({
        resource: custom,
        type: "buildkite:index/pipeline:Pipeline",
        name,
        props: {},
        opts,
    });

    it("sets import and the entry's ignoreChanges, joined with the program's own", () => {
        const { transformation } = adoption([
            { resource: "api-pipeline", id: "UGlw", ignoreChanges: ["defaultTeamId", "tags"] },
            { resource: "web-pipeline", id: "V2Vi" },
        ]);
        assert.deepEqual(transformation(args("api-pipeline", { ignoreChanges: ["steps"] }))?.opts, {
            ignoreChanges: ["steps", "defaultTeamId", "tags"],
            import: "UGlw",
        });
        assert.deepEqual(transformation(args("web-pipeline"))?.opts, { import: "V2Vi" });
        assert.equal(transformation(args("other")), undefined);
    });
});
