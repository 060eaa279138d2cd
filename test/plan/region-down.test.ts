import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { diffPlans } from "../../scripts/plan/diff";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { drInProcess, planOfEditedProd, ROOT } from "../fixtures/cli";
import { promisify } from "node:util";

/*
 * The region-down drill: region X's API is down. Every command `npm run dr -- --region X --lost` prints must either
 * touch only the state (`pulumi state unprotect`, `pulumi stack export`, the jq filter, `pulumi stack import`) or, run
 * after them on the edited config, touch only healthy regions and Buildkite. The lost region's resource set is derived
 * here from the plan on its own (the resources whose provider is the region's AWS provider, the pushes into them and
 * their docker provider). The state is a document shaped as `pulumi stack export` writes it (pulumi/pulumi v3.259.0
 * sdk/go/common/apitype/core.go DeploymentV3, ResourceV3), built from the plan; the printed jq command runs on it for
 * real, and its output is checked as `pulumi stack import` checks it (pkg/resource/deploy/snapshot.go
 * VerifyIntegrity: every parent, dependency, property dependency, deletedWith, replaceWith and provider is a resource
 * listed earlier).
 */
const dir = mkdtempSync(path.join(tmpdir(), "region-down-"));
const LOST = "eu-west-1";
const TO = "eu-central-1";

type Fleet = { name: string; region?: string; kind?: string };

async function planOf(name: string, edit: (config: Record<string, unknown>) => void): Promise<PlanDocument> {
    return planOfEditedProd(dir, name, edit);
}

/** A resource of the exported state (apitype.ResourceV3), the fields the evacuation reads or must keep. */
interface StateResource {
    urn: string;
    custom: boolean;
    id?: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    retainOnDelete?: boolean;
    dependencies?: string[];
    provider?: string;
    propertyDependencies?: Record<string, string[]>;
    deletedWith?: string;
    replaceWith?: string[];
}
interface StateDocument {
    version: 3;
    deployment: {
        manifest: Record<string, unknown>;
        secrets_providers: Record<string, unknown>;
        resources: StateResource[];
        pending_operations?: { resource: StateResource; type: string }[];
    };
}

/** Every resource the given one refers to: what makes the engine order it after them (state.go GetAllDependencies). */
const stateRefs = (r: StateResource): string[] => [
    ...(r.parent ? [r.parent] : []),
    ...(r.dependencies ?? []),
    ...Object.values(r.propertyDependencies ?? {}).flat(),
    ...(r.deletedWith ? [r.deletedWith] : []),
    ...(r.replaceWith ?? []),
    ...(r.provider ? [r.provider.split("::").slice(0, -1).join("::")] : []),
];

/**
 * The state `pulumi stack export` would write after `pulumi up` of the plan: resources in dependency order, custom
 * ones with an id, provider references `<urn>::<id>`, every dependency also recorded under the input that names its
 * resource (or the first input). A resource that depends on another of its component's siblings is also `deletedWith`
 * it, and one that depends on a resource elsewhere `replaceWith` it: not what this program sets, but edges the CLI
 * checks and the filter must clean too.
 */
