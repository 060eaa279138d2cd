import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    buildHooksBundle,
    readHookSources,
    renderBootstrapScript,
    sha256Hex,
    type HooksBundleArgs,
} from "../../components/hooks/bundle";

const hookFiles = readHookSources(path.resolve(__dirname, "../../hooks"));
const args: HooksBundleArgs = {
    hookFiles,
    allowedRepositories: ["learningequality/kolibri", "Dagster-io/dagster"],
    imageVersions: { "buildkite-test:py3.12": "2024.06.1", node: "20.11.1" },
};
const fleet = {
    name: "linux-us-east-1",
    queue: "default",
    region: "us-east-1",
    ecrRegistry: "1.dkr.ecr.amazonaws.com",
};

describe("buildHooksBundle", () => {
    it("gives the same bytes and hash for the same input, whatever its order", () => {
        const a = buildHooksBundle(args);
        const b = buildHooksBundle({
            hookFiles: [...hookFiles].reverse(),
            allowedRepositories: [...args.allowedRepositories].reverse(),
            imageVersions: { node: "20.11.1", "buildkite-test:py3.12": "2024.06.1" },
        });
        assert.deepEqual(b, a);
    });

    it("writes one manifest line per file, `<sha256>  <path>`, sorted, and hashes the manifest", () => {
        const bundle = buildHooksBundle(args);
        const lines = bundle.manifest.split("\n");
        assert.equal(lines.pop(), "", "the manifest ends with a newline");
        assert.deepEqual(
            lines,
            bundle.files.map((f) => `${sha256Hex(f.content)}  ${f.path}`),
        );
        assert.deepEqual(
            lines.map((l) => l.slice(66)),
            [...lines.map((l) => l.slice(66))].sort(),
        );
        assert.equal(bundle.hash, sha256Hex(bundle.manifest));
        assert.equal(bundle.prefix, `hooks/${bundle.hash}/`);
        assert.deepEqual(
            bundle.objects.map((o) => o.key),
            [...bundle.files.map((f) => `${bundle.prefix}${f.path}`), `${bundle.prefix}SHA256SUMS`],
        );
    });

    it("bundles the hooks and generated files, not bootstrap.sh, with hooks executable", () => {
        const bundle = buildHooksBundle(args);
        const modes = Object.fromEntries(bundle.files.map((f) => [f.path, f.mode]));
        assert.equal(modes["bootstrap.sh"], undefined);
        assert.equal(modes["pre-bootstrap"], 0o755);
        assert.equal(modes["lib/s3.bash"], 0o644);
        const text = (p: string) => bundle.files.find((f) => f.path === p)?.content;
        assert.equal(text("allowed-repositories.txt"), "dagster-io/dagster\nlearningequality/kolibri\n");
        assert.equal(
            text("image-versions.env"),
            "CI_IMAGE_VERSION_BUILDKITE_TEST_PY3_12=2024.06.1\nCI_IMAGE_VERSION_NODE=20.11.1\n",
        );
        assert.equal(text("versions.json"), '{\n  "buildkite-test:py3.12": "2024.06.1",\n  "node": "20.11.1"\n}\n');
    });

    it("changes its hash when any file changes", () => {
        const base = buildHooksBundle(args).hash;
        const sources = hookFiles.filter((f) => f.path !== "bootstrap.sh");
        fc.assert(
            fc.property(fc.nat({ max: sources.length - 1 }), fc.string({ minLength: 1 }), (i, extra) => {
                const changed = hookFiles.map((f) => (f === sources[i] ? { ...f, content: f.content + extra } : f));
                assert.notEqual(buildHooksBundle({ ...args, hookFiles: changed }).hash, base);
            }),
        );
        assert.notEqual(buildHooksBundle({ ...args, allowedRepositories: ["a/b"] }).hash, base);
        assert.notEqual(buildHooksBundle({ ...args, imageVersions: { node: "20.11.2" } }).hash, base);
    });

    it("reports every problem at once", () => {
        assert.throws(
            () =>
                buildHooksBundle({
                    hookFiles: [...hookFiles, { path: "SHA256SUMS", content: "" }, { path: "../x", content: "" }],
                    allowedRepositories: ["not a repo"],
                    imageVersions: { "a-b": "1", a_b: "2", c: "1 2" },
                }),
            {
                message: [
                    "cannot build the hooks bundle:",
                    '- hook file "SHA256SUMS" has a name the bundle reserves for a generated file',
                    '- hook file path "../x" must be relative and use only [A-Za-z0-9._-] segments',
                    '- allowedRepositories[0] "not a repo" is not of the form owner/name',
                    '- imageVersions keys "a-b" and "a_b" both map to CI_IMAGE_VERSION_A_B',
                    '- imageVersions["c"] "1 2" may only use [A-Za-z0-9._:@+/-]',
                ].join("\n"),
            },
        );
    });
});

describe("renderBootstrapScript", () => {
    const bundle = buildHooksBundle(args);
    const render = (over: Partial<Parameters<typeof renderBootstrapScript>[0]> = {}) =>
        renderBootstrapScript({
            hookFiles,
            bucket: "secrets",
            region: "us-east-1",
            bundleHash: bundle.hash,
            fleet,
            ...over,
        });

    it("is content-addressed: same input, same key; another bundle, another key", () => {
        const a = render();
        assert.deepEqual(render(), a);
        assert.match(a.key, /^bootstrap\/linux-us-east-1-[0-9a-f]{16}\.sh$/);
        assert.equal(a.key, `bootstrap/linux-us-east-1-${sha256Hex(a.content).slice(0, 16)}.sh`);
        const other = buildHooksBundle({ ...args, allowedRepositories: ["a/b"] });
        assert.notEqual(render({ bundleHash: other.hash }).key, a.key);
    });

    it("inlines the libs it sources and keeps no source line", () => {
        const { content } = render();
        assert.ok(!content.includes('. "$_ci_lib/'));
        for (const lib of ["lib/log.bash", "lib/s3.bash", "lib/checksum.bash"]) {
            assert.ok(content.includes(`# --- inlined ${lib} ---\n`), lib);
        }
        assert.ok(content.includes(`readonly CI_PLATFORM_BUNDLE_HASH='${bundle.hash}'\n`));
    });

    it("quotes values so bash reads them back verbatim", () => {
        const odd = 'reg\'istry $(touch /tmp/pwned) `x` "q"';
        const { content } = render({ fleet: { ...fleet, ecrRegistry: odd } });
        const block = /# >>> ci-platform:settings[^\n]*\n([\s\S]*?)# <<< ci-platform:settings/.exec(content)?.[1];
        assert.ok(block);
        const result = spawnSync("bash", ["-c", `${block}\nprintf '%s' "$CI_PLATFORM_ECR_REGISTRY"`], {
            encoding: "utf8",
        });
        assert.equal(result.stdout, odd);
    });

    it("rejects values that would break the script or the settings file", () => {
        assert.throws(() => render({ bundleHash: "abc", fleet: { ...fleet, queue: "a\nb", name: "x/y" } }), {
            message: [
                "cannot render bootstrap.sh:",
                '- bundleHash "abc" is not a lowercase hex SHA-256',
                '- fleet.name "x/y" may only use [A-Za-z0-9._-]',
                "- CI_PLATFORM_QUEUE must be one non-empty line",
            ].join("\n"),
        });
    });
});
