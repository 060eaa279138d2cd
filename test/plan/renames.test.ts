import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { diffPlans, PlanDiff, stackNeutralUrn } from "../../scripts/plan/diff";
import { PlanDocument } from "../../scripts/plan/model";
import { renderDiffText } from "../../scripts/plan/render";
import { serializePlan } from "../../scripts/plan";
import { ROOT, cutProd, planInProcess } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";

/*
 * A rename in config keeps every Buildkite and AWS object: from the prod config, one pipeline (its slug), one team,
 * one AWS fleet and one cluster (with a secrets bucket) are renamed with `renamedFrom`, and the plan diff has no addition, removal or replacement, only
 * in-place updates of name fields (and the URN changes the aliases cover). The same renames without `renamedFrom`
 * delete and create them, which shows the test can fail.
 */

const OLD_SLUG = "kolibri-installer-macos";
const NEW_SLUG = "kolibri-macos-app";
const OLD_TEAM = "kolibri";
const NEW_TEAM = "kolibri-engineering";
const OLD_FLEET = "linux-eu-west-1";
const NEW_FLEET = "linux-europe";
const OLD_CLUSTER = "dagster";
const NEW_CLUSTER = "dagster-oss";

type Node = Record<string, unknown>;

/** The prod stack's config, to edit. */
function prodConfig(): Node {
    const doc = parseDocument(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"));
    return (doc.toJS() as { config: Node }).config;
}

const list = (config: Node, key: string) => config[`ci-platform:${key}`] as Node[];

/** Renames `entry[field]` to `to`, with `renamedFrom` when `withAliases`. */
function rename(entry: Node, field: string, to: string, withAliases: boolean): void {
    const from = entry[field] as string;
    entry[field] = to;
    if (withAliases) entry.renamedFrom = [from];
}

/** Renames pipeline `from` to `to` and every reference to it (triggers, its secrets). */
function renamePipeline(config: Node, from: string, to: string, withAliases: boolean): void {
    rename(
        list(config, "pipelines").find((p) => p.slug === from)!,
        "slug",
        to,
        withAliases,
    );
    for (const p of list(config, "pipelines"))
        for (const t of (p.triggers as Node[] | undefined) ?? []) if (t.pipeline === from) t.pipeline = to;
    const secrets = config["ci-platform:secrets"] as { pipelines: Node };
    if (from in secrets.pipelines) {
        secrets.pipelines[to] = secrets.pipelines[from];
        delete secrets.pipelines[from];
    }
}

/** Renames team `from` to `to` and every reference to it (pipelines' owner and access grants). */
function renameTeam(config: Node, from: string, to: string, withAliases: boolean): void {
    rename(
        list(config, "teams").find((t) => t.name === from)!,
        "name",
        to,
        withAliases,
    );
    for (const p of list(config, "pipelines")) {
        if (p.team === from) p.team = to;
        for (const t of (p.teams as Node[] | undefined) ?? []) if (t.team === from) t.team = to;
    }
}

/**
 * A small stack cut from the prod config (fixtures/cli.ts cutProd), for the scenarios about one fleet and one team
 * grant, which no other entry takes part in: cluster default with fleets linux-us-east-1 and OLD_FLEET, and pipeline
 * kolibri-python-package with its team grant and secrets.
 */
function smallConfig(): Node {
    const config = prodConfig();
    cutProd(config, {
        clusters: ["default"],
        fleets: ["linux-us-east-1", OLD_FLEET],
        pipelines: ["kolibri-python-package"],
    });
    return config;
}

/** The plan of {@link smallConfig} unchanged: built once, for both scenarios that use it; each gets its own copy. */
let smallBase: Promise<PlanDocument> | undefined;
const smallBasePlan = async (dir: string): Promise<PlanDocument> =>
    structuredClone(
        await (smallBase ??= planOf(["--config", stackFile("small", smallConfig())], path.join(dir, "small.json"))),
    );

/** Writes `config` as a stack file the plan reads with `--config`. */
function stackFile(label: string, config: Node): string {
    const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-renames-"));
    const file = path.join(dir, `Pulumi.${label}.yaml`);
    writeFileSync(file, JSON.stringify({ config }));
    return file;
}

/** The prod stack file with the four renames, and `renamedFrom` on each renamed entry when `withAliases`. */
function renamedStackFile(withAliases: boolean): string {
    const config = prodConfig();
    renamePipeline(config, OLD_SLUG, NEW_SLUG, withAliases);
    renameTeam(config, OLD_TEAM, NEW_TEAM, withAliases);
    const fleet = list(config, "fleets").find((f) => f.name === OLD_FLEET)!;
    rename(fleet, "name", NEW_FLEET, withAliases);
    // A renamed fleet names the name it was first deployed under (config renames.ts requires it).
    if (withAliases) fleet.physicalName = OLD_FLEET;
    rename(
        list(config, "clusters").find((c) => c.name === OLD_CLUSTER)!,
        "name",
        NEW_CLUSTER,
        withAliases,
    );
    for (const entry of [...list(config, "fleets"), ...list(config, "pipelines")])
        if (entry.cluster === OLD_CLUSTER) entry.cluster = NEW_CLUSTER;
    // The cluster's private signing key set is kept under its name.
    const signing = (config["ci-platform:secrets"] as { signing: Node }).signing;
    if (OLD_CLUSTER in signing) {
        signing[NEW_CLUSTER] = signing[OLD_CLUSTER];
        delete signing[OLD_CLUSTER];
    }
    return stackFile(`renamed-${withAliases ? "aliases" : "plain"}`, config);
}

/** The plan `npm run plan -- [--config FILE] --json OUT` writes (built in this process), also written to `json`. */
async function planOf(args: readonly string[], json: string): Promise<PlanDocument> {
    const config = args[0] === "--config" ? args[1] : undefined;
    assert.equal(args.length, config === undefined ? 0 : 2, `unexpected plan arguments ${args.join(" ")}`);
    const plan = await planAsCliWrites(config);
    writeFileSync(json, serializePlan(plan));
    return plan;
}

/** Resources the clouds hold: everything but components, providers and the stack. */
const isCloudObject = (type: string) => /^(aws|buildkite|github|docker):/.test(type);

describe("renames with renamedFrom (prod config)", () => {
    let base: PlanDocument;
    let aliased: PlanDiff;
    let plain: PlanDiff;
    let head: PlanDocument;
    before(async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-renames-"));
        base = await planOf([], path.join(dir, "base.json"));
        head = await planOf(["--config", renamedStackFile(true)], path.join(dir, "aliased.json"));
        aliased = diffPlans(base, head);
        plain = diffPlans(base, await planOf(["--config", renamedStackFile(false)], path.join(dir, "plain.json")));
    });

    it("adds, removes and replaces nothing", () => {
        assert.deepEqual(
            aliased.added.map((r) => r.urn),
            [],
        );
        assert.deepEqual(
            aliased.removed.map((r) => r.urn),
            [],
        );
        assert.deepEqual(
            aliased.replaced.map((r) => `${r.name}: ${r.replaceReasons.join(", ")}`),
            [],
        );
    });

    it("records the old URNs as aliases of every renamed resource and its children", () => {
        const renamed = aliased.updated.filter((c) => c.previousUrn !== undefined);
        for (const c of renamed) {
            const resource = head.resources.find((r) => r.urn === c.urn)!;
            assert.ok(resource.aliases.map(stackNeutralUrn).includes(stackNeutralUrn(c.previousUrn!)), c.urn);
        }
        const names = renamed.map((c) => c.name).sort();
        for (const expected of [
            `${NEW_SLUG}-pipeline`,
            `${NEW_SLUG}-webhook`,
            `learningequality-team-${NEW_TEAM}`,
            NEW_FLEET,
            `${NEW_FLEET}-stack`,
            `${NEW_FLEET}-token`,
            `${NEW_FLEET}-token-parameter`,
            `${NEW_FLEET}-role`,
            `${NEW_FLEET}-policy`,
            `${NEW_FLEET}-bootstrap`,
            `learningequality-cluster-${NEW_CLUSTER}`,
            `queue-${NEW_CLUSTER}/dagster`,
            `secrets-${NEW_CLUSTER}-eu-west-1-bucket`,
            `secrets-${NEW_CLUSTER}-eu-west-1-key`,
        ])
            assert.ok(names.includes(expected), `${expected} is matched to its old URN (renamed: ${names.join(", ")})`);
    });

    it("updates in place only names, and what shows a name to people", () => {
        // Per changed resource, the input paths a rename may change: the names themselves, descriptions that name
        // them (all updatable in place, diff.ts REPLACE_ON_CHANGE), the steps that trigger the renamed pipeline, and
        // the bucket component's record of its cluster. Everything else, the URN.
        const allowed = ["urn", "name", "slug", "description", "steps", "cluster"];
        for (const c of aliased.updated)
            assert.deepEqual(
                c.paths.filter((p) => !allowed.includes(p)),
                [],
                `${c.name}: ${c.paths.join(", ")}`,
            );
        const pipeline = aliased.updated.find((c) => c.name === `${NEW_SLUG}-pipeline`)!;
        assert.deepEqual(
            pipeline.values.filter((v) => v.path === "slug"),
            [{ path: "slug", before: OLD_SLUG, after: NEW_SLUG }],
        );
        const team = aliased.updated.find((c) => c.name === `learningequality-team-${NEW_TEAM}`)!;
        assert.deepEqual(team.values, [{ path: "name", before: OLD_TEAM, after: NEW_TEAM }]);
        const cluster = aliased.updated.find((c) => c.name === `learningequality-cluster-${NEW_CLUSTER}`)!;
        assert.deepEqual(cluster.values, [{ path: "name", before: OLD_CLUSTER, after: NEW_CLUSTER }]);
        // Nothing of the fleet changes but its URNs: every physical name derives from its first name.
        for (const c of aliased.updated.filter((u) => u.name.startsWith(NEW_FLEET)))
            assert.deepEqual(c.paths, ["urn"], `${c.name}: ${c.paths.join(", ")}`);
        // The renamed cluster's secrets bucket, key and objects are the same objects.
        const bucket = aliased.updated.find((c) => c.name === `secrets-${NEW_CLUSTER}-eu-west-1-bucket`)!;
        assert.deepEqual(bucket.paths, ["urn"]);
    });

    it("shows a rename by its old name in the diff a reviewer reads", () => {
        const text = renderDiffText(aliased);
        assert.match(
            text,
            new RegExp(
                `~ update +aws:cloudformation/stack:Stack +${NEW_FLEET}-stack: renamed from ${OLD_FLEET}-stack\n`,
            ),
        );
    });

    it("without renamedFrom, deletes the objects and creates new ones", () => {
        const removed = plain.removed.filter((r) => isCloudObject(r.type)).map((r) => r.name);
        for (const name of [
            `${OLD_SLUG}-pipeline`,
            `learningequality-team-${OLD_TEAM}`,
            `${OLD_FLEET}-stack`,
            `${OLD_FLEET}-token`,
            `${OLD_FLEET}-token-parameter`,
            `learningequality-cluster-${OLD_CLUSTER}`,
            `secrets-${OLD_CLUSTER}-eu-west-1-bucket`,
        ])
            assert.ok(removed.includes(name), `${name} is deleted (removed: ${removed.join(", ")})`);
        assert.ok(plain.added.some((r) => r.name === `${NEW_SLUG}-pipeline`));
    });
});

