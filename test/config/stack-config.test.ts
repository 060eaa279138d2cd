import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { err, ok, type ConfigIssue, type Result } from "../../components/config/issues";
import { SECRET_VALUE_PLACEHOLDER } from "../../components/config/load";
import type { PlatformConfig } from "../../components/config/schema";
import {
    ConfigError,
    formatConfigError,
    loadStackConfigWith,
    loadStackSecrets,
    secretKeyIssues,
} from "../../components/config/stack-config";
import { parsePlatformConfig } from "../../components/platform-config";
import { validRawConfig } from "../fixtures/config";

/* Reading the stack config: one ConfigError with every problem, secret keys outside ci-platform:secrets refused, the
 * returned config holding secret names only, the values a Pulumi secret (@pulumi/pulumi 3.276.0 config.js
 * getSecretObject wraps the value in a secret Output). Under a run's config: bad-config.test.ts and
 * secrets-misuse.test.ts. */

const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)));
const issue = (path: (string | number)[], message: string): ConfigIssue => ({ path, message, fix: "do this" });
const thrown = (f: () => unknown): ConfigError => {
    try {
        f();
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e;
    }
    assert.fail("expected a ConfigError");
};

describe("formatConfigError and ConfigError", () => {
    it("counts the problems, one indented line each, naming entries from the raw config", () => {
        assert.equal(
            formatConfigError([issue(["organization"], "is empty")]),
            "1 problem in the stack config; nothing was created:\n  ci-platform:organization: is empty. Fix: do this.",
        );
        const two = formatConfigError([issue(["pipelines", 0, "queue"], "a"), issue(["teams"], "b")], {
            raw: validRawConfig(),
        });
        assert.match(two, /^2 problems in the stack config/);
        assert.match(two, /\n {2}ci-platform:pipelines\[app\]\.queue: a\./);
    });

    it("is a RunError (Pulumi prints it without a stack trace) carrying its issues", () => {
        const e = new ConfigError([issue(["teams"], "b")]);
        assert.ok(e instanceof pulumi.RunError);
        assert.equal(e.name, "ConfigError");
        assert.equal(e.issues.length, 1);
        assert.equal(e.message, formatConfigError(e.issues));
    });
});

describe("secretKeyIssues", () => {
    it("refuses a secret ci-platform key other than ci-platform:secrets; other namespaces are not ours", () => {
        const issues = secretKeyIssues(["ci-platform:secrets", "ci-platform:tags", "aws:secretKey", "ci-platformx:y"]);
        assert.deepEqual(
            issues.map((i) => i.path),
            [["tags"]],
        );
        assert.match(issues[0].fix ?? "", /keep secret values under ci-platform:secrets/);
    });
});

describe("loadStackConfigWith", () => {
    const valid = () => parsePlatformConfig(validRawConfig());

    it("returns the parsed config with every secret value replaced by the placeholder, names kept", () => {
        const config = loadStackConfigWith(() => valid(), { raw: validRawConfig() });
        assert.deepEqual(config.secrets.pipelines.app, { env: { TOKEN: SECRET_VALUE_PLACEHOLDER } });
        assert.equal(config.secrets.organization?.gitCredentials, SECRET_VALUE_PLACEHOLDER);
        assert.ok(!JSON.stringify(config).includes("not-a-real-token"));
    });

    it("throws one ConfigError with the secret keys' problems and the parse's, sorted", () => {
        const parse = (): Result<PlatformConfig, ConfigIssue[]> => err([issue(["teams"], "required")]);
        const e = thrown(() => loadStackConfigWith(parse, { raw: {}, secretKeys: ["ci-platform:organization"] }));
        assert.deepEqual(
            e.issues.map((i) => i.path),
            [["organization"], ["teams"]],
        );
        // A valid parse with a secret key outside ci-platform:secrets is refused all the same.
        const withKey = thrown(() => loadStackConfigWith(() => valid(), { raw: {}, secretKeys: ["ci-platform:tags"] }));
        assert.deepEqual(
            withKey.issues.map((i) => i.path),
            [["tags"]],
        );
    });

    it("runs the extra checks only on a config that passed the rest, and reports what they find", () => {
        let ran = 0;
        const extra = () => {
            ran++;
            return [issue(["pipelines", 0, "repository"], "no such file")];
        };
        thrown(() => loadStackConfigWith(() => err([issue(["teams"], "required")]), { raw: {}, extraChecks: [extra] }));
        assert.equal(ran, 0);
        const e = thrown(() => loadStackConfigWith(() => valid(), { raw: validRawConfig(), extraChecks: [extra] }));
        assert.equal(ran, 1);
        assert.match(e.message, /ci-platform:pipelines\[app\]\.repository: no such file/);
    });

    it("hands the parse the raw config it was given", () => {
        const seen: unknown[] = [];
        const raw = validRawConfig();
        loadStackConfigWith(
            (r) => {
                seen.push(r);
                return ok(mustValue(valid()));
            },
            { raw },
        );
        assert.deepEqual(seen, [raw]);
    });
});

function mustValue(result: Result<PlatformConfig, ConfigIssue[]>): PlatformConfig {
    assert.ok(result.ok);
    return result.value;
}

describe("loadStackSecrets", () => {
    it("gives the values as a Pulumi secret, with the schema's defaults applied", async () => {
        const raw = validRawConfig();
        const secrets = loadStackSecrets({ raw });
        assert.equal(await pulumi.isSecret(secrets), true);
        const values = await resolve(secrets);
        assert.deepEqual(values.pipelines.app, { env: { TOKEN: "not-a-real-token" } });
        const empty = await resolve(loadStackSecrets({ raw: {} }));
        assert.deepEqual(empty, { pipelines: {} });
    });
});
