import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percentile } from "../scripts/bench-hooks";

/*
 * scripts/bench-hooks.ts prints each hook's median and p90 per job; running it takes a real S3 and bash (the hooks'
 * own tests in test/hooks/ cover them), so what is tested here is the figure it prints, and that loading the module
 * runs nothing.
 */
describe("bench-hooks percentile", () => {
    it("is the nearest-rank percentile: the smallest value with at least p% of the values at or below it", () => {
        const tens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert.equal(percentile(tens, 50), 5);
        assert.equal(percentile(tens, 90), 9);
        assert.equal(percentile(tens, 91), 10);
        assert.equal(percentile(tens, 100), 10);
        assert.equal(percentile(tens, 1), 1);
    });

    it("gives the only value of one run, and reads the order it is given (the caller sorts)", () => {
        assert.equal(percentile([42], 50), 42);
        assert.equal(percentile([42], 90), 42);
        assert.equal(percentile([3, 30, 300], 50), 30);
    });
});
