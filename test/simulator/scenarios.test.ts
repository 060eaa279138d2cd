import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Push, SimulatedBuild, Simulation, simulate } from "../../components/simulator";
import { uploadedDocument } from "../../components/steps/stored-upload";
import { loadForSimulation } from "../../scripts/simulate/run";
import { parse } from "yaml";
import { simulateInProcess } from "../fixtures/cli";

/*
 * Scenarios on the prod stack, through the simulator, from the YAML the program generates for Pulumi.prod.yaml.
 */

const ROOT = path.resolve(__dirname, "../..");
const loaded = loadForSimulation(path.join(ROOT, "Pulumi.prod.yaml"));
if (Array.isArray(loaded)) throw new Error(`prod config is invalid: ${loaded.join("; ")}`);
const prod = loaded;

const run = (push: Push): Simulation => simulate({ config: prod.config, stored: prod.stored, push });
const buildOf = (sim: Simulation, slug: string): SimulatedBuild => {
    const build = sim.builds.find((b) => b.pipeline === slug);
    assert.ok(build, `no build of ${slug}`);
    return build;
};
const job = (build: SimulatedBuild, key: string) => {
    const j = build.jobs.find((x) => x.key === key);
    assert.ok(j, `no job ${key} in ${build.pipeline}`);
    return j;
};

const INSTALLERS = [
    "kolibri-installer-debian",
    "kolibri-installer-android",
    "kolibri-installer-windows",
    "kolibri-installer-macos",
    "kolibri-raspbian-image",
];

describe("simulator, prod: a tag build of kolibri-python-package", () => {
    const sim = run({ pipeline: "kolibri-python-package", tag: "v0.18.0" });
    const parent = buildOf(sim, "kolibri-python-package");

    it("creates one build per installer, none blocked: the Raspberry Pi image's by the Debian build, the others' by the parent", () => {
        assert.deepEqual(sim.builds.map((b) => b.pipeline).sort(), ["kolibri-python-package", ...INSTALLERS].sort());
        const debian = buildOf(sim, "kolibri-installer-debian");
        for (const slug of INSTALLERS) {
            const b = buildOf(sim, slug);
            assert.equal(b.blocked, false, slug);
            const by = slug === "kolibri-raspbian-image" ? debian.id : parent.id;
            assert.match(b.triggeredBy ?? "", new RegExp(`^${by}/`), slug);
            // The release check holds (the tag exists at the commit, and the triggering build is a source), so it
            // uploads no block step.
            assert.equal(job(b, "release-check").runs, true, slug);
            assert.ok(!b.jobs.some((j) => j.key === "release-gate"), slug);
            assert.ok(
                b.jobs.every((j) => j.runs),
                slug,
            );
        }
        assert.deepEqual(sim.problems, []);
    });

    it("has every installer upload its release artifact to the GitHub release, with the release token", () => {
        for (const slug of INSTALLERS) {
            const b = buildOf(sim, slug);
            const release = job(b, "release-upload");
            assert.equal(release.runs, true, slug);
            assert.ok(release.secrets.includes("GITHUB_RELEASE_TOKEN"), `${slug} release step lacks the token`);
            assert.deepEqual(release.downloadsFrom, [b.id], slug);
            // A POSIX step: never on the Windows-only queue.
            assert.notEqual(release.queue, "windows", slug);
            assert.ok(release.fleets.length > 0, `${slug} release step has no fleet`);
        }
    });

    it("has the Raspberry Pi image download from the Debian build, and the other installers from the parent", () => {
        const debian = buildOf(sim, "kolibri-installer-debian");
        assert.deepEqual(job(buildOf(sim, "kolibri-raspbian-image"), "upload").downloadsFrom, [debian.id]);
        for (const slug of INSTALLERS.filter((s) => s !== "kolibri-raspbian-image"))
            assert.deepEqual(job(buildOf(sim, slug), "upload").downloadsFrom, [parent.id], slug);
        assert.ok(
            sim.builds.indexOf(debian) < sim.builds.indexOf(buildOf(sim, "kolibri-raspbian-image")),
            "the Debian build must exist before the Raspberry Pi build is triggered",
        );
    });

    it("runs the parent's release-artifacts step, downloading into the checkout", () => {
        const release = job(parent, "release-artifacts");
        assert.equal(release.runs, true);
        assert.deepEqual(release.downloadsFrom, [parent.id]);
        // It runs in a container: the PyPI token reaches it only because the docker plugin names it.
        assert.ok(release.image !== null);
        assert.ok(release.secrets.includes("PYPI_TOKEN"), `release-artifacts gets ${release.secrets.join(", ")}`);
    });
});