function stateOf(plan: PlanDocument): StateDocument {
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const ordered: PlanResource[] = [];
    const seen = new Set<string>();
    const visit = (r: PlanResource) => {
        if (seen.has(r.urn)) return;
        seen.add(r.urn);
        for (const u of [...(r.parent ? [r.parent] : []), ...(r.provider ? [r.provider] : []), ...r.dependsOn]) {
            const d = byUrn.get(u);
            if (d) visit(d);
        }
        ordered.push(r);
    };
    plan.resources.forEach(visit);
    const idOf = (r: PlanResource) => `id-${r.name}`;
    const resources = ordered.map((r): StateResource => {
        const custom = r.provider !== null || r.type.startsWith("pulumi:providers:");
        const keys = Object.keys(r.inputs).sort();
        const propertyDependencies: Record<string, string[]> = {};
        for (const d of r.dependsOn) {
            const name = byUrn.get(d)?.name ?? "";
            const key = keys.find((k) => JSON.stringify(r.inputs[k]).includes(name)) ?? keys[0] ?? "__";
            propertyDependencies[key] = [...(propertyDependencies[key] ?? []), d];
        }
        const sibling = r.dependsOn.find((d) => byUrn.get(d)?.parent === r.parent && r.parent !== null);
        const elsewhere = r.dependsOn.filter((d) => byUrn.get(d)?.parent !== r.parent);
        const provider = r.provider ? byUrn.get(r.provider) : undefined;
        return {
            urn: r.urn,
            custom,
            ...(custom ? { id: idOf(r) } : {}),
            type: r.type,
            inputs: { ...r.inputs },
            outputs: { ...r.inputs },
            ...(r.parent ? { parent: r.parent } : {}),
            ...(r.protect ? { protect: true } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(r.dependsOn.length ? { dependencies: [...r.dependsOn] } : {}),
            ...(provider ? { provider: `${provider.urn}::${idOf(provider)}` } : {}),
            ...(r.dependsOn.length ? { propertyDependencies } : {}),
            ...(sibling ? { deletedWith: sibling } : {}),
            ...(elsewhere.length ? { replaceWith: elsewhere } : {}),
        };
    });
    return {
        version: 3,
        deployment: { manifest: { version: "v3.259.0" }, secrets_providers: { type: "service" }, resources },
    };
}

/** What `pulumi stack import` refuses (snapshot.go VerifyIntegrity), as messages; [] when it accepts the state. */
function integrityErrors(state: StateDocument): string[] {
    const errors: string[] = [];
    const earlier = new Set<string>();
    for (const r of state.deployment.resources) {
        if (earlier.has(r.urn)) errors.push(`${r.urn} twice`);
        for (const ref of stateRefs(r)) if (!earlier.has(ref)) errors.push(`${r.urn} refers to ${ref}, not before it`);
        earlier.add(r.urn);
    }
    return errors;
}

const sh = promisify(execFile);
/** Runs a printed shell command in `cwd`, as an operator pastes it. */
async function runPrinted(command: string, cwd: string): Promise<{ code: number; stderr: string }> {
    try {
        const { stderr } = await sh("sh", ["-c", command], { cwd, maxBuffer: 64 * 1024 * 1024 });
        return { code: 0, stderr };
    } catch (e) {
        const error = e as { code?: number; stderr?: string };
        if (typeof error.code !== "number") throw e;
        return { code: error.code, stderr: error.stderr ?? "" };
    }
}

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
        drInProcess(...["--region", LOST, "--lost", "--to", TO]),
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

/** The printed commands: every numbered step that runs `pulumi` or `jq`, and any other line that runs pulumi. */
const commands = () =>
    stdout
        .split("\n")
        .map(
            (l) =>
                /^\s+\d+\. ((?:pulumi|jq) .*?)(?:\s+#.*)?$/.exec(l)?.[1] ??
                /^\s*(pulumi (?:up|refresh|destroy|import)\b.*)$/.exec(l)?.[1],
        )
        .filter((c): c is string => c !== undefined);

/** Where the replay runs the printed commands (their files, before.json and after.json, land here). */
const work = mkdtempSync(path.join(tmpdir(), "region-down-state-"));
/** The state before the evacuation, and after its state-only steps, replayed once. */
let replayed: Promise<{ before: StateDocument; after: StateDocument }> | undefined;

/**
 * Replays the printed state-only steps in order on the state of the prod plan: `pulumi state unprotect` clears the
 * resource's `protect` (state only), `pulumi stack export --file F` writes the state to F, the jq command runs for
 * real, `pulumi stack import --file F` checks F as the CLI does and makes it the state.
 */
function replay(): Promise<{ before: StateDocument; after: StateDocument }> {
    replayed ??= (async () => {
        const initial = stateOf(prod);
        let state: StateDocument = structuredClone(initial);
        for (const command of commands()) {
            const file = /--file '?([^' ]+)'?/.exec(command)?.[1];
            if (command.startsWith("pulumi state unprotect")) {
                // Literal URNs, one or more (state_unprotect.go: no patterns, several since v3.170.0).
                const urns = [...(command.split(" --yes ")[1] ?? "").matchAll(/'([^']+)'/g)].map((m) => m[1]);
                assert.ok(urns.length > 0, command);
                for (const urn of urns) {
                    const r = state.deployment.resources.find((x) => x.urn === urn);
                    assert.ok(r, `${urn} is in the state`);
                    delete r.protect;
                }
            } else if (command.startsWith("pulumi state delete")) {
                // Modelled too, so that a runbook that state-deletes is replayed faithfully (edit/operations.go
                // DeleteResource: refused while protected or while another resource refers to it).
                const urn = /--yes '([^']+)'/.exec(command)?.[1];
                const r = state.deployment.resources.find((x) => x.urn === urn);
                assert.ok(r && !r.protect, `${urn} is in the state, unprotected`);
                assert.ok(
                    !state.deployment.resources.some((x) => stateRefs(x).includes(r.urn)),
                    `${urn} is not referred to`,
                );
                state.deployment.resources = state.deployment.resources.filter((x) => x !== r);
            } else if (command.startsWith("pulumi stack export")) {
                assert.ok(file, command);
                writeFileSync(path.join(work, file), JSON.stringify(state, null, 4));
            } else if (command.startsWith("jq ")) {
                const run = await runPrinted(command, work);
                assert.equal(run.code, 0, run.stderr);
            } else if (command.startsWith("pulumi stack import")) {
                assert.ok(file, command);
                const imported = JSON.parse(readFileSync(path.join(work, file), "utf8")) as StateDocument;
                assert.deepEqual(integrityErrors(imported), [], "pulumi stack import accepts it");
                state = imported;
            } else assert.match(command, /^pulumi (up|refresh|destroy)\b/, command);
        }
        return { before: initial, after: state };
    })();
    return replayed;
}

