import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { readBuildContext, readImageFiles } from "../../components/images/files";

/*
 * components/images/files.ts: the images module's only file reading, from a repository root (here, temporary ones).
 */

const roots: string[] = [];
/** A fresh root holding `files` (path → text), removed after the file's tests. */
function rootWith(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ci-platform-image-files-"));
    roots.push(root);
    for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), text);
    }
    return root;
}
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

describe("readImageFiles", () => {
    it("reads the pins, an image's Dockerfile and its .dockerignore from agent-images/", () => {
        const files = readImageFiles(
            rootWith({
                "agent-images/versions.json": '{"app":"2026.11.1"}\n',
                "agent-images/app/Dockerfile": "FROM scratch\n",
                "agent-images/app/.dockerignore": "*\n",
            }),
        );
        assert.equal(files.versionsJson, '{"app":"2026.11.1"}\n');
        assert.equal(files.dockerfile("app"), "FROM scratch\n");
        assert.equal(files.dockerignore("app"), "*\n");
    });

    it("reads a missing file as undefined, even below a path that is a file", () => {
        const files = readImageFiles(rootWith({ "agent-images/app/Dockerfile": "FROM scratch\n" }));
        assert.equal(files.versionsJson, undefined);
        assert.equal(files.dockerfile("other"), undefined);
        assert.equal(files.dockerignore("app"), undefined);
        // ENOTDIR: agent-images/app/Dockerfile is a file, not a build context.
        assert.equal(files.dockerfile("app/Dockerfile"), undefined);
    });

    it("reads each Dockerfile when asked, not when the files are read", () => {
        const root = rootWith({});
        const files = readImageFiles(root);
        fs.mkdirSync(path.join(root, "agent-images/late"), { recursive: true });
        fs.writeFileSync(path.join(root, "agent-images/late/Dockerfile"), "FROM late\n");
        assert.equal(files.dockerfile("late"), "FROM late\n");
    });

    it("throws any other read error rather than taking it for a missing file", () => {
        const root = rootWith({});
        fs.mkdirSync(path.join(root, "agent-images/dir/Dockerfile"), { recursive: true });
        assert.throws(() => readImageFiles(root).dockerfile("dir"), { code: "EISDIR" });
    });
});

describe("readBuildContext", () => {
    it("lists every regular file of the context by its path there, with mode and bytes", () => {
        const root = rootWith({
            "agent-images/app/Dockerfile": "FROM scratch\nCOPY . /\n",
            "agent-images/app/scripts/install.sh": "#!/bin/sh\n",
            "agent-images/app/scripts/lib/deep.txt": "deep\n",
        });
        fs.chmodSync(path.join(root, "agent-images/app/scripts/install.sh"), 0o755);
        const ctx = readBuildContext(root, "app");
        assert.equal(ctx.dockerfile.toString("utf8"), "FROM scratch\nCOPY . /\n");
        assert.equal(ctx.ignoreText, undefined);
        const byPath = Object.fromEntries(ctx.files.map((f) => [f.path, f]));
        assert.deepEqual(Object.keys(byPath).sort(), ["Dockerfile", "scripts/install.sh", "scripts/lib/deep.txt"]);
        assert.equal(byPath["scripts/install.sh"].mode & 0o777, 0o755);
        assert.equal(byPath["scripts/lib/deep.txt"].content.toString("utf8"), "deep\n");
    });

    it("gives the .dockerignore text when there is one", () => {
        const ctx = readBuildContext(
            rootWith({ "agent-images/app/Dockerfile": "FROM scratch\n", "agent-images/app/.dockerignore": "*.md\n" }),
            "app",
        );
        assert.equal(ctx.ignoreText, "*.md\n");
        assert.ok(
            ctx.files.some((f) => f.path === ".dockerignore"),
            "the ignore file is part of the context",
        );
    });
});
