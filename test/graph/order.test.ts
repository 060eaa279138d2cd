import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dependencyOrder, findCycle } from "../../components/graph/order";

const edgesOf = (map: Record<string, string[]>) => (node: string) => map[node] ?? [];

describe("findCycle", () => {
    it("finds nothing in an acyclic graph", () => {
        assert.equal(findCycle(["a", "b", "c"], edgesOf({ a: ["b"], b: ["c"] })), undefined);
    });

    it("returns the members in edge order, starting at the smallest name", () => {
        assert.deepEqual(findCycle(["z", "m", "b"], edgesOf({ z: ["m"], m: ["b"], b: ["z"] })), ["b", "z", "m"]);
    });

    it("reports a node that points at itself", () => {
        assert.deepEqual(findCycle(["a", "b"], edgesOf({ b: ["b"] })), ["b"]);
    });
});

describe("dependencyOrder", () => {
    it("puts every node after what it waits for, the earlier listed first among ready nodes", () => {
        const waits = edgesOf({ c: ["a"], b: ["c"] });
        assert.deepEqual(dependencyOrder(["b", "c", "a", "d"], waits), { order: ["a", "c", "b", "d"], left: [] });
        assert.deepEqual(dependencyOrder(["d", "a", "c", "b"], waits), { order: ["d", "a", "c", "b"], left: [] });
    });

    it("ignores names that are not nodes", () => {
        assert.deepEqual(dependencyOrder(["a"], edgesOf({ a: ["elsewhere"] })), { order: ["a"], left: [] });
    });

    it("leaves out what a cycle holds, and what waits on it", () => {
        const waits = edgesOf({ a: ["b"], b: ["a"], c: ["a"] });
        assert.deepEqual(dependencyOrder(["a", "b", "c", "d"], waits), { order: ["d"], left: ["a", "b", "c"] });
    });
});