describe("region-down drill: no step calls the lost region's API", () => {
    it("prints only state-only commands and an up with no target into the lost region", () => {
        const all = commands();
        const stateOnly = /^(pulumi state unprotect |pulumi stack (export|import) |jq )/;
        assert.ok(all.filter((c) => c.startsWith("pulumi stack ")).length === 2, "an export and an import");
        assert.ok(
            all.some((c) => c.startsWith("jq ")),
            "the filter",
        );
        for (const command of all) {
            // `pulumi state delete` refuses a resource others depend on, or deletes them too with
            // --target-dependents: healthy resources (a protected pipeline) would leave the state.
            assert.doesNotMatch(command, /^pulumi state delete/);
            if (stateOnly.test(command)) continue;
            assert.match(command, /^pulumi (up|refresh|destroy)\b/, command);
            const targets = [...command.matchAll(/--(?:target|replace) '([^']+)'/g)].map((m) => m[1]);
            for (const urn of targets) assert.ok(!lostSet.has(urn), `${command} names ${urn} of ${LOST}`);
        }
        assert.ok(all.some((c) => /^pulumi up --stack 'prod'/.test(c)));
    });

    it("the state steps remove exactly the lost region and keep every healthy resource, with no dangling reference", async () => {
        const { before, after } = await replay();
        assert.deepEqual(integrityErrors(before), [], "the synthetic state is itself valid");
        const beforeUrns = before.deployment.resources.map((r) => r.urn);
        const afterUrns = after.deployment.resources.map((r) => r.urn);
        // Exactly the lost region left the state, in the same order otherwise.
        assert.deepEqual(
            afterUrns,
            beforeUrns.filter((u) => !lostSet.has(u)),
        );
        assert.ok(lostSet.size > 50);
        // Every healthy resource is kept whole: only its references to the lost region went.
        const strip = (r: StateResource): StateResource => {
            const keep = (us: string[]) => us.filter((u) => !lostSet.has(u));
            const out: StateResource = { ...r };
            if (r.dependencies) out.dependencies = keep(r.dependencies);
            if (r.propertyDependencies)
                out.propertyDependencies = Object.fromEntries(
                    Object.entries(r.propertyDependencies).map(([k, v]) => [k, keep(v)]),
                );
            if (r.deletedWith && lostSet.has(r.deletedWith)) delete out.deletedWith;
            if (r.replaceWith) out.replaceWith = keep(r.replaceWith);
            return out;
        };
        const afterByUrn = new Map(after.deployment.resources.map((r) => [r.urn, r]));
        for (const r of before.deployment.resources.filter((x) => !lostSet.has(x.urn)))
            assert.deepEqual(afterByUrn.get(r.urn), strip(r), r.urn);
        // The healthy resources that referred to the lost region: the dagster pipeline (its steps pull the region's
        // pushes) stays, protected, as every Buildkite object does; so does the read role's policy.
        const referred = before.deployment.resources.filter(
            (r) => !lostSet.has(r.urn) && stateRefs(r).some((u) => lostSet.has(u)),
        );
        assert.ok(referred.some((r) => r.urn.endsWith("::dagster-pipeline")));
        assert.ok(referred.some((r) => r.urn.endsWith("::deploy-roles-ci-platform-read-token-parameters")));
        assert.equal(
            afterByUrn.get(referred.find((r) => r.urn.endsWith("::dagster-pipeline"))?.urn ?? "")?.protect,
            true,
        );
        for (const r of after.deployment.resources)
            assert.ok(!stateRefs(r).some((u) => lostSet.has(u)), `${r.urn} still refers to ${LOST}`);
        const buildkite = (d: StateDocument) => d.deployment.resources.filter((r) => r.type.startsWith("buildkite:"));
        assert.deepEqual(buildkite(after), buildkite(before).map(strip));
    });

    it("the filter refuses a lost resource still protected, a healthy child of a lost one, a pending operation on a healthy one", async () => {
        const jq = commands().find((c) => c.startsWith("jq "));
        assert.ok(jq);
        const dir2 = mkdtempSync(path.join(tmpdir(), "region-down-refuse-"));
        // Without the unprotect steps: the image repositories are still protected.
        writeFileSync(path.join(dir2, "before.json"), JSON.stringify(stateOf(prod)));
        const protectedRun = await runPrinted(jq, dir2);
        assert.notEqual(protectedRun.code, 0);
        assert.match(
            protectedRun.stderr,
            /still protected, run pulumi state unprotect first: [^\n]*-eu-west-1-repository/,
        );
        const unprotected = stateOf(prod);
        for (const r of unprotected.deployment.resources) delete r.protect;
        const healthy = unprotected.deployment.resources.find((r) => r.urn.endsWith("::dagster-pipeline"));
        assert.ok(healthy);
        unprotected.deployment.pending_operations = [{ resource: healthy, type: "updating" }];
        writeFileSync(path.join(dir2, "before.json"), JSON.stringify(unprotected));
        const pending = await runPrinted(jq, dir2);
        assert.notEqual(pending.code, 0);
        assert.match(
            pending.stderr,
            /pending operations on healthy resources, resolve them first: [^\n]*dagster-pipeline/,
        );
        // A healthy resource parented to a lost one (not in this program): the filter stops, rather than orphan it.
        const orphaned = structuredClone(unprotected);
        const lostParent = orphaned.deployment.resources.find((r) => lostSet.has(r.urn) && r.custom);
        assert.ok(lostParent);
        orphaned.deployment.pending_operations = [];
        orphaned.deployment.resources.push({
            urn: "urn:pulumi:prod::ci-platform::x:y:Z::orphan",
            custom: false,
            type: "x:y:Z",
            parent: lostParent.urn,
        });
        writeFileSync(path.join(dir2, "before.json"), JSON.stringify(orphaned));
        const orphanRun = await runPrinted(jq, dir2);
        assert.notEqual(orphanRun.code, 0);
        assert.match(
            orphanRun.stderr,
            /healthy children of lost resources, resolve by hand: urn:pulumi:prod::ci-platform::x:y:Z::orphan/,
        );
        // A pending operation on a lost resource (the region went down mid-update) goes with it.
        const lostOne = unprotected.deployment.resources.find((r) => lostSet.has(r.urn) && r.custom);
        assert.ok(lostOne);
        unprotected.deployment.pending_operations = [{ resource: lostOne, type: "creating" }];
        writeFileSync(path.join(dir2, "before.json"), JSON.stringify(unprotected));
        const lostPending = await runPrinted(jq, dir2);
        assert.equal(lostPending.code, 0, lostPending.stderr);
        const out = JSON.parse(readFileSync(path.join(dir2, "after.json"), "utf8")) as StateDocument;
        assert.deepEqual(out.deployment.pending_operations, []);
    });

    it("then pulumi up on the edited config touches only healthy regions and Buildkite, and creates no Buildkite object again", async () => {
        const { after } = await replay();
        const kept = new Set(after.deployment.resources.map((r) => r.urn));
        const state: PlanDocument = { ...prod, resources: prod.resources.filter((r) => kept.has(r.urn)) };
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
        // Nothing that stayed in the state is created again: no duplicate pipeline, no second read-role policy.
        for (const r of diff.added) assert.ok(!kept.has(r.urn), `${r.urn} is created while in the state`);
        assert.ok(!diff.added.some((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline"), "no pipeline created");
        assert.ok(!created.includes("deploy-roles-ci-platform-read-token-parameters"));
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
