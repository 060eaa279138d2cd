import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue } from "../../components/config";
import { checkRenames } from "../../components/config/renames";
import { parsePlatformConfig } from "../../components/platform-config";
import { fleetPhysicalName } from "../../components/agents/naming";
import { entry, mustParse, validRawConfig } from "../fixtures/config";

/*
 * `renamedFrom` (components/config/renames.ts): every earlier name becomes an alias, so it must name one object only.
 */

type Raw = ReturnType<typeof validRawConfig>;

function problems(edit: (raw: Raw) => void): string[] {
    const raw = validRawConfig();
    edit(raw);
    const result = parsePlatformConfig(raw);
    return result.ok ? [] : result.error.map(formatIssue);
}

describe("renamedFrom", () => {
    it("is accepted on clusters, teams, fleets and pipelines, [] by default", () => {
        const raw = validRawConfig();
        entry(raw, "clusters", 1).renamedFrom = ["mac"];
        entry(raw, "teams", 1).renamedFrom = ["application", "apps"];
        entry(raw, "fleets", 2).renamedFrom = ["macs"];
        entry(raw, "fleets", 2).physicalName = "macs";
        entry(raw, "pipelines", 0).renamedFrom = ["application"];
        const config = mustParse(raw);
        assert.deepEqual(config.teams[1].renamedFrom, ["application", "apps"]);
        assert.deepEqual(config.teams[0].renamedFrom, []);
        assert.deepEqual(config.pipelines[0].renamedFrom, ["application"]);
    });

    it("refuses an earlier name that is another entry's current name, at its path", () => {
        const lines = problems((raw) => {
            entry(raw, "pipelines", 0).renamedFrom = ["installer"];
        });
        const line = lines.find((l) => l.startsWith("ci-platform:pipelines[0].renamedFrom[0]: "));
        assert.ok(line, lines.join("\n"));
        assert.match(line, /"installer" is the current pipeline slug of pipelines\[1\]/);
        assert.match(line, / Fix: \S/);
    });

    it("refuses the entry's own current name", () => {
        const lines = problems((raw) => {
            entry(raw, "teams", 0).renamedFrom = ["platform"];
        });
        assert.ok(
            lines.some((l) =>
                /^ci-platform:teams\[0\]\.renamedFrom\[0\]: "platform" is this entry's current team name/.test(l),
            ),
            lines.join("\n"),
        );
    });

    it("refuses a name listed twice, in one entry or in two, at the later one", () => {
        const lines = problems((raw) => {
            entry(raw, "fleets", 0).renamedFrom = ["linux-old", "linux-old"];
            entry(raw, "clusters", 0).renamedFrom = ["shared"];
            entry(raw, "clusters", 1).renamedFrom = ["shared"];
        });
        assert.ok(
            lines.some((l) => l.startsWith("ci-platform:fleets[0].renamedFrom[1]: ")),
            lines.join("\n"),
        );
        assert.ok(
            lines.some((l) =>
                /^ci-platform:clusters\[1\]\.renamedFrom\[0\]: "shared" is already listed .* at ci-platform:clusters\[0\]\.renamedFrom\[0\]/.test(
                    l,
                ),
            ),
            lines.join("\n"),
        );
        assert.ok(!lines.some((l) => l.startsWith("ci-platform:clusters[0].renamedFrom")));
    });

    it("holds names of the entry's kind only (a fleet's earlier name is a slug)", () => {
        const lines = problems((raw) => {
            entry(raw, "fleets", 0).renamedFrom = ["Linux Old"];
        });
        assert.ok(
            lines.some((l) => l.startsWith("ci-platform:fleets[0].renamedFrom[0]: ")),
            lines.join("\n"),
        );
    });
});

describe("a fleet's physical name", () => {
    it("is its physicalName, else its name; never the order of renamedFrom", () => {
        assert.equal(fleetPhysicalName({ name: "linux-europe" }), "linux-europe");
        assert.equal(fleetPhysicalName({ name: "linux-europe", physicalName: "linux-eu-west-1" }), "linux-eu-west-1");
        const config = mustParse(
            ((raw) => {
                entry(raw, "fleets", 0).physicalName = entry(raw, "fleets", 0).name;
                entry(raw, "fleets", 0).name = "linux-renamed";
                entry(raw, "fleets", 0).renamedFrom = ["linux-newer", "linux-older"];
                return raw;
            })(validRawConfig()),
        );
        assert.equal(fleetPhysicalName(config.fleets[0]), entry(validRawConfig(), "fleets", 0).name);
    });

    it("is required once a fleet has renamedFrom, at its path, with the fix", () => {
        const lines = problems((raw) => {
            entry(raw, "fleets", 0).renamedFrom = ["linux-old"];
        });
        const line = lines.find((l) => l.startsWith("ci-platform:fleets[0].physicalName: "));
        assert.ok(line, lines.join("\n"));
        assert.match(line, /has renamedFrom but no physicalName/);
        assert.match(line, /Fix: set physicalName: <the name the fleet was first deployed under>/);
    });

    it("is refused when it is another fleet's physical name, or too long for the stack's role name", () => {
        const lines = problems((raw) => {
            entry(raw, "fleets", 1).physicalName = entry(raw, "fleets", 0).name as string;
            entry(raw, "fleets", 0).physicalName = "x".repeat(50);
        });
        assert.ok(
            lines.some((l) => /^ci-platform:fleets\[0\]\.physicalName: physicalName "x{50}" is 50 characters/.test(l)),
            lines.join("\n"),
        );
        assert.ok(!lines.some((l) => l.startsWith("ci-platform:fleets[1].physicalName")), lines.join("\n"));
        const collide = problems((raw) => {
            entry(raw, "fleets", 1).physicalName = entry(raw, "fleets", 0).name as string;
        });
        assert.ok(
            collide.some((l) => /^ci-platform:fleets\[1\]\.physicalName: .*would carry the physical name/.test(l)),
            collide.join("\n"),
        );
    });
});

describe("checkRenames, on its own", () => {
    const config = (pipelines: { slug: string; renamedFrom: string[] }[]) =>
        ({ clusters: [], teams: [], fleets: [], pipelines }) as unknown as Parameters<typeof checkRenames>[0];

    it("places each problem at its renamedFrom entry, with the fix", () => {
        const issues = checkRenames(
            config([
                { slug: "api", renamedFrom: ["api"] },
                { slug: "web", renamedFrom: ["old", "api"] },
                { slug: "docs", renamedFrom: ["old"] },
            ]),
        );
        assert.deepEqual(
            issues.map((i) => [i.path.join("."), i.message]),
            [
                ["pipelines.0.renamedFrom.0", '"api" is this entry\'s current pipeline slug, not an earlier one'],
                [
                    "pipelines.1.renamedFrom.1",
                    '"api" is the current pipeline slug of pipelines[0]; an earlier name must not be in use',
                ],
                [
                    "pipelines.1.renamedFrom.1",
                    '"api" is already listed as an earlier pipeline slug at ci-platform:pipelines[0].renamedFrom[0]',
                ],
                [
                    "pipelines.2.renamedFrom.0",
                    '"old" is already listed as an earlier pipeline slug at ci-platform:pipelines[1].renamedFrom[0]',
                ],
            ],
        );
        assert.ok(issues.every((i) => (i.fix ?? "").length > 0));
        assert.deepEqual(checkRenames(config([{ slug: "a", renamedFrom: ["b"] }])), []);
    });
});
