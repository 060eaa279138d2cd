import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { diffPlans } from "../../scripts/plan/diff";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { ROOT, runScript } from "../fixtures/cli";

/*
 * The region-down drill: region X's API is down. Every command `npm run dr -- --region X --lost` prints must either
 * touch only the state (`pulumi state delete`, `pulumi state unprotect`) or, run after them on the edited config, touch
 * only healthy regions and Buildkite. The lost region's resource set is derived here from the plan on its own (the
 * resources whose provider is the region's AWS provider, the pushes into them and their docker provider), and the
 * state is simulated as the Pulumi CLI edits it (pulumi/pulumi pkg/resource/edit/operations.go DeleteResource: a
 * protected resource, or one another resource depends on, is parented to or is managed by, is refused).
 */
const dir = mkdtempSync(path.join(tmpdir(), "region-down-"));
const LOST = "eu-west-1";
const TO = "eu-central-1";

type Fleet = { name: string; region?: string; kind?: string };

async function planOf(name: string, edit: (config: Record<string, unknown>) => void): Promise<PlanDocument> {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, stringify(doc));
    const out = path.join(dir, `${name}.json`);
    const result = await runScript("scripts/plan.ts", ["--config", file, "--json", out]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(readFileSync(out, "utf8")) as PlanDocument;
}

/** Every reference that makes the CLI refuse to delete the referenced resource. */
const refs = (r: PlanResource) => [
    ...r.dependsOn,
    ...(r.parent ? [r.parent] : []),
    ...(r.provider ? [r.provider] : []),
];

let prod: PlanDocument;
let evacuated: PlanDocument;
let stdout: string;
/** The lost region's resources, derived from the plan, providers included. */
let lostSet: Set<string>;
let lostProviders: Set<string>;
let newNames: string[];

before(async () => {
    const [p, e, out] = await Promise.all([
        planOf("prod", () => undefined),
        // The runbook's edit: the lost region's fleets replaced by fleets of new names in a healthy region.
        planOf("evacuated", (c) => {
            c["ci-platform:fleets"] = (c["ci-platform:fleets"] as Fleet[]).map((f) =>
                f.kind !== "static" && f.region === LOST ? { ...f, name: f.name.split(LOST).join(TO), region: TO } : f,
            );
        }),
        runScript("scripts/dr.ts", ["--region", LOST, "--lost", "--to", TO]),
    ]);
    assert.equal(out.code, 0, out.stderr);
    prod = p;
    evacuated = e;
    stdout = out.stdout;
    const aws = prod.resources.filter((r) => r.type === "pulumi:providers:aws" && r.inputs.region === LOST);
    assert.equal(aws.length, 1);
    const inRegion = new Set(prod.resources.filter((r) => r.provider === aws[0].urn).map((r) => r.urn));
    const pushes = prod.resources.filter(
        (r) => r.type === "docker:index/image:Image" && r.dependsOn.some((d) => inRegion.has(d)),
    );
    lostProviders = new Set([aws[0].urn, ...pushes.map((r) => r.provider ?? "")]);
    lostSet = new Set([...inRegion, ...pushes.map((r) => r.urn), ...lostProviders]);
    newNames = (
        parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, Fleet[]> }
    ).config["ci-platform:fleets"]
        .filter((f) => f.region === LOST)
        .map((f) => f.name.split(LOST).join(TO));
});

/** The printed commands: every numbered step that runs `pulumi`, and any other line that does. */
const commands = () =>
    stdout
        .split("\n")
        .map(
            (l) =>
                /^\s+\d+\. (pulumi .*)$/.exec(l)?.[1] ?? /^\s*(pulumi (?:up|refresh|destroy|import)\b.*)$/.exec(l)?.[1],
        )
        .filter((c): c is string => c !== undefined);

