import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "yaml";
import { PipelineConfig, PlatformConfig, pipelineSchema } from "../../components/config";
import { resolveIntermediateBuilds } from "../../components/config/schema";
import { artifactIssues, packageBuildVar, usedProducers } from "../../components/steps/artifact-sources";
import { IfChanged, ifChangedSelects } from "../../components/steps/glob";
import { checkOurRules, validatePipelineDocument, walkSteps } from "../../components/steps/pipeline-schema";
import { interpolateAtBuildCreation } from "../../components/simulator";
import {
    CHANGED_ONLY_IF,
    EVERYTHING_IF,
    UPLOAD_ENV_VAR,
    escapeForUpload,
    stepsForPipeline,
} from "../../components/steps/pipeline-steps";
import {
    escapeGlob,
    findPackageCycle,
    type PackagePlan,
    type PackageSpec,
    planMonorepo,
    topologicalOrder,
} from "../../components/steps/monorepo";

function plan(packages: readonly PackageSpec[], alwaysRelevant: readonly string[] = []): PackagePlan[] {
    const result = planMonorepo(packages, alwaysRelevant);
    if (!result.ok) throw new Error(`unexpected issues: ${JSON.stringify(result.error)}`);
    return result.value;
}

const DAGSTER: readonly PackageSpec[] = [
    { name: "dagster", path: "python_modules/dagster", dependsOn: ["dagster-pipes", "dagster-shared"] },
    { name: "dagster-pipes", path: "python_modules/dagster-pipes", dependsOn: ["dagster-shared"] },
    { name: "dagster-shared", path: "python_modules/libraries/dagster-shared", dependsOn: [] },
    { name: "dagster-webserver", path: "python_modules/dagster-webserver", dependsOn: ["dagster"] },
];

describe("planMonorepo", () => {
    it("plans closures and if_changed patterns in dependency order", () => {
        assert.deepEqual(plan(DAGSTER, [".buildkite/"]), [
            {
                name: "dagster-shared",
                path: "python_modules/libraries/dagster-shared",
                closure: [],
                ifChanged: ["python_modules/libraries/dagster-shared/**", ".buildkite/**"],
            },
            {
                name: "dagster-pipes",
                path: "python_modules/dagster-pipes",
                closure: ["dagster-shared"],
                ifChanged: [
                    "python_modules/dagster-pipes/**",
                    "python_modules/libraries/dagster-shared/**",
                    ".buildkite/**",
                ],
            },
            {
                name: "dagster",
                path: "python_modules/dagster",
                closure: ["dagster-shared", "dagster-pipes"],
                ifChanged: [
                    "python_modules/dagster/**",
                    "python_modules/libraries/dagster-shared/**",
                    "python_modules/dagster-pipes/**",
                    ".buildkite/**",
                ],
            },
            {
                name: "dagster-webserver",
                path: "python_modules/dagster-webserver",
                closure: ["dagster-shared", "dagster-pipes", "dagster"],
                ifChanged: [
                    "python_modules/dagster-webserver/**",
                    "python_modules/libraries/dagster-shared/**",
                    "python_modules/dagster-pipes/**",
                    "python_modules/dagster/**",
                    ".buildkite/**",
                ],
            },
        ]);
    });

    it("does not select a package for a change in a directory that merely shares its prefix", () => {
        const [foo] = plan([{ name: "foo", path: "libs/foo", dependsOn: [] }]);
        assert.equal(ifChangedSelects(foo.ifChanged, ["libs/foobar/x.py"]), false);
        assert.equal(ifChangedSelects(foo.ifChanged, ["libs/foo.py"]), false);
        assert.equal(ifChangedSelects(foo.ifChanged, ["libs/foo"]), false);
        assert.equal(ifChangedSelects(foo.ifChanged, ["libs/foo/x.py"]), true);
        assert.equal(ifChangedSelects(foo.ifChanged, ["libs/foo/deep/er/x.py"]), true);
    });

    it("treats an always-relevant path without a trailing slash as a file or a directory", () => {
        const [pkg] = plan([{ name: "a", path: "a", dependsOn: [] }], ["Makefile", "ci/"]);
        assert.deepEqual(pkg.ifChanged, ["a/**", "Makefile", "Makefile/**", "ci/**"]);
        assert.equal(ifChangedSelects(pkg.ifChanged, ["Makefile"]), true);
        assert.equal(ifChangedSelects(pkg.ifChanged, ["Makefile.inc"]), false);
        assert.equal(ifChangedSelects(pkg.ifChanged, ["ci"]), false);
    });

    it("escapes glob characters in paths", () => {
        assert.equal(escapeGlob("libs/{a,b}*[c]?\\"), "libs/\\{a\\,b\\}\\*\\[c\\]\\?\\\\");
        const [pkg] = plan([{ name: "odd", path: "libs/{a,b}", dependsOn: [] }]);
        assert.equal(ifChangedSelects(pkg.ifChanged, ["libs/a/x"]), false);
        assert.equal(ifChangedSelects(pkg.ifChanged, ["libs/{a,b}/x"]), true);
    });

    it("reports every issue at once, each with its path", () => {
        const result = planMonorepo(
            [
                { name: "a", path: "libs/a/", dependsOn: ["ghost"] },
                { name: "a", path: "~/a", dependsOn: [] },
                { name: "b", path: "b", dependsOn: ["c"] },
                { name: "c", path: "c", dependsOn: ["b"] },
            ],
            ["/abs"],
        );
        assert.deepEqual(result, {
            ok: false,
            error: [
                { code: "invalid_path", path: "packages[0].path", message: 'path "libs/a/" must not end with /' },
                {
                    code: "duplicate_package",
                    path: "packages[1].name",
                    message: 'package name "a" is already used by packages[0]',
                },
                {
                    code: "invalid_path",
                    path: "packages[1].path",
                    message: 'path "~/a" must not start with a ~ segment (zzglob expands ~/ to the home directory)',
                },
                {
                    code: "unknown_dependency",
                    path: "packages[0].dependsOn[0]",
                    message: 'package "a" depends on "ghost", which is not a package',
                },
                {
                    code: "invalid_path",
                    path: "alwaysRelevant[0]",
                    message: 'path "/abs" must be relative to the repository root (no leading /)',
                },
                {
                    code: "dependency_cycle",
                    path: "packages[2].dependsOn",
                    message: "packages depend on each other in a cycle: b -> c -> b",
                },
            ],
        });
    });
});

