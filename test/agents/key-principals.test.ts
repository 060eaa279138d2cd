import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyPrincipals } from "../../components/agents";
import { formatIssue } from "../../components/config/issues";
import { parsePlatformConfig } from "../../components/platform-config";
import { prodRawConfig } from "./fixtures";

const ADMIN = "arn:aws:iam::123456789012:role/BreakGlassAdmin";

describe("ci-platform:kmsAdministrators and the keys' other principals", () => {
    it("defaults to none, and takes role or user ARNs", () => {
        const none = parsePlatformConfig(prodRawConfig());
        assert.ok(none.ok && none.value);
        assert.deepEqual(none.value.kmsAdministrators, []);
        const some = parsePlatformConfig({
            ...prodRawConfig(),
            kmsAdministrators: [ADMIN, "arn:aws:iam::123456789012:user/alice"],
        });
        assert.ok(some.ok, JSON.stringify(some.error));
    });

    it("rejects anything but an IAM role or user ARN, naming the config path", () => {
        const result = parsePlatformConfig({ ...prodRawConfig(), kmsAdministrators: [ADMIN, "*"] });
        assert.equal(result.ok, false);
        const issues = (result.error ?? []).map(formatIssue);
        assert.ok(
            issues.some((i) => /^ci-platform:kmsAdministrators\[1\]: must be an IAM role or user ARN/.test(i)),
            issues.join("\n"),
        );
    });

    it("makes the deploy roles and administrators writers, the read roles token readers, and previews nothing", () => {
        const parsed = parsePlatformConfig({ ...prodRawConfig(), kmsAdministrators: [ADMIN] });
        assert.ok(parsed.ok && parsed.value);
        const principals = keyPrincipals(parsed.value);
        assert.deepEqual(principals, {
            deployRoleNames: ["ci-platform-deploy"],
            readRoleNames: ["ci-platform-read"],
            administratorArns: [ADMIN],
        });
    });
});