describe("region-down drill: no step calls the lost region's API", () => {
    it("prints only state-only commands and an up with no target into the lost region", () => {
        const all = commands();
        assert.ok(all.length > 50, "the evacuation's commands");
        for (const command of all) {
            if (/^pulumi state (delete|unprotect) /.test(command)) continue;
            assert.match(command, /^pulumi (up|refresh|destroy)\b/, command);
            const targets = [...command.matchAll(/--(?:target|replace) '([^']+)'/g)].map((m) => m[1]);
            for (const urn of targets) assert.ok(!lostSet.has(urn), `${command} names ${urn} of ${LOST}`);
        }
        assert.ok(all.some((c) => /^pulumi up --stack 'prod'/.test(c)));
    });

    it("the state deletes go through as the CLI runs them, and leave nothing of the lost region in the state", () => {
        const state = new Map(prod.resources.map((r) => [r.urn, { ...r }]));
        for (const command of commands()) {
            const urn = /--yes '([^']+)'/.exec(command)?.[1];
            if (!urn) continue;
            const r = state.get(urn);
            assert.ok(r, `${urn} is in the state`);
            if (command.startsWith("pulumi state unprotect")) {
                state.set(urn, { ...r, protect: false });
                continue;
            }
            assert.equal(r.protect, false, `${urn} is unprotected before it is deleted`);
            const holders = [...state.values()].filter((o) => refs(o).includes(urn)).map((o) => o.urn);
            assert.deepEqual(holders, [], `nothing refers to ${urn} when it is deleted`);
            state.delete(urn);
        }
        for (const urn of lostSet) assert.ok(!state.has(urn), `${urn} left the state`);
        // Nothing else went, besides healthy resources that depended on the lost ones (recreated by up below).
        const dropped = prod.resources.filter((r) => !state.has(r.urn) && !lostSet.has(r.urn));
        for (const r of dropped) {
            assert.ok(
                r.dependsOn.some((d) => lostSet.has(d)),
                `${r.urn} depended on the lost region`,
            );
            assert.ok(!r.type.startsWith("buildkite:") && !r.type.startsWith("ci-platform:"), r.urn);
        }
        assert.deepEqual(
            dropped.map((r) => r.name),
            ["deploy-roles-ci-platform-read-token-parameters"],
        );
    });

    it("then pulumi up on the edited config touches only healthy regions and Buildkite", () => {
        const deleted = new Set(
            commands()
                .filter((c) => c.startsWith("pulumi state delete"))
                .map((c) => /--yes '([^']+)'/.exec(c)?.[1]),
        );
        const state: PlanDocument = { ...prod, resources: prod.resources.filter((r) => !deleted.has(r.urn)) };
        const diff = diffPlans(state, evacuated);
        // A change is made through the provider it has before and after (the state's, the program's).
        const providersOf = (urn: string) =>
            [state, evacuated].map((p) => p.resources.find((r) => r.urn === urn)?.provider ?? null);
        const touched = [...diff.added, ...diff.removed, ...diff.replaced, ...diff.updated];
        assert.ok(touched.length > 0);
        for (const r of touched) {
            for (const provider of providersOf(r.urn))
                assert.ok(!lostProviders.has(provider ?? ""), `${r.type} ${r.name} would call ${LOST}'s API`);
            assert.ok(!lostSet.has(r.urn), `${r.urn} is of ${LOST}`);
        }
        assert.ok(!evacuated.resources.some((r) => lostProviders.has(r.urn)), "the program declares no provider of it");
        // The new fleets are created in the healthy region; the old fleets' tokens are deleted in Buildkite.
        const created = diff.added.map((r) => r.name);
        for (const name of newNames) {
            assert.ok(created.includes(`${name}-stack`), `${name}'s stack`);
            assert.ok(created.includes(`${name}-token`), `${name}'s token`);
        }
        const removed = diff.removed.map((r) => `${r.type}::${r.name}`);
        assert.ok(removed.includes("buildkite:Cluster/clusterAgentToken:ClusterAgentToken::linux-eu-west-1-token"));
        for (const r of diff.removed)
            assert.ok(
                r.type.startsWith("buildkite:") || r.type.startsWith("ci-platform:") || r.provider === null,
                `${r.type} ${r.name}: only Buildkite and components are deleted`,
            );
        // The healthy dependent the state deletes dropped is created again through the home region's provider.
        assert.ok(created.includes("deploy-roles-ci-platform-read-token-parameters"));
    });

    it("no new fleet has a global fixed name: its IAM names are generated, its stack makes no role of its own", () => {
        const fleets = new Set(
            evacuated.resources.filter((r) => r.type === "ci-platform:agents:Fleet").map((r) => r.urn),
        );
        const iam = evacuated.resources.filter((x) => x.type.startsWith("aws:iam/") && fleets.has(x.parent ?? ""));
        assert.ok(iam.some((r) => newNames.some((n) => r.name === `${n}-role`)));
        for (const r of iam) assert.equal(r.inputs.name, undefined, `${r.type} ${r.name} has a generated name`);
        for (const stack of evacuated.resources.filter((r) => r.type === "aws:cloudformation/stack:Stack")) {
            const parameters = stack.inputs.parameters as Record<string, unknown>;
            // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: IAMRole (RoleName `<stack>-Role`, global) has
            // Condition CreateIAMRole, true only when InstanceRoleARN is empty.
            assert.ok(parameters.InstanceRoleARN, `${stack.name} brings its own role`);
            assert.equal(parameters.InstanceRoleName, undefined, stack.name);
        }
    });
});
