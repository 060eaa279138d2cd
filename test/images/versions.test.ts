import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    bumpImage,
    bumpVersion,
    compareVersions,
    formatVersions,
    parseCalendarVersion,
    parseVersionRecords,
    parseVersions,
    parseVersionsText,
} from "../../components/images/versions";

describe("calendar versions", () => {
    it("accepts YYYY.MM.N and rejects everything else", () => {
        assert.deepEqual(parseCalendarVersion("2026.11.1"), { year: 2026, month: 11, release: 1 });
        assert.deepEqual(parseCalendarVersion("2027.01.12"), { year: 2027, month: 1, release: 12 });
        for (const bad of [
            "2026.11",
            "2026.1.1",
            "2026.13.1",
            "2026.00.1",
            "2026.11.0",
            "2026.11.01",
            "v2026.11.1",
            "2026-11-01",
            "latest",
            "",
        ])
            assert.equal(parseCalendarVersion(bad), undefined, bad);
    });

    it("orders versions by year, month, then release", () => {
        assert.ok(compareVersions("2026.11.2", "2026.11.10") < 0);
        assert.ok(compareVersions("2026.12.1", "2026.11.9") > 0);
        assert.ok(compareVersions("2027.01.1", "2026.12.5") > 0);
        assert.equal(compareVersions("2026.11.3", "2026.11.3"), 0);
    });
});

describe("bumpVersion", () => {
    it("increments the release within the same month", () => {
        assert.equal(bumpVersion("2026.11.1", "2026-11-21"), "2026.11.2");
        assert.equal(bumpVersion("2026.11.9", "2026-11-30"), "2026.11.10");
    });

    it("restarts at 1 in a later month or year", () => {
        assert.equal(bumpVersion("2026.11.4", "2026-12-01"), "2026.12.1");
        assert.equal(bumpVersion("2026.12.4", "2027-01-02"), "2027.01.1");
    });

    it("never goes backwards when the clock is behind the current version", () => {
        assert.equal(bumpVersion("2027.03.2", "2026-11-21"), "2027.03.3");
    });

    it("gives today's first release when there is no version yet", () => {
        assert.equal(bumpVersion(undefined, "2026-02-05"), "2026.02.1");
    });

    it("rejects a bad date or a bad current version", () => {
        assert.throws(() => bumpVersion("2026.11.1", "21/11/2026"), /not a date/);
        assert.throws(() => bumpVersion("2026.11.1", "2026-13-01"), /not a date/);
        assert.throws(() => bumpVersion("11.1", "2026-11-21"), /not a calendar version/);
    });

    it("always yields a valid version strictly newer than the current one (property)", () => {
        const version = fc
            .record({
                y: fc.integer({ min: 2000, max: 2999 }),
                m: fc.integer({ min: 1, max: 12 }),
                n: fc.integer({ min: 1, max: 500 }),
            })
            .map(({ y, m, n }) => `${y}.${String(m).padStart(2, "0")}.${n}`);
        const date = fc
            .record({
                y: fc.integer({ min: 2000, max: 2999 }),
                m: fc.integer({ min: 1, max: 12 }),
                d: fc.integer({ min: 1, max: 28 }),
            })
            .map(({ y, m, d }) => `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`);
        fc.assert(
            fc.property(version, date, (current, today) => {
                const next = bumpVersion(current, today);
                assert.ok(parseCalendarVersion(next), next);
                assert.ok(compareVersions(next, current) > 0, `${current} -> ${next}`);
                assert.equal(bumpVersion(current, today), next, "deterministic");
            }),
        );
    });
});