describe("simulator, prod: branch and pull request builds of kolibri-python-package", () => {
    for (const push of [
        { pipeline: "kolibri-python-package", branch: "develop" },
        { pipeline: "kolibri-python-package", pr: 1234 },
    ]) {
        it(`blocks every gated child (${push.branch ?? `PR ${push.pr}`}), and nothing uploads to a release`, () => {
            const sim = run(push);
            const parent = buildOf(sim, "kolibri-python-package");
            assert.equal(parent.blocked, false);
            assert.equal(job(parent, "release-artifacts").runs, false);
            // The Raspberry Pi image needs the Debian build's .deb: no build of it exists while Debian waits.
            assert.ok(!sim.builds.some((b) => b.pipeline === "kolibri-raspbian-image"));
            assert.equal(job(buildOf(sim, "kolibri-installer-debian"), "chained-triggers").runs, false);
            for (const slug of INSTALLERS.filter((x) => x !== "kolibri-raspbian-image")) {
                const b = buildOf(sim, slug);
                assert.equal(b.blocked, true, slug);
                assert.equal(job(b, "release-check").runs, true, slug);
                assert.equal(job(b, "release-gate").runs, true, slug);
                assert.equal(job(b, "upload").runs, false, slug);
                assert.match(job(b, "upload").reason ?? "", /block step release-gate/);
                assert.equal(job(b, "release-upload").runs, false, slug);
            }
        });
    }
});

describe("simulator, prod: dagster monorepo", () => {
    const packageJobs = (sim: Simulation) =>
        buildOf(sim, "dagster").jobs.filter((j) => j.key.startsWith("package-") && j.key !== "packages-all");

    it("runs the changed package and its dependents only", () => {
        const sim = run({
            pipeline: "dagster",
            branch: "fix-pipes",
            changed: ["python_modules/dagster-pipes/dagster_pipes/__init__.py"],
        });
        const running = packageJobs(sim)
            .filter((j) => j.runs)
            .map((j) => j.key);
        assert.deepEqual(running, [
            "package-dagster-pipes",
            "package-dagster",
            "package-dagster-graphql",
            "package-dagster-webserver",
        ]);
        const shared = packageJobs(sim).find((j) => j.key === "package-dagster-shared");
        assert.equal(shared?.runs, false);
        assert.match(shared?.reason ?? "", /^if_changed/);
        assert.equal(job(buildOf(sim, "dagster"), "packages-all").runs, false);
        // Each package job pulls its pinned image from the registry of the region that runs it: dagster's queue, in
        // its own cluster, is served in eu-west-1 only, by its own fleet.
        const pipes = packageJobs(sim).find((j) => j.key === "package-dagster-pipes");
        assert.match(pipes?.image ?? "", /^\$\{CI_PLATFORM_ECR_REGISTRY\}\/ci-platform\/buildkite-test:py3\.12-/);
        assert.equal(pipes?.queue, "dagster");
        assert.deepEqual(pipes?.fleets, ["dagster-eu-west-1"]);
        assert.deepEqual(pipes?.registries, ["ecr eu-west-1"]);
    });

    it("gets its own deploy key and none of Learning Equality's secrets: its cluster takes no organisation secrets", () => {
        const sim = run({ pipeline: "dagster", branch: "master" });
        const upload = job(buildOf(sim, "dagster"), "packages-all");
        assert.deepEqual(upload.secrets, ["BUILDKITE_READ_BUILDS_TOKEN", "TWINE_PASSWORD", "private_ssh_key"]);
        assert.deepEqual(upload.fleets, ["dagster-eu-west-1"]);
    });

    it("runs no package for a docs-only change", () => {
        const sim = run({ pipeline: "dagster", branch: "docs", changed: ["docs/content/index.mdx", "README.md"] });
        assert.ok(packageJobs(sim).length > 0);
        assert.deepEqual(
            packageJobs(sim).filter((j) => j.runs),
            [],
        );
    });

    it("runs every package on the default branch", () => {
        const sim = run({ pipeline: "dagster", branch: "master" });
        assert.equal(packageJobs(sim).length, 5);
        assert.ok(packageJobs(sim).every((j) => j.runs));
        assert.equal(job(buildOf(sim, "dagster"), "packages-changed").runs, false);
    });
});

