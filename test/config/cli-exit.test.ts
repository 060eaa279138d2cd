import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { drInProcess, planInProcess, ROOT, simulateInProcess } from "../fixtures/cli";

/*
 * The scripts that read a stack file (plan, simulate, dr) answer a bad one with exit code 2 and its problems, never
 * exit 1 or a stack trace: the cases a fuzzer found crashing or slipping through (issue 12, "Bad input").
 */

const prod = readFileSync(path.join(ROOT, "Pulumi.prod.yaml"));
const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-bad-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The prod stack file with `from` replaced by `to` (bytes), written to a temporary file. */
function variant(name: string, from: string, to: Buffer | string): string {
    const at = prod.indexOf(from);
    assert.ok(at >= 0, `"${from}" is not in Pulumi.prod.yaml`);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, Buffer.concat([prod.subarray(0, at), Buffer.from(to), prod.subarray(at + from.length)]));
    return file;
}

const cases: [string, string, string, Buffer | string, RegExp][] = [
    [
        "a secure: value outside ci-platform:secrets",
        "secure-outside",
        "      description: Owns the CI platform",
        "      description:\n        secure: v1:abc:ZGVm",
        /^ {2}\S+Pulumi\.secure-outside\.yaml:\d+:\d+: ci-platform:teams\[platform\]\.description: holds a secure: \(encrypted\) value outside ci-platform:secrets.* Fix: /m,
    ],
    [
        "bytes that are not UTF-8",
        "latin1",
        "Kolibri product engineering",
        Buffer.from([0x4b, 0x6f, 0x6c, 0x69, 0x62, 0x72, 0xed]),
        /^ {2}\S+Pulumi\.latin1\.yaml:\d+:\d+: ci-platform:teams\[kolibri\]\.description: line \d+ of the stack file holds bytes that are not UTF-8.* Fix: /m,
    ],
    [
        "a package path outside the repository (crashed with exit 1)",
        "dotdot",
        "path: python_modules/dagster-pipes,",
        "path: python_modules/../../etc,",
        /^ {2}\S+Pulumi\.dotdot\.yaml:\d+:\d+: ci-platform:pipelines\[dagster\]\.packages\[dagster-pipes\]\.path: .*must not contain \. or \.\. segments.* Fix: /m,
    ],
    [
        "a wrongly typed secrets (crashed with exit 1)",
        "secrets-list",
        "  ci-platform:secrets:\n",
        "  ci-platform:secrets: [1, 2]\n  ci-platform:unused:\n",
        /^ {2}\S+Pulumi\.secrets-list\.yaml:\d+:\d+: ci-platform:secrets: expected an object\. Fix: /m,
    ],
    [
        "a number where the organization slug belongs",
        "org-number",
        "ci-platform:organization: learningequality",
        "ci-platform:organization: 12345",
        /^ {2}\S+Pulumi\.org-number\.yaml:\d+:\d+: ci-platform:organization: is a number \(12345\).* Fix: /m,
    ],
];

describe("a bad stack file: exit 2 with its problems", () => {
    for (const [name, slug, from, to, expected] of cases) {
        it(`plan: ${name}`, async () => {
            const result = await planInProcess(...["--config", variant(slug, from, to)]);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, expected);
            assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        });
    }

    it("simulate and dr: a secure: value outside ci-platform:secrets", async () => {
        const file = variant(
            "secure-tools",
            "      description: Owns the CI platform",
            "      description:\n        secure: v1:a:Yg",
        );
        const [simulate, dr] = await Promise.all([
            simulateInProcess(...["--pipeline", "dagster", "--config", file]),
            drInProcess(...["--region", "us-east-1", "--config", file]),
        ]);
        for (const result of [simulate, dr]) {
            assert.equal(result.code, 2, result.stderr);
            assert.match(
                result.stderr,
                /ci-platform:teams\[platform\]\.description: holds a secure: \(encrypted\) value/,
            );
        }
    });
});
