import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { createYamlMemo, heldYaml, seededYamlValue, yamlStream } from "../../components/steps/parsed-yaml";
import { generateSteps } from "../../components/steps";
import { PipelineDocument, renderPipeline, renderStoredPipeline } from "../../components/steps/step-model";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { syntheticOrganization } from "../../scripts/bench/synthetic";
import { mustParse, prodRawConfig } from "../fixtures/config";
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

    it("reads data freezing cannot protect (!!binary, !!set, !!omap) as yaml does, a fresh value per reader", () => {
        // yaml 2.x core tags: !!binary gives a Uint8Array (which Object.freeze refuses), !!set a Set, !!omap a Map.
        const memo = createYamlMemo(1024);
        for (const text of ["data: !!binary aGVsbG8=\n", "s: !!set { a, b }\n", "o: !!omap [ { a: 1 }, { b: 2 } ]\n"]) {
            const expected: unknown = yaml.parse(text);
            const first = memo.value(text);
            assert.deepEqual(first, expected, text);
            assert.deepEqual(memo.stream(text)[0].value, expected, text);
            assert.deepEqual(memo.document(text).value, expected, text);
            // Not shared: what one reader changes, the next does not see.
            assert.notEqual(memo.stream(text)[0].value, memo.stream(text)[0].value, text);
        }
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

describe("a seeded YAML memo: the renderers hand it the value they wrote", () => {
    const TEXT = "steps:\n  - command: a\n";

    it("gives a deep-frozen copy of the seeded value without parsing the text, members left undefined dropped", () => {
        const memo = createYamlMemo(1024);
        const value = { steps: [{ command: "a", env: undefined }] };
        memo.seed(TEXT, value);
        assert.deepEqual(memo.held(TEXT), [{ value: { steps: [{ command: "a" }] } }]);
        const read = memo.value(TEXT);
        assert.deepEqual(read, yaml.parse(TEXT));
        assert.ok(deeplyFrozen(read));
        assert.notEqual((read as { steps: unknown[] }).steps, value.steps, "a copy: the renderer's data stays its own");
        assert.ok(!Object.isFrozen(value.steps));
        assert.deepEqual(memo.stream(TEXT).length, 1);
    });

    it("keeps what it holds already, and refuses values that are not plain data (then the text is parsed)", () => {
        const memo = createYamlMemo(1024);
        memo.stream(TEXT);
        memo.seed(TEXT, { steps: [{ command: "other" }] });
        assert.deepEqual(memo.value(TEXT), { steps: [{ command: "a" }] });
        const cyclic: Record<string, unknown> = { steps: [] };
        cyclic.self = cyclic;
        for (const bad of [[1, undefined], { n: -0 }, { n: Number.NaN }, new Map(), { d: new Date(0) }, cyclic, null]) {
            const fresh = createYamlMemo(1024);
            fresh.seed(TEXT, bad);
            assert.equal(fresh.held(TEXT), undefined, String(bad));
        }
    });

    it("renderPipeline and renderStoredPipeline seed the process's memo with what they wrote", () => {
        const label = `seeded ${process.hrtime.bigint()}`;
        const doc: PipelineDocument = {
            steps: [{ kind: "command", label, commands: ["echo $HOME"], queue: "default" }],
        };
        for (const text of [renderPipeline(doc), renderStoredPipeline(doc)]) {
            const held = heldYaml(text);
            assert.ok(held !== undefined, `not seeded: ${text}`);
            assert.deepEqual(
                held.map((d) => d.value),
                [yaml.parse(text)],
            );
        }
    });

    it("seeds the stored text of a rendered document a step carries in its env, every `$` doubled", () => {
        const label = `uploaded ${process.hrtime.bigint()}`;
        const uploaded = renderPipeline({
            steps: [{ kind: "command", label, commands: ["echo $HOME $$X"], queue: "default" }],
        });
        const doc: PipelineDocument = {
            steps: [
                {
                    kind: "command",
                    label: "upload",
                    commands: ["buildkite-agent pipeline upload"],
                    queue: "default",
                    env: { DOC: uploaded },
                },
            ],
        };
        renderStoredPipeline(doc);
        const doubled = uploaded.replace(/\$/g, "$$$$");
        assert.notEqual(doubled, uploaded);
        const seeded = seededYamlValue(doubled);
        assert.ok(seeded !== undefined, "the doubled text is seeded");
        assert.deepEqual(seeded.value, yaml.parse(doubled));
        assert.match(JSON.stringify(seeded.value), /echo \$\$HOME \$\$\$\$X/);
    });

    /** Every (text, value) pair `stringify` made while `run` ran: the renderers call yaml through its exports. */
    function rendered(run: () => void): { text: string; value: unknown }[] {
        const pairs: { text: string; value: unknown }[] = [];
        const original = yaml.stringify;
        yaml.stringify = ((value: unknown, ...rest: unknown[]) => {
            const text = (original as (...a: unknown[]) => string)(value, ...rest);
            pairs.push({ text, value: structuredClone(value) });
            return text;
        }) as typeof yaml.stringify;
        try {
            run();
        } finally {
            yaml.stringify = original;
        }
        return pairs;
    }

    const root = path.join(__dirname, "../..");
    const versions = parseVersionsText(readImageFiles(root).versionsJson ?? "{}").value ?? {};
    const unprefixed = (config: Record<string, unknown>): Record<string, unknown> =>
        Object.fromEntries(
            Object.entries(config)
                .filter(([k]) => k.startsWith("ci-platform:"))
                .map(([k, v]) => [k.slice("ci-platform:".length), v]),
        );
    const stackConfig = (file: string): Record<string, unknown> =>
        unprefixed((yaml.parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config);
    // The bench's synthetic organisation, grown from prod's config as the fixture reads it (secure values replaced).
    const synthetic = (): Record<string, unknown> =>
        unprefixed(
            syntheticOrganization(
                Object.fromEntries(Object.entries(prodRawConfig()).map(([k, v]) => [`ci-platform:${k}`, v])),
                200,
            ),
        );
    const cases: [string, () => Record<string, unknown>][] = [
        ["prod", prodRawConfig],
        ["the KMS stack", () => stackConfig(path.join(root, "test/fixtures/Pulumi.kms.yaml"))],
        ["200 synthetic pipelines", synthetic],
    ];

    for (const [name, raw] of cases)
        it(`parsing each text the steps of ${name} render gives back the value seeded under it`, () => {
            const config = mustParse(raw());
            const pairs = rendered(() => generateSteps(config, stepImageResolver(config.images, versions)));
            assert.ok(pairs.length > 10, `${name} renders documents`);
            for (const { text, value } of pairs) {
                const memo = createYamlMemo(text.length);
                memo.seed(text, value);
                assert.ok(memo.held(text) !== undefined, `not seeded: ${text.slice(0, 80)}`);
                const docs = yaml.parseAllDocuments(text);
                assert.equal(docs.length, 1);
                assert.deepEqual([...docs[0].errors, ...docs[0].warnings], []);
                assert.deepEqual(memo.value(text), docs[0].toJS(), text.slice(0, 80));
            }
            // The documents steps carry in their env, as the stored text holds them (`$` doubled): seeded, and what
            // parsing the doubled text gives.
            let doubled = 0;
            for (const { text } of pairs) {
                const seeded = seededYamlValue(text.replace(/\$/g, "$$$$"));
                if (!text.includes("$") || seeded === undefined) continue;
                doubled++;
                assert.deepEqual(seeded.value, yaml.parse(text.replace(/\$/g, "$$$$")), text.slice(0, 80));
            }
            if (name === "200 synthetic pipelines") assert.ok(doubled > 10, `${doubled} doubled texts seeded`);
        });
});
