import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePlatformConfig } from "../../components/platform-config";
import { fleetMapDiagram, fleetMapMarkdown } from "../../components/graph/fleet-map";
import { validRawConfig } from "../fixtures/config";

describe("fleetMapDiagram", () => {
    const parsed = parsePlatformConfig(validRawConfig());
    assert.ok(parsed.ok);
    const config = parsed.value;

    it("groups fleets by continent, then region, marks home, and keeps on-premises fleets apart", () => {
        const diagram = fleetMapDiagram(config) ?? "";
        const lines = diagram.split("\n").map((l) => l.trim());
        assert.equal(lines[0], "flowchart LR");
        const europe = lines.indexOf('subgraph c_Europe["Europe"]');
        const america = lines.indexOf('subgraph c_North_America["North America"]');
        assert.ok(europe > 0 && america > europe, "continents sorted");
        assert.ok(lines.includes('subgraph r_us_east_1["us-east-1 (home)"]'));
        assert.ok(lines.includes('subgraph r_eu_west_1["eu-west-1"]'));
        const euFleet = lines.findIndex((l) => l.startsWith("f_linux_eu_west_1["));
        assert.ok(euFleet > lines.indexOf('subgraph r_eu_west_1["eu-west-1"]') && euFleet < america);
        assert.match(lines[euFleet], /queue default-eu-west-1 · 0–5 instances<br\/>c7i\.xlarge/);
        assert.ok(lines.indexOf('subgraph on_premises["On premises"]') > america);
        assert.ok(lines.some((l) => l.startsWith('f_mac_office["mac-office<br/>queue macos')));
    });

    it("says so when there is nothing to draw", () => {
        assert.equal(fleetMapDiagram({ ...config, fleets: [] }), null);
        assert.equal(fleetMapMarkdown({ ...config, fleets: [] }), "No agent fleets are declared.");
        assert.match(fleetMapMarkdown(config), /^```mermaid\nflowchart LR/);
    });
});