describe("simulator, prod: the deploy pipeline", () => {
    it("builds main only: a pull request or another branch creates no build, and says why", () => {
        const pr = run({ pipeline: "ci-platform-deploy", pr: 12, branch: "feature" });
        assert.deepEqual(pr.builds, []);
        assert.match(pr.noBuild ?? "", /buildPullRequests is false/);
        const branch = run({ pipeline: "ci-platform-deploy", branch: "feature" });
        assert.deepEqual(branch.builds, []);
        assert.match(branch.noBuild ?? "", /branch filter "main" does not match feature/);
        const main = run({ pipeline: "ci-platform-deploy", branch: "main" });
        assert.equal(main.noBuild, undefined);
        assert.deepEqual(
            main.builds.map((b) => b.pipeline),
            ["ci-platform-deploy"],
        );
    });

    it("gives the tests pipeline's jobs none of the deploy credentials", () => {
        const sim = run({ pipeline: "ci-platform", pr: 7, branch: "feature" });
        const secrets = sim.builds.flatMap((b) => b.jobs.flatMap((j) => j.secrets));
        for (const name of ["PULUMI_ACCESS_TOKEN", "BUILDKITE_API_TOKEN", "GITHUB_TOKEN"])
            assert.ok(!secrets.includes(name), `${name} reaches a ci-platform job`);
    });
});

describe("simulator, prod: dagster's wheels between packages (issue 18)", () => {
    const jobOf = (sim: Simulation, key: string) => job(buildOf(sim, "dagster"), key);
    const GRAPHQL_CHANGE = ["python_modules/dagster-graphql/dagster_graphql/schema.py"];
    const base = (p: string) => `base:dagster/${p}`;

    it("on a branch, a user of skipped producers downloads their wheels from the base build", () => {
        const sim = run({ pipeline: "dagster", branch: "fix-graphql", changed: GRAPHQL_CHANGE });
        const self = buildOf(sim, "dagster").id;
        assert.equal(jobOf(sim, "package-dagster").runs, false);
        assert.deepEqual(jobOf(sim, "package-dagster-graphql").downloadsFrom, [
            base("dagster-shared"),
            base("dagster-pipes"),
            base("dagster"),
        ]);
        // The webserver's wheels: the skipped producers' from the base build, graphql's from this build.
        assert.deepEqual(jobOf(sim, "package-dagster-webserver").downloadsFrom, [
            base("dagster-shared"),
            base("dagster-pipes"),
            base("dagster"),
            self,
        ]);
        assert.deepEqual(sim.problems, []);
    });

    it("with no base build (a first build), the skipped producers run and their users download from this build", () => {
        const sim = run({ pipeline: "dagster", branch: "fix-graphql", changed: GRAPHQL_CHANGE, baseBuilds: false });
        const self = buildOf(sim, "dagster").id;
        for (const p of ["dagster-shared", "dagster-pipes", "dagster"])
            assert.equal(jobOf(sim, `package-${p}`).runs, true);
        assert.deepEqual(jobOf(sim, "package-dagster-graphql").downloadsFrom, [self]);
        assert.deepEqual(sim.problems, []);
    });

    it("on the default branch every package runs, in dependency order, and downloads from this build", () => {
        const sim = run({ pipeline: "dagster", branch: "master" });
        const self = buildOf(sim, "dagster").id;
        assert.deepEqual(jobOf(sim, "package-dagster-shared").downloadsFrom, []);
        for (const p of ["dagster-pipes", "dagster", "dagster-graphql", "dagster-webserver"])
            assert.deepEqual(jobOf(sim, `package-${p}`).downloadsFrom, [self], p);
    });
});

