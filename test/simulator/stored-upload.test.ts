import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Push, simulate } from "../../components/simulator";
import { generateSteps } from "../../components/steps";
import { STORED_UPLOAD_KEY } from "../../components/steps/stored-upload";
import { prodConfig } from "../fixtures/config";

/*
 * The simulator runs a signing pipeline's one stored step as the agent does (components/steps/stored-upload.ts):
 * decodes the document, interpolates it and inserts its steps after the upload step. Every build then runs what it
 * ran when the document itself was stored, after that one job.
 */

const config = prodConfig();
const bySlug = generateSteps(config, () => "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/image:variant-1").bySlug;
const stored = Object.fromEntries(Object.entries(bySlug).map(([slug, s]) => [slug, s.stored]));
const documents = Object.fromEntries(Object.entries(bySlug).map(([slug, s]) => [slug, s.document]));

const PUSHES: Push[] = [
    { pipeline: "kolibri-python-package", tag: "v0.18.0" },
    { pipeline: "kolibri-python-package", branch: "develop" },
    { pipeline: "dagster", branch: "master" },
    { pipeline: "dagster", tag: "1.9.0" },
    { pipeline: "dagster", branch: "fix", changed: ["python_modules/dagster/x.py"] },
    { pipeline: "ci-platform", branch: "main" },
];

describe("simulator: a signing pipeline's one stored upload step", () => {
    for (const push of PUSHES)
        it(`${push.pipeline} ${push.tag ?? push.branch}: the document's jobs, after the upload job of each build`, () => {
            const wrapped = simulate({ config, stored, push });
            const plain = simulate({ config, stored: documents, push });
            assert.deepEqual(wrapped.problems, plain.problems);
            assert.equal(wrapped.builds.length, plain.builds.length);
            assert.ok(wrapped.builds.length > 0);
            wrapped.builds.forEach((build, i) => {
                const [first, ...rest] = build.jobs;
                assert.equal(first.key, STORED_UPLOAD_KEY);
                assert.equal(first.runs, true);
                assert.ok(first.fleets.length > 0, `${build.pipeline}: a fleet runs its upload step`);
                assert.deepEqual({ ...build, jobs: rest }, plain.builds[i], build.pipeline);
            });
        });

    it("shows the checkout the fleets' environment hook gives: none for the upload step, fresh for release steps, on our Linux fleets only", () => {
        const result = simulate({ config, stored, push: { pipeline: "kolibri-python-package", tag: "v0.18.0" } });
        const jobs = result.builds.flatMap((b) => b.jobs);
        const onLinuxAws = (fleets: readonly string[]) =>
            fleets.every((name) => config.fleets.some((f) => f.name === name && f.kind === "aws" && f.os === "linux"));
        const uploads = jobs.filter((j) => j.key === STORED_UPLOAD_KEY);
        assert.ok(uploads.some((j) => onLinuxAws(j.fleets)) && uploads.some((j) => !onLinuxAws(j.fleets)));
        for (const job of uploads)
            if (onLinuxAws(job.fleets)) assert.match(job.checkout ?? "", /^none \(stored upload step/);
            else assert.match(job.checkout ?? "", /^https https:\/\/github\.com\/[^ ]+\.git$/, job.fleets.join());
        const releases = jobs.filter((j) => j.key === "release-check" && onLinuxAws(j.fleets));
        assert.ok(releases.length > 0);
        for (const job of releases) assert.match(job.checkout ?? "", /\(fresh, in the job's own directory\)$/);
    });
});
