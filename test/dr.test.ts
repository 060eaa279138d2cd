import assert from "node:assert/strict";
import { parseVersionsText } from "../components/images/versions";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { urnGlobMatches } from "../scripts/dr/urn-glob";
import { drInProcess, ROOT } from "./fixtures/cli";

/**
 * `npm run dr` with `args`, run in this process (its `main`, with the prod plan shared by the process's tests), once
 * per distinct command line in this file (the script reads the repository's files only, so the same arguments print
 * the same): the tests share the runs and each asserts its part. The command itself (exit code, output through a
 * pipe) is spawned in test/cli.test.ts and test/plan/piped-output.test.ts.
 */
const runs = new Map<string, ReturnType<typeof drInProcess>>();
const dr = (...args: string[]) => {
    const key = JSON.stringify(args);
    let run = runs.get(key);
    if (run === undefined) runs.set(key, (run = drInProcess(...args)));
    return run;
};

/** The values of `flag` in a command line (single-quoted, as dr prints them). */
const values = (line: string, flag: string) =>
    [...line.matchAll(new RegExp(`${flag} '([^']+)'`, "g"))].map((m) => m[1]);

describe("npm run dr", () => {
    it("prints the commands that rebuild one fleet: its stack and token replaced, its region's bucket kept", async () => {
        const out = await dr("--fleet", "linux-ap-southeast-1");
        assert.equal(out.code, 0, out.stderr);
        const stack =
            "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:cloudformation/stack:Stack::linux-ap-southeast-1-stack";
        assert.match(out.stdout, /Recovery of fleet linux-ap-southeast-1 in stack prod/);
        const up = out.stdout.split("\n").find((l) => l.includes("pulumi up --stack 'prod'"));
        assert.ok(up, "a pulumi up command");
        const replaces = values(up, "--replace");
        assert.ok(
            replaces.some((p) => urnGlobMatches(p, stack)),
            "the fleet's stack is replaced",
        );
        for (const kept of [
            "urn:pulumi:prod::ci-platform::ci-platform:agents:SecretsBucket$aws:s3/bucket:Bucket::secrets-ap-southeast-1-bucket",
            "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:s3/bucketObjectv2:BucketObjectv2::linux-ap-southeast-1-bootstrap",
        ])
            assert.ok(!replaces.some((p) => urnGlobMatches(p, kept)), kept);
        assert.doesNotMatch(out.stdout, /linux-us-east-1-stack/, "no other fleet is touched");
    });

    it("lists a region's repositories as retained, its secrets buckets and keys as restored from config", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const retained = out.stdout.split("Recreated from config")[0];
        // Images are pushed to every fleet region: the region's repositories are state.
        assert.match(
            retained,
            /\n {2}Repository \(2\): buildkite-test-eu-west-1-repository, deb-builder-eu-west-1-repository\n/,
        );
        assert.doesNotMatch(retained, /secrets-eu-west-1-bucket|Key/, "the secrets bucket is regenerated");
        const restored = out.stdout.split("Restored from config")[1].split("Image pushes")[0];
        assert.match(restored, /\n {2}Bucket \(2\): secrets-dagster-eu-west-1-bucket, secrets-eu-west-1-bucket\n/);
        assert.match(restored, /\n {2}Key \(4\): [^\n]*secrets-dagster-eu-west-1-key/);
        assert.match(restored, /\n {2}docker \(1\): docker-eu-west-1\n/);
    });

    it("says that pulumi up stops at the protected repositories when removing a region, which go with their images", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const removal = out.stdout.split("Remove the region for good")[1];
        assert.ok(removal, "a removal section");
        assert.match(
            removal,
            /`pulumi up` stops at a protected resource it would delete until `pulumi state unprotect`/,
        );
        // One command, literal URNs: `pulumi state unprotect` takes several, and no patterns.
        const unprotect = removal.split("\n").find((l) => l.trim().startsWith("pulumi state unprotect")) ?? "";
        assert.match(unprotect, /^ {2}pulumi state unprotect --stack 'prod' --yes '/);
        assert.deepEqual(
            unprotect
                .split("--yes ")[1]
                .split(" ")
                .map((u) => u.split("::").pop()?.replace(/'$/, "")),
            ["buildkite-test-eu-west-1-repository", "deb-builder-eu-west-1-repository"],
        );
        assert.doesNotMatch(unprotect, /\*/);
        assert.doesNotMatch(removal, /unprotect[^\n]*secrets-eu-west-1/, "nothing of the secrets bucket is protected");
        // Deleted with their images (ecr-repositories-whole): a re-add creates empty ones, never adopts them.
        assert.match(removal, /The image repositories go with their images \(forceDelete\)/);
        assert.doesNotMatch(removal, /ci-platform:adopt/);
        assert.match(removal, /npm run dr -- --region eu-west-1 --lost --to <healthy region>/);
    });

    it("prints no empty section", async () => {
        for (const args of [
            ["--fleet", "linux-us-east-1"],
            ["--region", "eu-west-1"],
            ["--region", "eu-west-1", "--lost"],
            ["--fleet", "macos-office"],
        ]) {
            const out = await dr(...args);
            assert.equal(out.code, 0, out.stderr);
            assert.doesNotMatch(out.stdout, /\(0\):/, args.join(" "));
            const lines = out.stdout.split("\n");
            lines.forEach((line, i) => {
                if (line.endsWith(":") && !line.startsWith(" "))
                    assert.ok(
                        (lines[i + 1] ?? "").trim() !== "",
                        `${args.join(" ")}: "${line}" is followed by nothing`,
                    );
            });
        }
        const fleet = await dr("--fleet", "linux-us-east-1");
        assert.doesNotMatch(fleet.stdout, /Retained/, "a fleet retains nothing: no heading");
        const onPremises = await dr("--fleet", "macos-office");
        assert.doesNotMatch(onPremises.stdout, /region/, "an on-premises fleet has no region to speak of");
    });

    it("lists image pushes apart: not restored if missing, with the check and the --replace to push again", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const restored = out.stdout.split("Restored from config")[1].split("Image pushes")[0];
        assert.doesNotMatch(restored, /\n {2}Image \(/, "a push is never restored by pulumi up");
        const pushes = out.stdout
            .split(/Image pushes \(\d+\): NOT restored if missing/)[1]
            ?.split("Rebuild in place")[0];
        assert.ok(pushes, "an image pushes section");
        const urn =
            "urn:pulumi:prod::ci-platform::ci-platform:images:Image$docker:index/image:Image::buildkite-test-eu-west-1-py3.12";
        const version = (parseVersionsText(readFileSync(path.join(ROOT, "agent-images/versions.json"), "utf8")).value ??
            {})["buildkite-test"];
        assert.ok(
            pushes.includes(
                `check: aws ecr describe-images --region eu-west-1 --repository-name ci-platform/buildkite-test --image-ids imageTag='py3.12-${version}'`,
            ),
        );
        const push = pushes.split("\n").find((l) => l.includes("push:") && l.includes("eu-west-1-py3.12")) ?? "";
        assert.match(push, /^ {4}push: {2}pulumi up --stack 'prod' --target-replace '[^']+'$/);
        assert.ok(urnGlobMatches(values(push, "--target-replace")[0], urn));
        assert.ok(!urnGlobMatches(values(push, "--target-replace")[0], urn.replace("py3.12", "py3.13")));
    });

    it("evacuates a lost region: new fleet names, unprotect, export, filter, import, then up; no healthy resource dropped", async () => {
        const out = await dr("--region", "eu-west-1", "--lost", "--to", "eu-central-1");
        assert.equal(out.code, 0, out.stderr);
        const steps = out.stdout
            .split("\n")
            .map((l) => /^\s+\d+\. (.*)$/.exec(l)?.[1])
            .filter((l): l is string => l !== undefined);
        const index = (re: RegExp) => steps.findIndex((l) => re.test(l));
        const lastIndex = (re: RegExp) => steps.map((l) => re.test(l)).lastIndexOf(true);
        assert.ok(!steps.some((l) => l.startsWith("pulumi state delete")), "no state delete: it drops dependents");
        // The filter is given the region's providers, and derives the lost set from the state.
        const jq = steps.find((l) => l.startsWith("jq "));
        assert.ok(jq, "a jq filter step");
        const providers = JSON.parse(/--argjson providers '([^']*)'/.exec(jq)?.[1] ?? "null") as unknown;
        assert.deepEqual(providers, [
            "urn:pulumi:prod::ci-platform::ci-platform:providers:Providers$pulumi:providers:aws::ci-platform-aws-eu-west-1",
            "urn:pulumi:prod::ci-platform::ci-platform:providers:Providers$pulumi:providers:docker::docker-eu-west-1",
        ]);
        assert.match(jq, / 'before\.json' > 'after\.json'$/);
        // The healthy resources that referred to the region are named as kept, the dagster pipeline among them.
        const kept = out.stdout.split("these healthy ones stay")[1]?.split("jq stops")[0] ?? "";
        assert.match(kept, /\n {7}Pipeline dagster-pipeline\n/);
        // Order: the new names first, unprotect before the export, export, filter, import, then the diff and up.
        assert.match(steps[1], /replace fleets dagster-eu-west-1, linux-eu-west-1 with fleets of new names/);
        assert.match(steps[1], /linux-eu-west-1 -> linux-eu-central-1/);
        assert.match(
            steps.find((l) => l.startsWith("pulumi state unprotect")) ?? "",
            /^pulumi state unprotect --stack 'prod' --yes '[^']*:Repository::buildkite-test-eu-west-1-repository' '[^']*:Repository::deb-builder-eu-west-1-repository'$/,
        );
        assert.ok(
            lastIndex(/^pulumi state unprotect /) < index(/^pulumi stack export --stack 'prod' --file before\.json/),
        );
        assert.equal(index(/^jq /), index(/^pulumi stack export /) + 1);
        assert.equal(index(/^pulumi stack import --stack 'prod' --file after\.json$/), index(/^jq /) + 1);
        assert.match(steps.at(-2) ?? "", /^npm run plan -- --diff base\.json/);
        assert.match(steps.at(-1) ?? "", /^pulumi up --stack 'prod'/);
    });

    it("warns that losing the home region means moving ci-platform:homeRegion too, and no other region", async () => {
        const home = await dr("--region", "us-east-1", "--lost");
        assert.equal(home.code, 0, home.stderr);
        assert.match(home.stdout, /WARNING: us-east-1 is ci-platform:homeRegion: set it to a healthy region/);
        const other = await dr("--region", "eu-west-1", "--lost");
        assert.doesNotMatch(other.stdout, /WARNING/);
    });

    it("refuses --lost without --region, and --to a region that is not a healthy AWS region", async () => {
        const misplaced = await dr("--fleet", "linux-us-east-1", "--lost");
        assert.equal(misplaced.code, 2, "bad usage exits 2 (scripts/cli.ts)");
        assert.match(misplaced.stderr, /--lost and --to go with --region REGION/);
        const same = await dr("--region", "eu-west-1", "--lost", "--to", "eu-west-1");
        assert.equal(same.code, 2);
        assert.match(same.stderr, /--to must be a healthy AWS region other than eu-west-1/);
        const typo = await dr("--region", "eu-west-1", "--lost", "--to", "eu-centrl-1");
        assert.match(typo.stderr, /did you mean "eu-central-1"/);
    });

    it("names the nearest region when given one without fleets", async () => {
        const out = await dr("--region", "eu-west-2");
        assert.equal(out.code, 2);
        assert.match(out.stderr, /no AWS fleet runs in region "eu-west-2"; did you mean "eu-west-1"\?/);
    });

    it("is short: counts and short names per section, patterns rather than URN walls; every URN with --verbose", async () => {
        const [out, verbose] = await Promise.all([
            dr("--region", "eu-west-1"),
            dr("--region", "eu-west-1", "--verbose"),
        ]);
        assert.equal(out.code, 0, out.stderr);
        // The runbook printed 41,778 bytes before: a list of full URNs per section and per command.
        assert.ok(Buffer.byteLength(out.stdout) < 8000, `${Buffer.byteLength(out.stdout)} bytes`);
        const commands = out.stdout.split("\n").filter((l) => /\bpulumi (up|refresh)\b/.test(l));
        const patterns = commands.flatMap((l) => [
            ...values(l, "--target"),
            ...values(l, "--replace"),
            ...values(l, "--target-replace"),
        ]);
        assert.ok(patterns.length > 0);
        for (const p of patterns) assert.match(p, /\*/, `${p} is a pattern, not a full URN`);
        const up = commands.find((l) => l.includes("2. pulumi up")) ?? "";
        assert.ok(values(up, "--target").length + values(up, "--replace").length <= 8, up);
        // Outside commands, no URN at all.
        const prose = out.stdout.split("\n").filter((l) => !/\b(pulumi|aws) /.test(l));
        assert.ok(!prose.some((l) => l.includes("urn:pulumi:")), "no URN outside commands");
        const total = Number(/; (\d+) resources \(every URN: --verbose\)/.exec(out.stdout)?.[1]);
        assert.ok(total > 50, `the region's resources are counted: ${total}`);
        // --verbose lists each section's URNs in full, as many as the scope holds.
        assert.equal(verbose.code, 0, verbose.stderr);
        const listed = verbose.stdout.split("\n").filter((l) => /^ {2}urn:pulumi:prod::/.test(l));
        assert.equal(listed.length, total, "--verbose lists as many URNs as the count says");
        assert.ok(
            verbose.stdout.includes(
                "  urn:pulumi:prod::ci-platform::ci-platform:providers:Providers$pulumi:providers:docker::docker-eu-west-1\n",
            ),
        );
    });

    it("spells out the lost region: what cannot be refreshed, why no state delete, unprotect before the filter", async () => {
        const out = await dr("--region", "eu-west-1", "--lost", "--to", "eu-central-1");
        assert.equal(out.code, 0, out.stderr);
        assert.match(
            out.stdout,
            /Cannot be refreshed or targeted: the \d+ resources of its providers \(ci-platform-aws-eu-west-1, docker-eu-west-1\)/,
        );
        assert.match(out.stdout, /Run no `pulumi refresh`, and no `pulumi up` until `pulumi stack import`/);
        assert.match(out.stdout, /Not `pulumi state delete`: it refuses a resource others depend on/);
        assert.match(out.stdout, /As `pulumi up` stops at a protected resource it would delete/);
        assert.match(out.stdout, /\n {7}Pipeline dagster-pipeline\n/, "kept resources by short type and name");
        assert.ok(Buffer.byteLength(out.stdout) < 8000, `${Buffer.byteLength(out.stdout)} bytes`);
    });
});