/** The small stack file with fleet OLD_FLEET set to `fleet` (its name, renamedFrom, physicalName). */
function fleetStackFile(label: string, fleet: { name: string; renamedFrom: string[]; physicalName?: string }): string {
    const config = smallConfig();
    Object.assign(
        list(config, "fleets").find((f) => f.name === OLD_FLEET)!,
        fleet,
    );
    return stackFile(label, config);
}

/** What a diff replaces, adds or removes among cloud objects, one line each. */
const destructive = (diff: PlanDiff): string[] => [
    ...diff.replaced.map((r) => `replace ${r.name}: ${r.replaceReasons.join(", ")}`),
    ...diff.added.filter((r) => isCloudObject(r.type)).map((r) => `add ${r.name}`),
    ...diff.removed.filter((r) => isCloudObject(r.type)).map((r) => `remove ${r.name}`),
];

describe("a fleet renamed more than once (physicalName, prod's fleet in a small stack)", () => {
    // OLD_FLEET → NEW_FLEET → back, and OLD_FLEET → NEW_FLEET → a third name with renamedFrom in either order or
    // without the oldest: every step keeps the stack, parameter, policy and bootstrap object, since what names them
    // is physicalName, not the list (before, its first entry: a rename back replaced the stack, deleting it first).
    const THIRD = "linux-emea";
    let dir: string;
    let first: PlanDocument;
    let second: PlanDocument;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "ci-platform-renames-"));
        first = await smallBasePlan(dir);
        second = await planOf(
            [
                "--config",
                fleetStackFile("second", { name: NEW_FLEET, renamedFrom: [OLD_FLEET], physicalName: OLD_FLEET }),
            ],
            path.join(dir, "second.json"),
        );
    });
    const then = async (label: string, fleet: { name: string; renamedFrom: string[]; physicalName?: string }) =>
        planOf(["--config", fleetStackFile(label, fleet)], path.join(dir, `${label}.json`));

    it("renamed once, replaces nothing", () => {
        assert.deepEqual(destructive(diffPlans(first, second)), []);
    });

    it("renamed back to its first name, replaces nothing", async () => {
        const back = await then("back", { name: OLD_FLEET, renamedFrom: [NEW_FLEET], physicalName: OLD_FLEET });
        const diff = diffPlans(second, back);
        // The engine keeps the role's autoname from its state (created under OLD_FLEET); the offline plan cannot
        // see the state and takes the first alias (NEW_FLEET) as the creation name (scripts/plan/capture.ts), so it
        // shows the role's name moving and the attachment that names it replaced. Everything physicalName names stays.
        assert.deepEqual(destructive(diff), [`replace ${OLD_FLEET}-policy-attachment: policyArn, role`]);
        assert.ok(diff.updated.some((c) => c.name === `${OLD_FLEET}-stack` && c.previousUrn !== undefined));
    });

    for (const [label, renamedFrom] of [
        ["oldest-first", [OLD_FLEET, NEW_FLEET]],
        ["newest-first", [NEW_FLEET, OLD_FLEET]],
        ["oldest-dropped", [NEW_FLEET]],
    ] as const)
        it(`renamed twice (renamedFrom ${label}), replaces nothing`, async () => {
            const third = await then(label, { name: THIRD, renamedFrom: [...renamedFrom], physicalName: OLD_FLEET });
            const diff = diffPlans(second, third);
            assert.deepEqual(destructive(diff), []);
            assert.ok(diff.updated.some((c) => c.name === `${THIRD}-stack` && c.previousUrn !== undefined));
            for (const c of diff.updated.filter((u) => u.name.startsWith(THIRD)))
                assert.deepEqual(c.paths, ["urn"], `${c.name}: ${c.paths.join(", ")}`);
        });

    it("without physicalName, is a config error naming the path and the fix", async () => {
        const out = await planInProcess(
            "--config",
            fleetStackFile("no-physical", { name: NEW_FLEET, renamedFrom: [OLD_FLEET] }),
        );
        assert.equal(out.code, 2, out.stderr);
        assert.match(
            out.stderr + out.stdout,
            /ci-platform:fleets\[linux-europe\]\.physicalName: .*has renamedFrom but no physicalName.*set physicalName: <the name the fleet was first deployed under>/s,
        );
    });
});

