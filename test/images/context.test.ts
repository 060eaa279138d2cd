import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { contextDigestModel, ignoresWholeContext, isIgnored, parseIgnoreFile } from "../../components/images/context";
import { readBuildContext } from "../../components/images/files";

const ROOT = path.resolve(__dirname, "../..");
const IMAGES = ["buildkite-test", "deb-builder"];

/** A copy of the repository's `agent-images/<image>/` directory in a fresh temporary root. */
function copyOfContext(image: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ci-platform-context-"));
    fs.cpSync(path.join(ROOT, "agent-images", image), path.join(root, "agent-images", image), { recursive: true });
    return root;
}

function digestOf(root: string, image: string): string {
    const ctx = readBuildContext(root, image);
    return contextDigestModel(ctx.dockerfile, ctx.files, ctx.ignoreText);
}

describe(".dockerignore patterns", () => {
    it("parses comments, blanks, leading slashes and exceptions", () => {
        assert.deepEqual(parseIgnoreFile("# c\n\n/*\r\n!/keep/\n"), ["*", "!keep"]);
    });

    it("matches a path through its parent directories, the last matching pattern deciding", () => {
        assert.ok(isIgnored(["*"], "Dockerfile"));
        assert.ok(isIgnored(["*"], "sub/dir/file"));
        assert.ok(isIgnored(["**/*.swp"], "a/b/.x.swp"));
        assert.ok(!isIgnored(["*", "!keep"], "keep/file"));
        assert.ok(!isIgnored(["*.md"], "Dockerfile"));
    });

    it("knows when a context is ignored whole", () => {
        assert.ok(ignoresWholeContext(["*"]));
        assert.ok(ignoresWholeContext(["!x", "**"]));
        assert.ok(!ignoresWholeContext(["*", "!scripts"]));
        assert.ok(!ignoresWholeContext(["*.md"]));
        assert.ok(!ignoresWholeContext([]));
    });
});

describe("the docker provider's context digest for our images", () => {
    for (const image of IMAGES) {
        describe(image, () => {
            it("does not change when the Dockerfile's mode changes (another umask on the machine running up)", () => {
                const root = copyOfContext(image);
                const file = path.join(root, "agent-images", image, "Dockerfile");
                fs.chmodSync(file, 0o644);
                const before = digestOf(root, image);
                fs.chmodSync(file, 0o664);
                assert.equal(digestOf(root, image), before);
                fs.chmodSync(file, 0o755);
                assert.equal(digestOf(root, image), before);
            });

            it("does not change when an unrelated file appears in the directory", () => {
                const root = copyOfContext(image);
                const before = digestOf(root, image);
                fs.writeFileSync(path.join(root, "agent-images", image, ".Dockerfile.swp"), "x");
                fs.mkdirSync(path.join(root, "agent-images", image, "notes"));
                fs.writeFileSync(path.join(root, "agent-images", image, "notes", "todo.md"), "y");
                assert.equal(digestOf(root, image), before);
            });

            it("changes when the Dockerfile's content changes: that, a new version, is what rebuilds", () => {
                const root = copyOfContext(image);
                const before = digestOf(root, image);
                fs.appendFileSync(path.join(root, "agent-images", image, "Dockerfile"), "\n# edited\n");
                assert.notEqual(digestOf(root, image), before);
            });

            it("would change with the mode if the .dockerignore were gone (the failure it prevents)", () => {
                const root = copyOfContext(image);
                fs.rmSync(path.join(root, "agent-images", image, ".dockerignore"));
                const file = path.join(root, "agent-images", image, "Dockerfile");
                fs.chmodSync(file, 0o644);
                const before = digestOf(root, image);
                fs.chmodSync(file, 0o664);
                assert.notEqual(digestOf(root, image), before);
            });
        });
    }
});