describe("simulator, prod: dagster's release and its read token (issue 18 review)", () => {
    const jobOf = (sim: Simulation, key: string) => job(buildOf(sim, "dagster"), key);
    const PACKAGE_KEYS = ["dagster-shared", "dagster-pipes", "dagster", "dagster-graphql", "dagster-webserver"].map(
        (p) => `package-${p}`,
    );

    it("a tag publishes once, after every package, and only the publish step's container gets the PyPI token", () => {
        const sim = run({ pipeline: "dagster", tag: "1.11.0" });
        const publish = jobOf(sim, "release-publish");
        assert.equal(publish.runs, true);
        assert.equal(publish.queue, "dagster");
        assert.ok(publish.secrets.includes("TWINE_PASSWORD"));
        assert.deepEqual(publish.downloadsFrom, [buildOf(sim, "dagster").id]);
        for (const key of PACKAGE_KEYS) {
            assert.equal(jobOf(sim, key).runs, true, key);
            assert.ok(!jobOf(sim, key).secrets.includes("TWINE_PASSWORD"), `${key}'s container gets the PyPI token`);
        }
        // Exactly one publish step, for a tag, waiting for every package step (a partial release cannot happen).
        // dagster's cluster signs: its one stored step uploads the document (components/steps/stored-upload.ts).
        const stored = parse(uploadedDocument(prod.stored.dagster) ?? "") as {
            steps: { key?: string; env?: Record<string, string> }[];
        };
        const all = stored.steps.find((st) => st.key === "packages-all");
        const uploaded = parse(all?.env?.CI_PLATFORM_PIPELINE_YAML ?? "") as {
            steps: { key?: string; if?: string; depends_on?: string[] }[];
        };
        const publishes = uploaded.steps.filter((st) => st.key === "release-publish");
        assert.equal(publishes.length, 1);
        assert.equal(publishes[0].if, "build.tag != null");
        assert.deepEqual([...(publishes[0].depends_on ?? [])].sort(), [...PACKAGE_KEYS].sort());
        assert.ok(
            !(uploadedDocument(prod.stored.dagster) ?? "").includes(
                "twine upload --non-interactive -u __token__ {path}",
            ),
        );
    });

    it("a branch or the default branch publishes nothing", () => {
        for (const push of [{ branch: "master" }, { branch: "fix", changed: ["python_modules/dagster/x.py"] }]) {
            const sim = run({ pipeline: "dagster", ...push });
            const publish = buildOf(sim, "dagster").jobs.find((j) => j.key === "release-publish");
            assert.ok(publish === undefined || !publish.runs, JSON.stringify(push));
        }
    });

    it("without the read token in the pipeline's jobs, no base build is found: every skipped producer runs", () => {
        const config = structuredClone(prod.config);
        delete config.secrets.pipelines.dagster?.env?.BUILDKITE_READ_BUILDS_TOKEN;
        const sim = simulate({
            config,
            stored: prod.stored,
            push: { pipeline: "dagster", branch: "fix-graphql", changed: ["python_modules/dagster-graphql/x.py"] },
        });
        const self = buildOf(sim, "dagster").id;
        for (const p of ["dagster-shared", "dagster-pipes", "dagster"])
            assert.equal(job(buildOf(sim, "dagster"), `package-${p}`).runs, true, p);
        assert.deepEqual(job(buildOf(sim, "dagster"), "package-dagster-graphql").downloadsFrom, [self]);
    });

    it("npm run simulate -- --no-base-builds: the skipped producers run", async () => {
        // The command's `main` in this process (its exit code through a process: test/cli.test.ts).
        const args = ["--pipeline", "dagster", "--branch", "fix", "--changed", "python_modules/dagster-graphql/x.py"];
        const [withBase, without] = await Promise.all([
            simulateInProcess(...args),
            simulateInProcess(...args, "--no-base-builds"),
        ]);
        assert.equal(without.code, 0, without.stderr);
        const line = (out: string) => out.split("\n").find((l) => l.includes("package-dagster-shared:")) ?? "";
        assert.match(line(withBase.stdout), /^\s*·/, "skipped when a base build holds its wheel");
        assert.match(line(without.stdout), /^\s*✓/, "runs without one");
    });
});
