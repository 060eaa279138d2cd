import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CREDENTIAL_PATTERNS, findCredentials } from "../../policy/credentials";

const kinds = (text: string) => findCredentials(text).map((f) => f.kind);

describe("findCredentials", () => {
    it("names the kind and line of each credential-shaped string", () => {
        const text = [
            "steps:",
            "  - command: aws s3 ls",
            "    env:",
            "      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE",
            "      aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            `      GITHUB_TOKEN: github_pat_${"A1b2C3d4E5".repeat(3)}`,
            "      SLACK_WEBHOOK: https://hooks.slack.com/services/T0001/B0002/abcdefXYZ123",
        ].join("\n");
        assert.deepEqual(findCredentials(text), [
            { kind: "AWS access key id", line: 4 },
            { kind: "AWS secret access key", line: 5 },
            { kind: "GitHub fine-grained token", line: 6 },
            { kind: "Slack webhook URL", line: 7 },
        ]);
    });

    it("reports a token once, under its most specific kind", () => {
        assert.deepEqual(kinds(`access_token: ghp_${"x".repeat(36)}`), ["GitHub token"]);
    });

    it("finds literal passwords in keys, env names and flags", () => {
        assert.deepEqual(kinds("password: hunter2hunter2"), ["literal password"]);
        assert.deepEqual(kinds('DB_PASSWORD="correcthorse"'), ["literal password"]);
        assert.deepEqual(kinds("api_key: 0123456789abcdef"), ["literal password"]);
        assert.deepEqual(kinds("mysql --password s3cr3tpass"), ["literal password"]);
        assert.deepEqual(kinds("-----BEGIN RSA PRIVATE KEY-----"), ["private key"]);
        assert.deepEqual(kinds("-----BEGIN PGP PRIVATE KEY BLOCK-----"), ["private key"]);
    });

    it("finds every kind it searches for, each pattern in a text of its own", () => {
        // findCredentials first tests a text against all patterns at once: each pattern must still be reached.
        const examples: [kind: string, text: string][] = [
            ["AWS access key id", "key AKIAIOSFODNN7EXAMPLE"],
            ["AWS secret access key", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
            ["GitHub token", `token ghs_${"a1".repeat(18)}`],
            ["GitHub fine-grained token", `github_pat_${"A1b2C3d4E5".repeat(3)}`],
            ["Buildkite API token", `bkua_${"b".repeat(20)}`],
            ["Buildkite agent token", `bkct_${"c".repeat(20)}`],
            ["private key", "-----BEGIN OPENSSH PRIVATE KEY-----"],
            ["PyPI token", `pypi-AgE${"d".repeat(40)}`],
            ["npm token", `npm_${"e".repeat(36)}`],
            ["Slack token", "xoxb-1234567890-abc"],
            ["Slack webhook URL", "https://hooks.slack.com/services/T0001/B0002/abcdefXYZ123"],
            ["literal password", "Client_Secret: hunter2hunter2"],
            ["literal password", "login --passwd hunter2hunter2"],
        ];
        for (const { kind, pattern } of CREDENTIAL_PATTERNS)
            assert.ok(
                examples.some(([k, text]) => k === kind && new RegExp(pattern.source, pattern.flags).test(text)),
                `an example of each pattern of ${kind}`,
            );
        for (const [kind, text] of examples) assert.deepEqual(kinds(text), [kind], text);
    });

    it("leaves environment references, empty values and look-alikes alone", () => {
        for (const text of [
            "password: $DB_PASSWORD",
            'password: "${DB_PASSWORD}"',
            "password: ''",
            "password:",
            "password_file: /run/secrets/db",
            "--password-file .secrets/pw",
            "--password $PW",
            "echo pass the tests through",
            "secrets: [PYPI_TOKEN]",
            "AKIA_PREFIX_IS_NOT_ENOUGH",
            "image: public.ecr.aws/docker/library/python:3.12",
        ]) {
            assert.deepEqual(findCredentials(text), [], text);
        }
    });
});
