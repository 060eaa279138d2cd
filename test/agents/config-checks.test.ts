import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetIssues, physicalNameIssues, secretFileIssues } from "../../components/agents/config-checks";
import { MAX_AWS_FLEET_NAME_LENGTH } from "../../components/agents/naming";
import { ConfigIssue, FleetConfig, PlatformConfig, formatConfigPath } from "../../components/config";
import { mustParse, validRawConfig } from "../fixtures/config";

type AwsFleet = Extract<FleetConfig, { kind: "aws" }>;

/** The fixture's config and its first (AWS) fleet, to change. */
function withFleet(change: (fleet: AwsFleet, config: PlatformConfig) => void): PlatformConfig {
    const config = mustParse(validRawConfig());
    const fleet = config.fleets[0];
    assert.equal(fleet.kind, "aws");
    change(fleet as AwsFleet, config);
    return config;
}
const at = (issues: readonly ConfigIssue[]) =>
    issues.map((i) => `${formatConfigPath(i.path).replace(/^ci-platform:/, "")}: ${i.message}`);

describe("fleetIssues", () => {
    it("finds nothing in a valid config, and leaves references and static fleets alone", () => {
        assert.deepEqual(fleetIssues(mustParse(validRawConfig())), []);
        // An unknown cluster is a reference problem (config/cross-checks.ts), not a fleet one.
        assert.deepEqual(fleetIssues(withFleet((f) => (f.cluster = "nowhere"))), []);
    });

    it("reports sizes, a second AWS fleet on a queue, the IAM role name, retention and the network", () => {
        const config = withFleet((f, c) => {
            f.minSize = 11;
            f.name = "x".repeat(MAX_AWS_FLEET_NAME_LENGTH + 1);
            f.logRetentionDays = 8;
            f.subnets = ["subnet-1"];
            const second = c.fleets[1] as AwsFleet;
            second.queue = f.queue;
            second.vpcId = "vpc-1";
        });
        assert.deepEqual(
            fleetIssues(config).map((i) => formatConfigPath(i.path)),
            [
                "ci-platform:fleets[0].minSize",
                "ci-platform:fleets[0].name",
                "ci-platform:fleets[0].logRetentionDays",
                "ci-platform:fleets[0].subnets",
                "ci-platform:fleets[1].queue",
                "ci-platform:fleets[1].vpcId",
            ],
        );
        const messages = at(fleetIssues(config));
        assert.match(messages[0], /minSize 11 is above maxSize 10/);
        assert.match(messages[1], /names its IAM role buildkite-<fleet>-Role, which must fit in 64/);
        assert.match(messages[2], /8 days is not a retention CloudWatch Logs/);
        assert.match(
            messages[4],
            /queue "default" of cluster "default" is already served by AWS fleet "x+" in us-east-1/,
        );
        assert.match(messages[5], /vpcId is given without subnets/);
    });

    it("reports a secrets bucket name S3 would refuse once per region and cluster", () => {
        const config = withFleet((f, c) => {
            f.cluster = "Default";
            const second = c.fleets[1] as AwsFleet;
            second.cluster = "Default";
            second.region = f.region;
        });
        const issues = fleetIssues(config).filter((i) => /secrets bucket/.test(i.message));
        assert.deepEqual(
            issues.map((i) => formatConfigPath(i.path)),
            ["ci-platform:fleets[0].cluster"],
        );
        assert.match(issues[0].message, /lowercase letters, digits and hyphens/);
    });
});

describe("physicalNameIssues", () => {
    it("requires a physicalName of a renamed fleet and refuses one that collides or is too long", () => {
        assert.deepEqual(physicalNameIssues(mustParse(validRawConfig())), []);
        const config = withFleet((f, c) => {
            f.renamedFrom = ["linux-old"];
            const second = c.fleets[1] as AwsFleet;
            second.physicalName = c.fleets[0].name;
        });
        assert.deepEqual(
            at(physicalNameIssues(config)).map((m) => m.split(":")[0]),
            ["fleets[0].physicalName", "fleets[1].physicalName"],
        );
        const long = withFleet((f) => (f.physicalName = "p".repeat(MAX_AWS_FLEET_NAME_LENGTH + 1)));
        assert.match(
            at(physicalNameIssues(long))[0],
            new RegExp(`physicalName "p+" is ${MAX_AWS_FLEET_NAME_LENGTH + 1} characters`),
        );
    });
});

describe("secretFileIssues", () => {
    it("refuses a file name the hooks never load and a value bash would not pass intact, in every scope", () => {
        const config = mustParse(validRawConfig());
        assert.deepEqual(secretFileIssues(config), []);
        config.secrets.organization = { files: { NPMRC: "ok" } };
        config.secrets.pipelines.app = { files: { DEPLOY_TOKEN: "a$b" } };
        assert.deepEqual(at(secretFileIssues(config)), [
            'secrets.organization.files.NPMRC: secret file "NPMRC" would never be loaded: the Elastic CI Stack\'s secrets hooks only load secret-files/ names ending in _SECRET, _SECRET_KEY, _PASSWORD, _TOKEN, _ACCESS_KEY',
            'secrets.pipelines.app.files.DEPLOY_TOKEN: the value of secret file "DEPLOY_TOKEN" holds $, a backquote, a newline or another control character; the stack\'s secrets hooks pass secret files to bash in double quotes, so it would not arrive intact',
        ]);
    });
});
