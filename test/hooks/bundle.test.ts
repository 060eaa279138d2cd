import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hookObjects } from "../../components/agents/hook-objects";
import { hooksKeyPrefix } from "../../components/agents/naming";
import {
    buildHooksBundle,
    bundleKeyPrefix,
    bundleUploadFiles,
    readHookSources,
    renderBootstrapScript,
    sha256Hex,
    type HooksBundleArgs,
} from "../../components/hooks/bundle";
import type { FleetAllowlist } from "../../components/hooks/allowlist";

const hookFiles = readHookSources(path.resolve(__dirname, "../../hooks"));
const args: HooksBundleArgs = { hookFiles };
const allowlist: FleetAllowlist = {
    pipelines: [{ slug: "kolibri", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] }],
};
const fleet = {
    name: "linux-us-east-1",
    queue: "default",
    region: "us-east-1",
    ecrRegistry: "1.dkr.ecr.amazonaws.com",
    agentsPerInstance: 2,
};

describe("buildHooksBundle", () => {
    it("gives the same bytes and hash for the same input, whatever its order", () => {
        const a = buildHooksBundle(args);
        const b = buildHooksBundle({ hookFiles: [...hookFiles].reverse() });
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
        assert.equal(bundle.prefix, `_ci-platform/hooks/${bundle.hash}`);
        assert.deepEqual(
            bundle.objects.map((o) => o.key),
            [...bundle.files.map((f) => `${bundle.prefix}/${f.path}`), `${bundle.prefix}/SHA256SUMS`],
        );
    });

    it("is uploaded by the agents module under the prefix bootstrap.sh is rendered with", () => {
        const bundle = buildHooksBundle(args);
        const uploaded = hookObjects("secrets-us-east-1", bundleUploadFiles(bundle));
        const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
        assert.deepEqual(
            uploaded.map((o) => [o.key, o.content, o.contentType]),
            [...bundle.objects].sort(byKey).map((o) => [o.key, o.content, o.contentType]),
        );
        assert.equal(hooksKeyPrefix(bundle.hash), bundleKeyPrefix(bundle.hash));
        const { content } = renderBootstrapScript({
            hookFiles,
            bucket: "secrets",
            region: "us-east-1",
            bundleHash: bundle.hash,
            fleet,
            allowlist,
        });
        assert.ok(content.includes(`readonly CI_PLATFORM_BUNDLE_PREFIX='${hooksKeyPrefix(bundle.hash)}'\n`));
        for (const o of uploaded) assert.ok(o.key.startsWith(`${hooksKeyPrefix(bundle.hash)}/`), o.key);
        assert.ok(
            uploaded.every((o) => !o.name.includes(bundle.hash)),
            "resource names must not change with the hash",
        );
    });

    it("refuses keys where bundle paths belong, so no prefix is nested in another", () => {
        const bundle = buildHooksBundle(args);
        assert.throws(
            () =>
                hookObjects("secrets-us-east-1", {
                    hash: bundle.hash,
                    files: bundle.objects.map((o) => ({ path: o.key, content: o.content })),
                }),
            /hooks bundle paths must be relative to the bundle root, not keys/,
        );
    });

    it("bundles the hooks, not bootstrap.sh, with hooks executable, and nothing fleet-specific", () => {
        const bundle = buildHooksBundle(args);
        const modes = Object.fromEntries(bundle.files.map((f) => [f.path, f.mode]));
        assert.equal(modes["bootstrap.sh"], undefined);
        assert.equal(modes["pre-bootstrap"], 0o755);
        assert.equal(modes["lib/s3.bash"], 0o644);
        // The allow-list is per fleet, in its bootstrap script: a global list in the bundle admitted every
        // pipeline's repository on every fleet.
        assert.deepEqual(
            bundle.files.map((f) => f.path).filter((p) => !hookFiles.some((h) => h.path === p)),
            [],
        );
    });

    it("holds no image versions, so an image bump does not change the bundle or roll the fleets", () => {
        const bundle = buildHooksBundle(args);
        const paths = bundle.files.map((f) => f.path);
        assert.ok(!paths.includes("versions.json") && !paths.includes("image-versions.env"), paths.join(", "));
        for (const f of bundle.files) assert.doesNotMatch(f.content, /\b20\d\d\.(0[1-9]|1[0-2])\.\d+\b/, f.path);
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
    });

    it("reports every problem at once", () => {
        assert.throws(
            () =>
                buildHooksBundle({
                    hookFiles: [
                        ...hookFiles,
                        { path: "SHA256SUMS", content: "" },
                        { path: "../x", content: "" },
                        { path: "allowed-pipelines", content: "" },
                    ],
                }),
            {
                message: [
                    "cannot build the hooks bundle:",
                    '- hook file "SHA256SUMS" has a name the bundle reserves for a generated file',
                    '- hook file path "../x" must be relative and use only [A-Za-z0-9._-] segments',
                    '- hook file "allowed-pipelines" has a name the bundle reserves for a generated file',
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
            allowlist,
            ...over,
        });

    it("is content-addressed: same input, same key; another bundle, another key", () => {
        const a = render();
        assert.deepEqual(render(), a);
        assert.match(a.key, /^_ci-platform\/bootstrap\/linux-us-east-1-[0-9a-f]{16}\.sh$/);
        assert.equal(a.key, `_ci-platform/bootstrap/linux-us-east-1-${sha256Hex(a.content).slice(0, 16)}.sh`);
        const other = buildHooksBundle({ hookFiles: [...hookFiles, { path: "extra", content: "#!/bin/bash\n" }] });
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

    it("renders the agent's coarse per-owner patterns and the allow-list object's key, never the per-pipeline pairs", () => {
        const two: FleetAllowlist = {
            pipelines: [
                { slug: "dagster", repositoryUrls: ["git@github.com:dagster-io/dagster.git"] },
                { slug: "kolibri", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] },
            ],
        };
        const { content } = render({ allowlist: two });
        assert.match(
            content,
            /^readonly CI_PLATFORM_ALLOWED_REPOSITORIES='\^git@github\[\.\]com:dagster-io\/\[A-Za-z0-9\._-\]\+\$,\^https:\/\/github\[\.\]com\/learningequality\/\[A-Za-z0-9\._-\]\+\$'$/m,
        );
        assert.match(content, /^readonly CI_PLATFORM_ALLOWLIST_KEY='_ci-platform\/allowlist\/[A-Za-z0-9._-]+'$/m);
        assert.doesNotMatch(content, /CI_PLATFORM_ALLOWED_PIPELINES|kolibri\[\.\]git|dagster\[\.\]git/);
        // Another pipeline or repository of a served owner: the same script, the same key.
        const more: FleetAllowlist = {
            pipelines: [
                ...two.pipelines,
                { slug: "kolibri-docs", repositoryUrls: ["https://github.com/learningequality/kolibri-docs.git"] },
            ],
        };
        assert.equal(render({ allowlist: more }).key, render({ allowlist: two }).key);
        // A new owner changes the agent's coarse list, so the script and key.
        const otherOwner: FleetAllowlist = {
            pipelines: [...two.pipelines, { slug: "x", repositoryUrls: ["https://github.com/someone-else/x.git"] }],
        };
        assert.notEqual(render({ allowlist: otherOwner }).key, render({ allowlist: two }).key);
    });

    it("renders a fleet that serves no pipeline as admitting nothing, never as the agent's empty allow-all list", () => {
        const { content } = render({ allowlist: { pipelines: [] } });
        assert.match(content, /^readonly CI_PLATFORM_ALLOWED_REPOSITORIES='\^\.\^\$'$/m);
        assert.match(content, /^readonly CI_PLATFORM_ALLOWLIST_KEY='_ci-platform\/allowlist\/[A-Za-z0-9._-]+'$/m);
    });

    it("refuses allow-list values the agent config or the hook's list cannot carry", () => {
        const bad: FleetAllowlist = {
            pipelines: [
                { slug: "Bad Slug", repositoryUrls: ["https://github.com/a/b.git"] },
                { slug: "ok", repositoryUrls: ["https://github.com/a/b.git,^.*$", 'git@github.com:a/"b'] },
                { slug: "none", repositoryUrls: [] },
            ],
        };
        assert.throws(() => render({ allowlist: bad }), {
            message: [
                "cannot render bootstrap.sh:",
                '- allowlist.pipelines[0].slug "Bad Slug" is not a pipeline slug',
                '- allowlist.pipelines[1].repositoryUrls[0] "https://github.com/a/b.git,^.*$" may only use [A-Za-z0-9@:/._~+-] (no space, comma or quote)',
                '- allowlist.pipelines[1].repositoryUrls[1] "git@github.com:a/"b" may only use [A-Za-z0-9@:/._~+-] (no space, comma or quote)',
                '- allowlist.pipelines[2] "none" has no repository URL',
            ].join("\n"),
        });
    });

    it("refuses a bundle prefix other than the one the bundle is uploaded under", () => {
        assert.equal(render({ bundlePrefix: bundleKeyPrefix(bundle.hash) }).content, render().content);
        assert.throws(() => render({ bundlePrefix: `hooks/${bundle.hash}` }), {
            message: `cannot render bootstrap.sh:\n- bundlePrefix "hooks/${bundle.hash}" is not where the bundle is uploaded, "_ci-platform/hooks/${bundle.hash}"`,
        });
    });

    it("renders the fleet's agents-per-instance, and refuses one below 1", () => {
        assert.match(render().content, /^readonly CI_PLATFORM_AGENTS_PER_INSTANCE='2'$/m);
        assert.throws(() => render({ fleet: { ...fleet, agentsPerInstance: 0 } }), {
            message: "cannot render bootstrap.sh:\n- fleet.agentsPerInstance must be a positive integer, got 0",
        });
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