describe("a renamed team keeps its pipelines' access grants (prod's pipeline and teams in a small stack)", () => {
    // `platform` has MANAGE_BUILD_AND_READ on kolibri-python-package (pipelines[].teams): the grant is named after
    // (slug, team), so before, renaming the team planned a create of the same grant (which conflicts) and a delete of
    // the live one. Renaming the pipeline in the same edit needs the (old slug × old team) alias.
    const TEAM = "platform";
    const RENAMED_TEAM = "platform-engineering";
    const SLUG = "kolibri-python-package";
    const RENAMED_SLUG = "kolibri-wheel";
    let base: PlanDocument;
    let dir: string;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "ci-platform-renames-"));
        base = await smallBasePlan(dir);
    });
    const planWith = async (label: string, edit: (config: Node) => void) => {
        const config = smallConfig();
        edit(config);
        return planOf(["--config", stackFile(label, config)], path.join(dir, `${label}.json`));
    };

    for (const [label, alsoSlug] of [
        ["the team alone", false],
        ["the team and the pipeline together", true],
    ] as const)
        it(`renaming ${label} updates the grant in place`, async () => {
            const head = await planWith(`team-${alsoSlug ? "and-slug" : "alone"}`, (config) => {
                renameTeam(config, TEAM, RENAMED_TEAM, true);
                if (alsoSlug) renamePipeline(config, SLUG, RENAMED_SLUG, true);
            });
            const diff = diffPlans(base, head);
            // A slug rename moves the pipeline's secrets objects with its prefix (README, Renaming things): only
            // Buildkite's objects must stay.
            const buildkiteOnly = (d: PlanDiff): PlanDiff => ({
                ...d,
                added: d.added.filter((r) => r.type.startsWith("buildkite:")),
                removed: d.removed.filter((r) => r.type.startsWith("buildkite:")),
                replaced: d.replaced.filter((r) => r.type.startsWith("buildkite:")),
            });
            assert.deepEqual(destructive(alsoSlug ? buildkiteOnly(diff) : diff), []);
            const grant = `${alsoSlug ? RENAMED_SLUG : SLUG}-team-${RENAMED_TEAM}`;
            const change = diff.updated.find((c) => c.name === grant);
            assert.ok(change, `${grant} is an update (updated: ${diff.updated.map((c) => c.name).join(", ")})`);
            assert.match(change.previousUrn ?? "", new RegExp(`::${SLUG}-team-${TEAM}$`));
        });
});