describe("findPackageCycle", () => {
    it("returns null for a DAG", () => {
        assert.equal(findPackageCycle(DAGSTER), null);
    });

    it("names a self-dependency", () => {
        assert.deepEqual(findPackageCycle([{ name: "a", path: "a", dependsOn: ["a"] }]), ["a"]);
    });

    it("names a longer cycle from its alphabetically first member, in dependency order", () => {
        const packages: PackageSpec[] = [
            { name: "root", path: "r", dependsOn: ["zeta"] },
            { name: "zeta", path: "z", dependsOn: ["mid"] },
            { name: "mid", path: "m", dependsOn: ["beta"] },
            { name: "beta", path: "b", dependsOn: ["zeta"] },
        ];
        assert.deepEqual(findPackageCycle(packages), ["beta", "zeta", "mid"]);
    });

    it("ignores dependencies that are not packages", () => {
        assert.equal(findPackageCycle([{ name: "a", path: "a", dependsOn: ["missing"] }]), null);
    });
});

describe("topologicalOrder", () => {
    it("puts dependencies first and breaks ties by name, whatever the input order", () => {
        const packages: PackageSpec[] = [
            { name: "c", path: "c", dependsOn: ["a"] },
            { name: "b", path: "b", dependsOn: [] },
            { name: "d", path: "d", dependsOn: ["b", "c"] },
            { name: "a", path: "a", dependsOn: [] },
        ];
        assert.deepEqual(topologicalOrder(packages), ["a", "b", "c", "d"]);
        assert.deepEqual(topologicalOrder([...packages].reverse()), ["a", "b", "c", "d"]);
    });

    it("throws naming the cycle or the unknown dependency", () => {
        assert.throws(
            () =>
                topologicalOrder([
                    { name: "x", path: "x", dependsOn: ["y"] },
                    { name: "y", path: "y", dependsOn: ["x"] },
                ]),
            { message: "packages depend on each other in a cycle: x -> y -> x" },
        );
        assert.throws(() => topologicalOrder([{ name: "x", path: "x", dependsOn: ["nope"] }]), {
            message: 'package "x" depends on "nope", which is not a package',
        });
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Property: a package's if_changed selects a change set exactly when a changed file lies under the package, under
// one of its transitive dependencies, or under an always-relevant path.

/** Segments that share prefixes (foo/foobar, a/ab) and contain glob characters the patterns must escape. */
const SEGMENTS = ["a", "ab", "a-b", "foo", "foobar", "foo.py", "x*", "{c,d}", "[e]", "q?", "b\\s", "~"];
const ALWAYS_RELEVANT_CHOICES = [".buildkite/", "Makefile", "ci/scripts/", "foo"];

const segmentArb = fc.constantFrom(...SEGMENTS);
const pathArb = fc
    .array(segmentArb, { minLength: 1, maxLength: 3 })
    .filter((segments) => segments[0] !== "~")
    .map((segments) => segments.join("/"));

const packagesArb: fc.Arbitrary<PackageSpec[]> = fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 6 })
    .chain((names) =>
        fc.tuple(
            fc.constant(names),
            fc.array(pathArb, { minLength: names.length, maxLength: names.length }),
            // Package i may depend only on packages before it, so the graph is a DAG.
            fc.tuple(...names.map((_, i) => fc.subarray(names.slice(0, i)))),
        ),
    )
    .map(([names, paths, deps]) => names.map((name, i) => ({ name, path: paths[i], dependsOn: deps[i] })))
    .chain((packages) => fc.shuffledSubarray(packages, { minLength: packages.length }));

function changedFilesArb(packages: readonly PackageSpec[]): fc.Arbitrary<string[]> {
    const paths = packages.map((p) => p.path);
    const file = fc.oneof(
        // inside a package
        fc.tuple(fc.constantFrom(...paths), pathArb).map(([p, rest]) => `${p}/${rest}`),
        // a sibling that shares the package's prefix, or the package directory's own name as a file
        fc.tuple(fc.constantFrom(...paths), fc.constantFrom("bar/x", ".py", "")).map(([p, s]) => `${p}${s}`),
        // always-relevant places and their lookalikes
        fc.constantFrom(".buildkite/pipeline.yml", ".buildkite", "Makefile", "Makefile.inc", "ci/scripts/x.sh", "ci/x"),
        // anywhere at all
        pathArb,
    );
    return fc.array(file, { maxLength: 5 });
}

function isUnder(file: string, dir: string): boolean {
    return file.startsWith(`${dir}/`);
}

/** The oracle: plain string logic, with its own closure computation, no globs. */
function shouldSelect(
    pkg: PackageSpec,
    packages: readonly PackageSpec[],
    alwaysRelevant: readonly string[],
    changed: readonly string[],
): boolean {
    const byName = new Map(packages.map((p) => [p.name, p]));
    const reached = new Set<string>([pkg.name]);
    const stack = [pkg.name];
    while (stack.length > 0) {
        for (const dep of byName.get(stack.pop() as string)?.dependsOn ?? []) {
            if (!reached.has(dep)) {
                reached.add(dep);
                stack.push(dep);
            }
        }
    }
    const dirs = [...reached].map((n) => (byName.get(n) as PackageSpec).path);
    return changed.some(
        (file) =>
            dirs.some((dir) => isUnder(file, dir)) ||
            alwaysRelevant.some((a) =>
                a.endsWith("/") ? isUnder(file, a.slice(0, -1)) : file === a || isUnder(file, a),
            ),
    );
}

describe("planMonorepo property", () => {
    it("selects a package exactly when a changed file is under it, a dependency, or an always-relevant path", () => {
        const scenario = packagesArb.chain((packages) =>
            fc.record({
                packages: fc.constant(packages),
                alwaysRelevant: fc.subarray(ALWAYS_RELEVANT_CHOICES),
                changed: changedFilesArb(packages),
            }),
        );
        fc.assert(
            fc.property(scenario, ({ packages, alwaysRelevant, changed }) => {
                const plans = plan(packages, alwaysRelevant);
                assert.equal(plans.length, packages.length);
                for (const p of plans) {
                    const pkg = packages.find((x) => x.name === p.name) as PackageSpec;
                    assert.equal(
                        ifChangedSelects(p.ifChanged, changed),
                        shouldSelect(pkg, packages, alwaysRelevant, changed),
                        `${p.name} at ${p.path} with ${JSON.stringify(p.ifChanged)} for ${JSON.stringify(changed)}`,
                    );
                }
            }),
            { numRuns: 300 },
        );
    });

    it("orders every closure and the plan list so that dependencies come first", () => {
        fc.assert(
            fc.property(packagesArb, (packages) => {
                const plans = plan(packages);
                const position = new Map(plans.map((p, i) => [p.name, i]));
                for (const p of plans) {
                    for (const dep of p.closure)
                        assert.ok((position.get(dep) as number) < (position.get(p.name) as number));
                    const positions = p.closure.map((d) => position.get(d) as number);
                    assert.deepEqual(
                        positions,
                        [...positions].sort((a, b) => a - b),
                    );
                }
                assert.deepEqual(plan([...packages].reverse()), plans, "input order must not matter");
            }),
        );
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Property over the YAML actually generated: the stored steps of a monorepo pipeline, the document its
// "affected packages" step uploads (parsed back from the step's env), and each step's if_changed evaluated with the
// agent's glob semantics, against the string oracle above.

const [BASE_PIPELINE] = resolveIntermediateBuilds([
    pipelineSchema.parse({
        slug: "mono",
        repository: "acme/mono",
        image: { name: "buildkite-test", variant: "py3.12" },
    }),
]);

/** The pipeline config for random packages (built directly: the property explores paths zod would refuse). */
function monorepoPipeline(packages: readonly PackageSpec[], alwaysRebuildPaths: readonly string[]): PipelineConfig {
    return {
        ...BASE_PIPELINE,
        alwaysRebuildPaths: [...alwaysRebuildPaths],
        // Every other package produces a wheel, so the properties hold with producers and users too (issue 18).
        packages: packages.map((p, i) => ({
            name: p.name,
            path: p.path,
            dependsOn: [...p.dependsOn],
            artifacts: i % 2 === 0 ? ["dist/*.whl"] : [],
            copyArtifacts: [],
        })),
    };
}

function generated(pipeline: PipelineConfig) {
    const config = {
        pipelines: [pipeline],
        clusters: [],
        images: [],
        fleets: [],
        secrets: { pipelines: {} },
    } as unknown as PlatformConfig;
    return stepsForPipeline(pipeline, {
        config,
        graph: { nodes: [{ slug: pipeline.slug, cluster: "default", gate: "none" }], edges: [] },
        resolveImage: (ref) => `\${CI_PLATFORM_ECR_REGISTRY}/ci-platform/${ref.name}:${ref.variant}-1`,
    });
}

type UploadedStep = { key: string; if_changed?: IfChanged; commands: string[] };

/** The document the stored step `key` uploads, read back from the stored YAML as an agent would receive it. */
function uploadedFromStored(storedYaml: string, key: string): { stored: Record<string, unknown>; doc: UploadedStep[] } {
    // Buildkite interpolates the stored steps when it creates the build; the agent then receives the env value.
    const stored = parse(interpolateAtBuildCreation(storedYaml, {})) as { steps: Record<string, unknown>[] };
    const step = stored.steps.find((s) => s.key === key);
    assert.ok(step, `no stored step ${key}`);
    const env = step.env as Record<string, string>;
    const doc = parse(env[UPLOAD_ENV_VAR]) as { steps: UploadedStep[] };
    return { stored: step, doc: doc.steps };
}

describe("generated monorepo steps property", () => {
    it("skip exactly the packages a change cannot affect, as the agent evaluates the uploaded if_changed", () => {
        const scenario = packagesArb.chain((packages) =>
            fc.record({
                packages: fc.constant(packages),
                alwaysRebuild: fc.subarray(["Makefile", "ci/scripts/", "foo"]),
                changed: changedFilesArb(packages),
            }),
        );
        fc.assert(
            fc.property(scenario, ({ packages, alwaysRebuild, changed }) => {
                const pipeline = monorepoPipeline(packages, alwaysRebuild);
                const steps = generated(pipeline);
                const { stored, doc } = uploadedFromStored(steps.document, "packages-changed");
                // A user downloads the artifacts of exactly the producers of its closure, each from the build its
                // variable names; then runs its command.
                for (const pkg of pipeline.packages) {
                    const step = doc.find((s) => s.key === `package-${pkg.name}`);
                    const expected = usedProducers(pipeline.packages, pkg).map(
                        (name) =>
                            `buildkite-agent artifact download "${escapeForUpload(`${pipeline.packages.find((p) => p.name === name)?.path ?? ""}/dist/*.whl`)}" . --build "$$${packageBuildVar(name)}"`,
                    );
                    assert.deepEqual(step?.commands.slice(0, -1), expected, pkg.name);
                }
                assert.equal(stored.if, CHANGED_ONLY_IF);
                assert.equal(doc.length, packages.length, "one step per package");
                const relevant = [".buildkite/", ...alwaysRebuild];
                for (const pkg of packages) {
                    const step = doc.find((s) => s.key === `package-${pkg.name}`);
                    assert.ok(step, `no step for ${pkg.name}`);
                    assert.ok(step.if_changed !== undefined);
                    assert.equal(
                        ifChangedSelects(step.if_changed, changed),
                        shouldSelect(pkg, packages, relevant, changed),
                        `${pkg.name} at ${pkg.path} with ${JSON.stringify(step.if_changed)} for ${JSON.stringify(changed)}`,
                    );
                }
                // The uploaded and stored documents are valid, and only the uploaded one holds if_changed.
                const storedDoc = parse(steps.document) as unknown;
                assert.deepEqual([...validatePipelineDocument(storedDoc), ...checkOurRules(storedDoc)], []);
                assert.ok(walkSteps(storedDoc).every((step) => !("if_changed" in step.body)));
                const uploaded = { steps: doc };
                assert.deepEqual([...validatePipelineDocument(uploaded), ...checkOurRules(uploaded)], []);
            }),
            { numRuns: 200 },
        );
    });

    it("no missed rebuild through explicit uses: a change under a used producer reruns its user, or config refuses it", () => {
        // Random explicit `uses` (any other packages, all producers here): either the user's if_changed selects a
        // change under each producer it uses, or the config check refuses that entry (packages[j].uses[k]).
        const scenario = packagesArb.chain((packages) =>
            fc.record({
                packages: fc.constant(packages),
                uses: fc.tuple(
                    ...packages.map((p) =>
                        fc.option(fc.subarray(packages.map((q) => q.name).filter((n) => n !== p.name))),
                    ),
                ),
            }),
        );
        fc.assert(
            fc.property(scenario, ({ packages, uses }) => {
                const base = monorepoPipeline(packages, []);
                const pipeline: PipelineConfig = {
                    ...base,
                    packages: base.packages.map((p, j) => ({
                        ...p,
                        artifacts: ["dist/*.whl"],
                        uses: uses[j] ?? undefined,
                    })),
                };
                const refused = new Set(
                    artifactIssues(pipeline.packages)
                        .filter((i) => i.path[2] === "uses")
                        .map((i) => `${String(i.path[1])}/${String(i.path[3])}`),
                );
                const { doc } = uploadedFromStored(generated(pipeline).document, "packages-changed");
                pipeline.packages.forEach((pkg, j) => {
                    const step = doc.find((s) => s.key === `package-${pkg.name}`);
                    assert.ok(step?.if_changed !== undefined);
                    usedProducers(pipeline.packages, pkg).forEach((name) => {
                        const k = (pkg.uses ?? []).indexOf(name);
                        const producer = pipeline.packages.find((p) => p.name === name);
                        assert.ok(producer);
                        const selects = ifChangedSelects(step.if_changed as IfChanged, [`${producer.path}/changed.py`]);
                        assert.ok(
                            selects || refused.has(`${j}/${k}`),
                            `${pkg.name} uses ${name}: a change under ${producer.path} does not rerun it, and config accepts it`,
                        );
                    });
                });
            }),
            { numRuns: 200 },
        );
    });

    it("run every package, unconditionally, on the default branch and on tags", () => {
        fc.assert(
            fc.property(packagesArb, (packages) => {
                const steps = generated(monorepoPipeline(packages, []));
                const { stored, doc } = uploadedFromStored(steps.document, "packages-all");
                assert.equal(stored.if, EVERYTHING_IF);
                assert.equal(EVERYTHING_IF, "build.branch == pipeline.default_branch || build.tag != null");
                assert.deepEqual(doc.map((s) => s.key).sort(), packages.map((p) => `package-${p.name}`).sort());
                assert.ok(doc.every((s) => s.if_changed === undefined));
            }),
            { numRuns: 50 },
        );
    });

    it("hand the job its command and image unchanged through upload-time interpolation", () => {
        const pipeline = monorepoPipeline([{ name: "core", path: "libs/core", dependsOn: [] }], []);
        const withDollar = { ...pipeline, packageCommand: 'cd {path} && echo "$HOME" && make {name}' };
        const { doc } = uploadedFromStored(generated(withDollar).document, "packages-changed");
        assert.deepEqual(doc[0].commands, ['cd libs/core && echo "$$HOME" && make core']);
        const plugins = (doc[0] as unknown as { plugins: Record<string, { image: string }>[] }).plugins;
        const docker = plugins.find((p) => Object.keys(p)[0].startsWith("docker#"));
        assert.equal(
            docker && Object.values(docker)[0].image,
            "$${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-1",
        );
    });
});
