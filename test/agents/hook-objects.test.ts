import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hookObjects, HooksBundleFiles } from "../../components/agents/hook-objects";

/*
 * components/agents/hook-objects.ts: the objects a SecretsBucket uploads for the hooks bundle. test/hooks/bundle.test.ts
 * checks them against a real bundle; this file pins the function's own promises.
 */

const HASH = "ab".repeat(32);
const bundle = (...paths: string[]): HooksBundleFiles => ({
    hash: HASH,
    files: paths.map((path) => ({ path, content: `# ${path}\n` })),
});

describe("hookObjects", () => {
    it("keys each file under the bundle's content-addressed prefix, sorted by path", () => {
        const objects = hookObjects("secrets-us-east-1", bundle("pre-command", "SHA256SUMS", "lib/common.bash"));
        assert.deepEqual(
            objects.map((o) => o.key),
            [
                `_ci-platform/hooks/${HASH}/SHA256SUMS`,
                `_ci-platform/hooks/${HASH}/lib/common.bash`,
                `_ci-platform/hooks/${HASH}/pre-command`,
            ],
        );
        assert.deepEqual(
            objects.map((o) => o.content),
            ["# SHA256SUMS\n", "# lib/common.bash\n", "# pre-command\n"],
        );
    });

    it("names each object after its component and path, never the hash, so a hook change renames nothing", () => {
        const before = hookObjects("secrets-eu-west-1", bundle("pre-command", "environment"));
        const after = hookObjects("secrets-eu-west-1", {
            ...bundle("pre-command", "environment"),
            hash: "cd".repeat(32),
        });
        assert.deepEqual(
            before.map((o) => o.name),
            ["secrets-eu-west-1-hook-environment", "secrets-eu-west-1-hook-pre-command"],
        );
        assert.deepEqual(
            after.map((o) => o.name),
            before.map((o) => o.name),
        );
        assert.notDeepEqual(
            after.map((o) => o.key),
            before.map((o) => o.key),
        );
    });

    it("stores a shell script unless the file names its own MIME type", () => {
        const [manifest, hook] = hookObjects("b", {
            hash: HASH,
            files: [
                { path: "pre-command", content: "#!/bin/bash\n" },
                { path: "SHA256SUMS", content: "", contentType: "text/plain" },
            ],
        });
        assert.equal(manifest.contentType, "text/plain");
        assert.equal(hook.contentType, "text/x-shellscript");
    });

    it("refuses empty paths, absolute paths and keys, naming every one, so no prefix nests in another", () => {
        assert.throws(() => hookObjects("b", bundle("pre-command", "", "/etc/x", "_ci-platform/hooks/x/pre-exit")), {
            message:
                'hooks bundle paths must be relative to the bundle root, not keys: "", "/etc/x", "_ci-platform/hooks/x/pre-exit"',
        });
        // Only a leading `_ci-platform/` is a key.
        assert.equal(
            hookObjects("b", bundle("lib/_ci-platform/x"))[0].key,
            `_ci-platform/hooks/${HASH}/lib/_ci-platform/x`,
        );
    });

    it("leaves the bundle's file list as it was", () => {
        const files = bundle("z", "a");
        hookObjects("b", files);
        assert.deepEqual(
            files.files.map((f) => f.path),
            ["z", "a"],
        );
    });
});
