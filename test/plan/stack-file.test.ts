import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../components/config";
import {
    ALWAYS_SECRET_KEYS,
    displayName,
    readStackFile,
    readStackFileOrIssues,
    secretVersionsIn,
    securePlaceholder,
    stackFileIssueContext,
} from "../../scripts/plan/stack-file";

const dir = mkdtempSync(path.join(tmpdir(), "stack-file-"));
let files = 0;
/** A stack file with `text` as its content. */
function stackFile(text: string | Uint8Array): string {
    const file = path.join(dir, `Pulumi.t${files++}.yaml`);
    writeFileSync(file, text);
    return file;
}

describe("securePlaceholder and secretVersionsIn", () => {
    it("give a secret a version derived from its ciphertext only: stable, changed by a new ciphertext, not revealing it", () => {
        const a = securePlaceholder("v1:abc:ciphertext-one");
        assert.match(a, /^\[secret:[0-9a-f]{16}\]$/);
        assert.equal(securePlaceholder("v1:abc:ciphertext-one"), a);
        assert.notEqual(securePlaceholder("v1:abd:ciphertext-one"), a);
        assert.ok(!a.includes("ciphertext"));
    });

    it("secretVersionsIn finds every version in a text, in order, and nothing else", () => {
        const one = securePlaceholder("one");
        const two = securePlaceholder("two");
        const text = `TOKEN=${two}\nOTHER=${one}\n[secret] [secret:short] [secret:${"g".repeat(16)}]`;
        assert.deepEqual(secretVersionsIn(text), [two.slice(8, -1), one.slice(8, -1)]);
        assert.deepEqual(secretVersionsIn("no secrets"), []);
    });
});

describe("readStackFile", () => {
    it("turns secure: values into versioned placeholders and marks their keys secret; objects become JSON", () => {
        const file = stackFile(
            [
                "config:",
                "  ci-platform:organization: acme",
                "  ci-platform:secrets:",
                "    npm-token:",
                "      secure: v1:nonce:CIPHER",
                "  aws:region: us-east-1",
            ].join("\n"),
        );
        const stack = readStackFile(file);
        assert.equal(stack.config["ci-platform:organization"], "acme");
        assert.deepEqual(JSON.parse(stack.config["ci-platform:secrets"]), {
            "npm-token": securePlaceholder("v1:nonce:CIPHER"),
        });
        assert.deepEqual(stack.secretKeys, ["ci-platform:secrets"]);
        assert.ok(!JSON.stringify(stack).includes("CIPHER"));
    });

    it("marks ci-platform:secrets secret even when a fixture holds plain values there", () => {
        assert.deepEqual(ALWAYS_SECRET_KEYS, ["ci-platform:secrets"]);
        const stack = readStackFile(stackFile("config:\n  ci-platform:secrets:\n    token: plain\n"));
        assert.deepEqual(stack.secretKeys, ["ci-platform:secrets"]);
        assert.deepEqual(JSON.parse(stack.config["ci-platform:secrets"]), { token: "plain" });
    });

    it("refuses a secure: value outside ci-platform:secrets with a ConfigError naming the key and the file", () => {
        const file = stackFile("config:\n  ci-platform:organization:\n    secure: v1:nonce:CIPHER\n");
        assert.throws(
            () => readStackFile(file),
            (e: unknown) => {
                assert.ok(e instanceof ConfigError);
                assert.ok(e.issues.length >= 1);
                assert.match(e.message, /organization/);
                assert.ok(e.message.includes(path.basename(file)), e.message);
                return true;
            },
        );
    });

    it("readStackFileOrIssues returns the problems of an invalid file with the context to report them in", () => {
        const file = stackFile("config:\n  ci-platform:organization: [unclosed\n");
        const read = readStackFileOrIssues(file);
        assert.ok("issues" in read);
        assert.ok(read.issues.length >= 1);
        assert.match(read.issues[0].message, /not valid YAML/);
        assert.ok(read.context.file?.endsWith(path.basename(file)));
        const good = readStackFileOrIssues(stackFile("config:\n  ci-platform:organization: acme\n"));
        assert.ok("stack" in good);
        assert.equal(good.stack.config["ci-platform:organization"], "acme");
    });

    it("readStackFileOrIssues lets an error other than bad config through (a missing file)", () => {
        assert.throws(() => readStackFileOrIssues(path.join(dir, "absent.yaml")), /ENOENT/);
    });
});

describe("displayName and stackFileIssueContext", () => {
    it("names a file relative to the working directory when inside it, absolute otherwise", () => {
        assert.equal(displayName(path.join(process.cwd(), "Pulumi.prod.yaml")), "Pulumi.prod.yaml");
        const outside = path.join(path.parse(process.cwd()).root, "elsewhere", "Pulumi.x.yaml");
        assert.equal(displayName(outside), outside);
    });

    it("gives a context with the file's name alone when the file cannot be read", () => {
        const missing = path.join(dir, "missing.yaml");
        assert.deepEqual(stackFileIssueContext(missing), { file: displayName(missing) });
    });
});
