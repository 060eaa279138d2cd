import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Round, type Sample, median, summarise } from "../../scripts/bench/summary";

/* scripts/bench/summary.ts: the figures of npm run bench, from paired rounds. */

const sample = (userMs: number, systemMs: number, maxRssMb = 100, wallMs = userMs + systemMs): Sample => ({
    wallMs,
    userMs,
    systemMs,
    maxRssMb,
});

describe("the benchmark's summary", () => {
    it("takes medians (the middle two's mean for an even count) and refuses none", () => {
        assert.equal(median([3, 1, 2]), 2);
        assert.equal(median([4, 1, 3, 2]), 2.5);
        assert.throws(() => median([]), /no samples/);
    });

    it("counts CPU as user + system and takes each plan's ratio within its own round", () => {
        // The machine is twice as busy in the second round: baseline and plan both take twice the CPU.
        const rounds: Round[] = [
            { baseline: sample(900, 100), plans: { prod: sample(1100, 200, 300) } },
            { baseline: sample(1800, 200), plans: { prod: sample(2200, 400, 320) } },
            { baseline: sample(1000, 0), plans: { prod: sample(1300, 0, 310) } },
        ];
        const [baseline, prod] = summarise(rounds, ["prod"]);
        assert.equal(baseline.label, "SDK-loading baseline");
        assert.equal(baseline.cpuMs, 1000);
        assert.equal(baseline.cpuRatio, 1);
        assert.equal(prod.cpuMs, 1300);
        // Paired ratios 1.3, 1.3, 1.3, whatever the load of each round.
        assert.equal(prod.cpuRatio, 1.3);
        assert.equal(prod.maxRssMb, 310);
        assert.equal(prod.largestRssMb, 320);
        const skewed = summarise(
            [
                { baseline: sample(1000, 0), plans: { prod: sample(1500, 0) } },
                { baseline: sample(3000, 0), plans: { prod: sample(3300, 0) } },
                { baseline: sample(1100, 0), plans: { prod: sample(1210, 0) } },
            ],
            ["prod"],
        )[1];
        // Ratios 1.5, 1.1, 1.1: the median is 1.1, whereas medians 1500 / 1100 would say 1.36.
        assert.ok(Math.abs(skewed.cpuRatio - 1.1) < 1e-9, String(skewed.cpuRatio));
    });

    it("lists the plans in the order given and fails on a round that lacks one", () => {
        const round: Round = { baseline: sample(10, 0), plans: { b: sample(30, 0), a: sample(20, 0) } };
        assert.deepEqual(
            summarise([round], ["a", "b"]).map((r) => [r.label, r.cpuRatio]),
            [
                ["SDK-loading baseline", 1],
                ["a", 2],
                ["b", 3],
            ],
        );
        assert.throws(() => summarise([round], ["c"]), /without a sample of c/);
    });
});

describe("the SDK floor of each plan", () => {
    it("takes the plan's ratio to its own replay within each round, and the replay's medians", () => {
        const rounds: Round[] = [
            {
                baseline: sample(1000, 0),
                plans: { big: sample(9000, 0, 900) },
                floors: { big: sample(6000, 0, 600) },
            },
            {
                baseline: sample(2000, 0),
                plans: { big: sample(18000, 0, 950) },
                floors: { big: sample(12000, 0, 620) },
            },
            {
                baseline: sample(1000, 0),
                plans: { big: sample(8000, 0, 910) },
                floors: { big: sample(4000, 0, 610) },
            },
        ];
        const [baseline, big] = summarise(rounds, ["big"]);
        assert.equal(baseline.floor, undefined);
        // Ratios 1.5, 1.5, 2: the median is 1.5, not 9000 / 6000 of the medians by chance.
        assert.deepEqual(big.floor, { cpuMs: 6000, maxRssMb: 610, cpuRatio: 1.5 });
    });

    it("has no floor when no round measured one, and refuses floors of some rounds only", () => {
        const plain: Round = { baseline: sample(10, 0), plans: { a: sample(20, 0) } };
        assert.equal(summarise([plain], ["a"])[1].floor, undefined);
        const floored: Round = { ...plain, floors: { a: sample(15, 0) } };
        assert.throws(() => summarise([floored, plain], ["a"]), /a: an SDK floor in some rounds only/);
    });
});
