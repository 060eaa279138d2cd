import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    agentsAllowlist,
    envFileAllowedRepositories,
    renderedAllowedRepositories,
} from "../../../policy/invariants/allowlist";
import { SECRET, type PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";

/*
 * Resources shaped as the offline plan records them: per fleet, a component (ci-platform:agents:Fleet) whose children
 * are the Elastic CI Stack and either its bootstrap script (Linux) or its agent env file (Windows).
 */
const PREFIX = "urn:pulumi:test::ci-platform::";
const FLEET_TYPE = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const KOLIBRI = "^https://github[.]com/learningequality/kolibri[.]git$";

/** A bootstrap script as renderBootstrapScript renders it, trimmed to its settings block. */
const script = (allowed: string | undefined): string =>
    [
        "#!/bin/bash",
        "# >>> ci-platform:settings (rendered by renderBootstrapScript)",
        "readonly CI_PLATFORM_FLEET='linux-us-east-1'",
        ...(allowed === undefined ? [] : [`readonly CI_PLATFORM_ALLOWED_REPOSITORIES='${allowed}'`]),
        "# <<< ci-platform:settings",
        "",
    ].join("\n");

/** One fleet: its component, its stack, and the object its BootstrapScriptUrl (linux) or AgentEnvFileUrl (windows) names. */
function fleet(name: string, os: "linux" | "windows", content: unknown, keyOverride?: string): PlanResource[] {
    const component = `${PREFIX}${FLEET_TYPE}::${name}`;
    const key = `_ci-platform/bootstrap/${name}-0123456789abcdef.${os === "linux" ? "sh" : "env"}`;
    const url = `s3://secrets-us-east-1/${key}`;
    return [
        { urn: component, type: FLEET_TYPE, name, inputs: {}, parent: null },
        {
            urn: `${PREFIX}${FLEET_TYPE}$${STACK}::${name}-stack`,
            type: STACK,
            name: `${name}-stack`,
            inputs: {
                parameters:
                    os === "linux" ? { BootstrapScriptUrl: url } : { BootstrapScriptUrl: "", AgentEnvFileUrl: url },
            },
            parent: component,
        },
        {
            urn: `${PREFIX}${FLEET_TYPE}$${OBJECT}::${name}-${os === "linux" ? "bootstrap" : "agent-env"}`,
            type: OBJECT,
            name: `${name}-${os === "linux" ? "bootstrap" : "agent-env"}`,
            inputs: { bucket: "secrets-us-east-1", key: keyOverride ?? key, content },
            parent: component,
        },
    ];
}

const check = (resources: PlanResource[]) => agentsAllowlist.check(resources, { requiredTags: [] });

describe("invariant agents-allowlist", () => {
    it("is registered in the pack as mandatory", () => {
        assert.equal(
            RULES.find((r) => r.name === "agents-allowlist"),
            agentsAllowlist,
        );
        assert.equal(agentsAllowlist.enforcementLevel, "mandatory");
    });

    it("reads the list where each OS's agents get it", () => {
        assert.equal(renderedAllowedRepositories(script(KOLIBRI)), KOLIBRI);
        assert.equal(renderedAllowedRepositories("readonly CI_PLATFORM_ALLOWED_REPOSITORIES='x'\n"), undefined);
        assert.equal(envFileAllowedRepositories(`A=1\nBUILDKITE_ALLOWED_REPOSITORIES=${KOLIBRI}\n`), KOLIBRI);
    });

    it("passes fleets whose agents get anchored patterns, on Linux and Windows, and a fleet that admits nothing", () => {
        assert.deepEqual(
            check([
                ...fleet("linux-us-east-1", "linux", script(`${KOLIBRI},^git@github[.]com:dagster-io/dagster[.]git$`)),
                ...fleet("windows-us-east-1", "windows", `BUILDKITE_ALLOWED_REPOSITORIES=${KOLIBRI}\n`),
                ...fleet("idle", "linux", script("^.^$")),
            ]).map((f) => f.message),
            [],
        );
    });

    it("skips a list hidden by a secret value", () => {
        assert.deepEqual(check(fleet("linux-us-east-1", "linux", SECRET)), []);
    });

    it("flags a fleet whose agents get no list, an empty one, or an unanchored pattern", () => {
        const findings = check([
            ...fleet("none", "linux", script(undefined)),
            ...fleet("empty", "linux", script("")),
            ...fleet("loose", "windows", `BUILDKITE_ALLOWED_REPOSITORIES=${KOLIBRI},github[.]com/learningequality/\n`),
            ...fleet("elsewhere", "linux", script(KOLIBRI), "_ci-platform/bootstrap/other.sh"),
        ]);
        assert.deepEqual(
            findings.map((f) => f.urn.split("::").pop()),
            ["none-stack", "empty-stack", "loose-stack", "elsewhere-stack"],
        );
        assert.match(findings[0].message, /^Elastic CI Stack "none-stack" gives its agents no allowed-repositories/);
        assert.match(
            findings[1].message,
            /an empty allowed-repositories \(BootstrapScriptUrl object "empty-bootstrap"\)/,
        );
        assert.match(
            findings[2].message,
            /unanchored pattern\(s\) "github\[\.\]com\/learningequality\/" \(AgentEnvFileUrl object "loose-agent-env"\)/,
        );
        for (const f of findings) assert.match(f.message, /Fix: give the fleet its allow-list/);
    });
});
