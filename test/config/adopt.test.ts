import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Adopter, adoptSchema, entryNames, type DeclaredResource } from "../../components/config/adopt";

/* `ci-platform:adopt`, the pure part: the schema and the matching of entries to declared resources. The plan's view
 * (import ids, the diff's `=`) and the provider and shared-name cases: test/plan/adopt.test.ts. */

const repo: DeclaredResource = {
    type: "aws:ecr/repository:Repository",
    name: "app-repository",
    custom: true,
    provider: false,
};
const component: DeclaredResource = {
    type: "ci-platform:images:Registry",
    name: "registry-us",
    custom: false,
    provider: false,
};
const key: DeclaredResource = { type: "aws:kms/key:Key", name: "secrets-us-key", custom: true, provider: false };

describe("adoptSchema", () => {
    it("refuses the same resource named twice, at the later entry, naming the first", () => {
        const result = adoptSchema.safeParse([
            { resource: "a", id: "1" },
            { resource: "b", id: "2" },
            { resource: "a", id: "3" },
        ]);
        assert.equal(result.success, false);
        const issues = result.error?.issues ?? [];
        assert.equal(issues.length, 1);
        assert.deepEqual(issues[0].path, [2, "resource"]);
        assert.match(issues[0].message, /must name a resource once; adopt\[0\] names "a" already/);
    });

    it("takes a <type>::<name> and an ignoreChanges path with dots, brackets and quotes", () => {
        const parsed = adoptSchema.parse([
            {
                resource: "aws:kms/key:Key::secrets-us-key",
                id: "mrk-1",
                ignoreChanges: ['tags["Name"]', "policy.Statement[0]"],
            },
        ]);
        assert.equal(parsed[0].resource, "aws:kms/key:Key::secrets-us-key");
    });
});

describe("entryNames", () => {
    it("matches by logical name or by <type>::<name>, not by type alone or a prefix", () => {
        assert.ok(entryNames({ resource: "app-repository" }, repo));
        assert.ok(entryNames({ resource: "aws:ecr/repository:Repository::app-repository" }, repo));
        assert.ok(!entryNames({ resource: "aws:ecr/repository:Repository" }, repo));
        assert.ok(!entryNames({ resource: "app" }, repo));
        assert.ok(!entryNames({ resource: "aws:kms/key:Key::app-repository" }, repo));
    });
});

describe("Adopter", () => {
    it("returns the entry (id and ignoreChanges) for the resource it names, and reports nothing then", () => {
        const entry = { resource: "app-repository", id: "ci-platform/app", ignoreChanges: ["imageTagMutability"] };
        const adopter = new Adopter([entry]);
        assert.equal(adopter.see(key), undefined);
        assert.deepEqual(adopter.see(repo), entry);
        assert.deepEqual(adopter.issues(), []);
    });

    it("an entry that names nothing: at its path, with the nearest declared cloud resource and the fix", () => {
        const adopter = new Adopter([{ resource: "app-repositry", id: "x" }]);
        for (const r of [repo, key, component]) adopter.see(r);
        const [issue, ...rest] = adopter.issues();
        assert.deepEqual(rest, []);
        assert.deepEqual(issue.path, ["adopt", 0, "resource"]);
        assert.match(issue.message, /^names no resource the program declares; did you mean "app-repository"\?$/);
        assert.match(issue.fix ?? "", /logical name of a declared resource .*npm run plan/);
    });

    it("suggests no component: only what can be imported", () => {
        const adopter = new Adopter([{ resource: "registry-uss", id: "x" }]);
        for (const r of [repo, component]) adopter.see(r);
        assert.equal(adopter.issues()[0].message, "names no resource the program declares");
    });

    it("an entry that names a component: nothing to import, name a child", () => {
        const adopter = new Adopter([{ resource: "registry-us", id: "x" }]);
        assert.equal(adopter.see(component), undefined);
        const [issue] = adopter.issues();
        assert.match(
            issue.message,
            /names a component \(ci-platform:images:Registry\), which has no cloud resource to import/,
        );
        assert.match(issue.fix ?? "", /among the component's children/);
    });

    it("reports each entry on its own, in entry order", () => {
        const adopter = new Adopter([
            { resource: "nothing", id: "1" },
            { resource: "app-repository", id: "2" },
            { resource: "registry-us", id: "3" },
        ]);
        for (const r of [repo, component]) adopter.see(r);
        assert.deepEqual(
            adopter.issues().map((i) => i.path[1]),
            [0, 2],
        );
    });
});
