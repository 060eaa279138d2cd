import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeEach, describe, it } from "node:test";
import { imageContentDigest } from "../components/images/dockerfile";
import { parseArgs, run } from "../scripts/images-bump";

const NOW = new Date("2026-11-21T12:00:00Z");

const DOCKERFILES: Record<string, string> = {
    "buildkite-test": "FROM python:3.12-slim\n",
    "deb-builder": "FROM debian:bookworm-slim\n",
    "node-test": "FROM node:22-slim\n",
};

function repo(versions: string, stackYaml?: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "images-bump-"));
    fs.mkdirSync(path.join(root, "agent-images"));
    fs.writeFileSync(path.join(root, "agent-images/versions.json"), versions);
    for (const [name, text] of Object.entries(DOCKERFILES)) {
        fs.mkdirSync(path.join(root, "agent-images", name));
        fs.writeFileSync(path.join(root, "agent-images", name, "Dockerfile"), text);
    }
    if (stackYaml) fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), stackYaml);
    return root;
}
const STACK = [
    "config:",
    "  ci-platform:github:",
    "    owner: acme",
    "  ci-platform:images:",
    "    - name: buildkite-test",
    "      variants: [py3.12, py3.13]",
    "    - name: deb-builder",
    "      variants: [bookworm]",
    "",
].join("\n");
const URL = (image: string) => `https://github.com/acme/ci-platform/tree/main/agent-images/${image}`;

const read = (root: string) => fs.readFileSync(path.join(root, "agent-images/versions.json"), "utf8");

describe("images:bump", () => {
    let root: string;
    beforeEach(() => {
        root = repo('{"deb-builder":"2026.10.3","buildkite-test":"2026.11.1"}', STACK);
    });

    it("bumps one image, prints old -> new, and appends the version to its history with what it is built from", () => {
        const result = run(["buildkite-test"], NOW, root);
        assert.deepEqual(result, { code: 0, stdout: "buildkite-test: 2026.11.1 -> 2026.11.2\n", stderr: "" });
        assert.deepEqual(JSON.parse(read(root)), {
            "buildkite-test": {
                version: "2026.11.2",
                history: [
                    {
                        version: "2026.11.2",
                        digest: imageContentDigest(DOCKERFILES["buildkite-test"]),
                        variants: ["py3.12", "py3.13"],
                        sourceUrl: URL("buildkite-test"),
                    },
                ],
            },
            // An entry in the older form stays as it is (so the file reads back); only a bump records a history.
            "deb-builder": "2026.10.3",
        });
        assert.match(read(root), /^\{\n {2}"buildkite-test": \{\n {4}"version"/);
    });

    it("records the digest of the Dockerfile as it is now, line endings normalised", () => {
        fs.writeFileSync(path.join(root, "agent-images/buildkite-test/Dockerfile"), "FROM python:3.13-slim\r\n");
        run(["buildkite-test"], NOW, root);
        const entry = (JSON.parse(read(root)) as Record<string, { history: { digest: string }[] }>)["buildkite-test"];
        assert.equal(entry.history[0].digest, imageContentDigest("FROM python:3.13-slim\n"));
    });

    it("exits 2 when the image has no Dockerfile, and writes nothing", () => {
        fs.rmSync(path.join(root, "agent-images/buildkite-test/Dockerfile"));
        const before = read(root);
        const result = run(["buildkite-test"], NOW, root);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /cannot read agent-images\/buildkite-test\/Dockerfile/);
        assert.equal(read(root), before);
    });

    it("takes the release date from --date", () => {
        assert.equal(
            run(["deb-builder", "--date", "2027-01-04"], NOW, root).stdout,
            "deb-builder: 2026.10.3 -> 2027.01.1\n",
        );
    });

    it("exits 2 on an unknown image, listing the known ones, and writes nothing", () => {
        const before = read(root);
        const result = run(["buildkite-tset"], NOW, root);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /unknown image "buildkite-tset"; .*: buildkite-test, deb-builder/);
        assert.equal(read(root), before);
    });

    it("gives an image declared in a stack file, but not yet pinned, its first version", () => {
        const withStack = repo(
            '{"buildkite-test":"2026.11.1"}\n',
            "config:\n  ci-platform:github: {owner: acme}\n  ci-platform:images:\n    - name: node-test\n      variants: [node22]\n",
        );
        assert.equal(run(["node-test"], NOW, withStack).stdout, "node-test: (none) -> 2026.11.1\n");
        assert.equal(
            (JSON.parse(read(withStack)) as Record<string, { version: string }>)["node-test"].version,
            "2026.11.1",
        );
    });

    it("exits 2 on bad usage or an invalid versions.json", () => {
        assert.equal(run([], NOW, root).code, 2);
        assert.equal(run(["a", "b"], NOW, root).code, 2);
        assert.equal(run(["a", "--date"], NOW, root).code, 2);
        assert.equal(run(["a", "--date", "21/11/2026"], NOW, root).code, 2);
        const broken = repo('{"buildkite-test":"v1"}');
        const result = run(["buildkite-test"], NOW, broken);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /not a calendar version/);
    });

    it("defaults the date to today in UTC and the root to the working directory", () => {
        assert.deepEqual(parseArgs(["x"], NOW, "/repo"), { image: "x", date: "2026-11-21", root: "/repo" });
    });

    it("keeps every earlier version in the history, and a later owner records the new source URL", () => {
        run(["buildkite-test"], NOW, root);
        fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), STACK.replace("owner: acme", "owner: acme-new"));
        run(["buildkite-test"], NOW, root);
        const entry = (
            JSON.parse(read(root)) as Record<
                string,
                { version: string; history: { version: string; sourceUrl: string }[] }
            >
        )["buildkite-test"];
        assert.equal(entry.version, "2026.11.3");
        assert.deepEqual(
            entry.history.map((e) => [e.version, e.sourceUrl]),
            [
                ["2026.11.2", URL("buildkite-test")],
                ["2026.11.3", "https://github.com/acme-new/ci-platform/tree/main/agent-images/buildkite-test"],
            ],
        );
    });

    it("exits 2, writing nothing, when nothing says the image's variants and source", () => {
        const bare = repo('{"buildkite-test":"2026.11.1"}');
        const before = read(bare);
        const result = run(["buildkite-test"], NOW, bare);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /not declared with its variants and ci-platform:github.owner/);
        assert.equal(read(bare), before);
    });
});
