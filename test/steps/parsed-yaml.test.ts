import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRequire } from "node:module";
import { createYamlMemo, yamlStream } from "../../components/steps/parsed-yaml";
import { runPolicies } from "../../policy/offline";
import { cachedPlan } from "../fixtures/plans";

/*
 * components/steps/parsed-yaml.ts: one parse per distinct text, shared by the program's schema checks and the policy
 * pack, with what each reader got from `yaml` itself before.
 */

/** yaml's CommonJS exports themselves (plain properties, which the modules under test call through): a namespace
 * import would be a copy with getters. */
const yaml = createRequire(__filename)("yaml") as typeof import("yaml");

const TWO_DOCS = "steps:\n  - command: a\n---\nsteps:\n  - command: b\n";
const BROKEN = "steps:\n  - command: [a\n";

/** Whether a value and everything it holds is frozen. */
function deeplyFrozen(value: unknown): boolean {
    if (value === null || typeof value !== "object") return true;
    return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen);
}

describe("a YAML memo reads as yaml does", () => {
    it("gives every document of a stream, with parseAllDocuments' values and first errors", () => {
        const memo = createYamlMemo(1024);
        for (const text of [TWO_DOCS, BROKEN, "", "steps: []\n", "- a\n- b\n"]) {
            const expected = yaml.parseAllDocuments(text).map((d) => ({
                error: d.errors[0]?.message,
                value: d.errors.length > 0 ? undefined : (d.toJS() as unknown),
            }));
            assert.deepEqual(
                memo.stream(text).map((d) => ({ error: d.error, value: d.error === undefined ? d.value : undefined })),
                expected,
                JSON.stringify(text),
            );
        }
    });

    it("reads a text as one document as parseDocument does: several documents are an error", () => {
        const memo = createYamlMemo(1024);
        const expected = yaml.parseDocument(TWO_DOCS);
        assert.equal(memo.document(TWO_DOCS).error, expected.errors[0]?.message);
        assert.match(memo.document(TWO_DOCS).error ?? "", /multiple documents/);
        assert.deepEqual(memo.document("steps: []\n").value, { steps: [] });
        assert.equal(memo.document("").value, null);
    });

    it("returns parse's value, and throws parse's error for a text that is not one valid document", () => {
        const memo = createYamlMemo(1024);
        assert.deepEqual(memo.value("steps:\n  - wait: null\n"), { steps: [{ wait: null }] });
        assert.equal(memo.value(""), null);
        assert.throws(
            () => memo.value(BROKEN),
            (e: Error) => e.message === yaml.parseDocument(BROKEN).errors[0]?.message,
        );
        assert.throws(() => memo.value(TWO_DOCS), /multiple documents/);
    });

    it("hands out deep-frozen data, the same for the same text and apart for another", () => {
        const memo = createYamlMemo(1024);
        const a = memo.value("steps:\n  - command: a\n    env: { X: '1' }\n");
        assert.ok(deeplyFrozen(a));
        assert.throws(() => {
            (a as { steps: unknown[] }).steps.push("more");
        }, TypeError);
        assert.equal(memo.value("steps:\n  - command: a\n    env: { X: '1' }\n"), a);
        const b = memo.value("steps:\n  - command: b\n    env: { X: '1' }\n");
        assert.notEqual(b, a);
        assert.deepEqual(b, { steps: [{ command: "b", env: { X: "1" } }] });
    });

    it("keeps at most its budget of text, dropping the least recently used", () => {
        const memo = createYamlMemo(30);
        const text = (n: number) => `steps: [${n}]\n`; // 11 characters
        memo.stream(text(1));
        memo.stream(text(2));
        memo.stream(text(1)); // 1 is now the most recently used
        memo.stream(text(3)); // 33 characters: 2 goes
        assert.deepEqual(memo.size(), { texts: 2, chars: 22 });
        const parses: string[] = [];
        const original = yaml.parseAllDocuments;
        const counting = (...args: Parameters<typeof original>) => (parses.push(args[0]), original(...args));
        (yaml as { parseAllDocuments: typeof original }).parseAllDocuments = counting as typeof original;
        try {
            memo.stream(text(1));
            memo.stream(text(3));
            memo.stream(text(2));
        } finally {
            (yaml as { parseAllDocuments: typeof original }).parseAllDocuments = original;
        }
        assert.deepEqual(parses, [text(2)]);
        assert.deepEqual(memo.size(), { texts: 2, chars: 22 }, "a text over the budget is parsed but not kept");
        assert.equal(createYamlMemo(5).stream(text(1)).length, 1);
    });
});

describe("the policy pack parses each document once", () => {
    // Every call into yaml's parsers while the pack runs, by text (yaml's CommonJS exports are plain properties).
    const parsed: string[] = [];
    const names = ["parse", "parseAllDocuments", "parseDocument"] as const;
    const originals = Object.fromEntries(names.map((n) => [n, yaml[n]])) as Pick<typeof yaml, (typeof names)[number]>;
    const patch = (on: boolean) => {
        for (const name of names) {
            const original = originals[name] as (text: string, ...rest: unknown[]) => unknown;
            (yaml as Record<string, unknown>)[name] = on
                ? (text: string, ...rest: unknown[]) => (parsed.push(text), original(text, ...rest))
                : original;
        }
    };
    let resources: Awaited<ReturnType<typeof cachedPlan>>["resources"];
    before(async () => {
        resources = (await cachedPlan({ stack: "prod" })).resources;
    });
    after(() => patch(false));

    it("over the prod plan, twice: no text reaches yaml twice", () => {
        patch(true);
        try {
            runPolicies(resources);
            runPolicies(resources);
        } finally {
            patch(false);
        }
        const pipelines = resources.filter((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline");
        assert.ok(pipelines.length > 5, "the prod plan has pipelines whose steps the pack reads");
        const twice = parsed.filter((text, i) => parsed.indexOf(text) !== i);
        assert.deepEqual(
            twice.map((t) => t.slice(0, 60)),
            [],
        );
        // And what the pack read is what the memo holds: the stored steps of every pipeline.
        for (const p of pipelines)
            if (typeof p.inputs.steps === "string") assert.ok(yamlStream(p.inputs.steps).length >= 1, p.urn);
    });
});