describe("versions.json", () => {
    it("parses pins and reports every bad one", () => {
        assert.deepEqual(parseVersions({ a: "2026.11.1" }), { ok: true, value: { a: "2026.11.1" } });
        const bad = parseVersions({ a: "2026.11.1", b: "1.2.3", c: 7 });
        assert.equal(bad.ok, false);
        assert.deepEqual(
            bad.error?.map((p) => p.image),
            ["b", "c"],
        );
        assert.match(bad.error?.[0].message ?? "", /pins "b" to "1\.2\.3", which is not a calendar version/);
        assert.equal(parseVersions([]).ok, false);
        assert.match(parseVersionsText("{ nope").error?.[0].message ?? "", /not valid JSON/);
    });

    const D1 = `sha256:${"1".repeat(64)}`;
    const D2 = `sha256:${"2".repeat(64)}`;

    it("reads entries with their digest, and the older bare form without one", () => {
        assert.deepEqual(parseVersionRecords({ a: { version: "2026.11.1", digest: D1 }, b: "2026.10.2" }), {
            ok: true,
            value: {
                a: { version: "2026.11.1", digest: D1, history: [] },
                b: { version: "2026.10.2", digest: undefined, history: [] },
            },
        });
        assert.deepEqual(parseVersions({ a: { version: "2026.11.1", digest: D1 } }), {
            ok: true,
            value: { a: "2026.11.1" },
        });
        const bad = parseVersionRecords({
            a: { version: "2026.11.1", digest: "md5:x" },
            b: { version: "2026.11.1" },
            c: { version: "2026.11.1", digest: D1, extra: 1 },
        });
        assert.deepEqual(
            bad.error?.map((p) => p.image),
            ["a", "b", "c"],
        );
    });

    it("formats with sorted keys, version and history (digest only without one), two spaces, a trailing newline", () => {
        const e = { version: "2026.11.1", digest: D1, variants: ["py3.12"], sourceUrl: "https://x" };
        assert.equal(
            formatVersions({
                z: { version: "2026.11.1", digest: D1, history: [e] },
                a: { version: "2026.10.2", digest: D2, history: [] },
            }),
            `{\n  "a": {\n    "version": "2026.10.2",\n    "digest": "${D2}"\n  },\n  "z": {\n    "version": "2026.11.1",\n    "history": [\n      {\n        "version": "2026.11.1",\n        "digest": "${D1}",\n        "variants": [\n          "py3.12"\n        ],\n        "sourceUrl": "https://x"\n      }\n    ]\n  }\n}\n`,
        );
    });

    it("bumps one image, appending the new version to its history, and leaves the others alone", () => {
        const old = { version: "2026.11.1", digest: D1, variants: ["py3.12"], sourceUrl: "https://a" };
        const before = {
            "buildkite-test": { version: "2026.11.1", digest: D1, history: [old] },
            "deb-builder": { version: "2026.10.3", digest: D1, history: [] },
        };
        const inputs = { digest: D2, variants: ["py3.12", "py3.13"], sourceUrl: "https://b" };
        const result = bumpImage(before, "buildkite-test", "2026-11-21", inputs);
        assert.deepEqual(result, {
            records: {
                "buildkite-test": {
                    version: "2026.11.2",
                    digest: D2,
                    history: [old, { version: "2026.11.2", ...inputs }],
                },
                "deb-builder": { version: "2026.10.3", digest: D1, history: [] },
            },
            from: "2026.11.1",
            to: "2026.11.2",
        });
        assert.equal(before["buildkite-test"].history.length, 1, "input not mutated");
        assert.throws(
            () => bumpImage(before, "buildkite-test", "2026-11-21", { ...inputs, digest: "abc" }),
            /not a content digest/,
        );
    });

    it("bumps past the newest version ever pinned, even when the pin was reverted to an older one", () => {
        const e = (version: string) => ({ version, digest: D1, variants: ["a"], sourceUrl: "https://a" });
        const reverted = { x: { version: "2026.11.1", digest: D1, history: [e("2026.11.1"), e("2026.11.2")] } };
        const result = bumpImage(reverted, "x", "2026-11-21", { digest: D2, variants: ["a"], sourceUrl: "https://a" });
        assert.equal(result.to, "2026.11.3");
    });
});
