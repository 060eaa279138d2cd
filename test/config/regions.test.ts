import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FleetConfig, fleetRegions, platformRegions } from "../../components/config";
import { mustParse, validRawConfig } from "../fixtures/config";

const base = mustParse(validRawConfig());
const aws = base.fleets.find((f): f is Extract<FleetConfig, { kind: "aws" }> => f.kind === "aws");
if (aws === undefined) throw new Error("the fixture has an AWS fleet");
const fleet = (name: string, region: string, cluster = aws.cluster): FleetConfig =>
    ({ ...aws, name, region, cluster }) as FleetConfig;
const onPrem = (name: string): FleetConfig =>
    ({ kind: "static", name, cluster: aws.cluster, queue: "mac" }) as unknown as FleetConfig;

describe("fleetRegions", () => {
    it("lists the regions of AWS fleets once each, sorted; static fleets have none", () => {
        const fleets = [fleet("a", "us-west-2"), fleet("b", "eu-west-1"), fleet("c", "us-west-2"), onPrem("m")];
        assert.deepEqual(fleetRegions({ fleets }), ["eu-west-1", "us-west-2"]);
        assert.deepEqual(fleetRegions({ fleets: [onPrem("m")] }), []);
    });

    it("keeps to one cluster's fleets when a cluster is named", () => {
        const fleets = [
            fleet("a", "us-west-2", "one"),
            fleet("b", "eu-west-1", "two"),
            fleet("c", "ap-south-1", "one"),
        ];
        assert.deepEqual(fleetRegions({ fleets }, "one"), ["ap-south-1", "us-west-2"]);
        assert.deepEqual(fleetRegions({ fleets }, "three"), []);
    });
});

describe("platformRegions", () => {
    it("is the home region and every fleet region, once each, sorted", () => {
        const fleets = [fleet("a", "us-west-2"), fleet("b", "eu-west-1"), fleet("c", "us-east-1")];
        assert.deepEqual(platformRegions({ homeRegion: "us-east-1", fleets }), ["eu-west-1", "us-east-1", "us-west-2"]);
        assert.deepEqual(platformRegions({ homeRegion: "ca-central-1", fleets: [onPrem("m")] }), ["ca-central-1"]);
    });
});
