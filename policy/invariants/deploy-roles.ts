/*
 * Deploy credentials live apart: a role that Buildkite jobs assume with their OIDC token, and that can change the
 * cloud, admits only the jobs of one named pipeline whose cluster runs no other pipeline, on one named branch.
 *
 * Why the cluster: a job of any pipeline of a cluster can target any queue of that cluster (an uploaded step sets
 * `agents: queue=...`; buildkite/docs pages/pipelines/security/clusters: a pipeline's jobs run on its cluster's
 * agents), so a deploy step's agents are only as private as its cluster. Why the token's subject: it is written by
 * Buildkite from the job, `organization:ORG:pipeline:SLUG:ref:REF:commit:SHA:step:KEY` (buildkite/docs
 * pages/agent/cli/reference/oidc.md, "Claims"), so a wildcard where SLUG or REF stands lets other pipelines' or other
 * branches' jobs (pull requests included) take the role. Why the session tags: the subject is the same for a build a
 * push started and one created through the API or the UI on the same branch, at any commit (a Buildkite API token with
 * write_builds is enough), so a deploy role also requires the `build_source` claim to be `webhook` and the
 * `pipeline_id` claim to be the pipeline's UUID, both passed as AWS session tags (buildkite/docs
 * pages/agent/cli/reference/oidc.md, "AWS session tags"); what then guards the role is who can push to the branch.
 *
 * Read from the plan alone: each `aws:iam/role:Role`'s trust policy, the managed policies attached to it
 * (`RolePolicyAttachment`) and its inline policies (`RolePolicy`, `inlinePolicies`), and the pipelines' clusters.
 */
import { type Platform, readPlatform } from "../platform";
import { asList, at, blocks, isRecord, jsonDocument, type PlanResource } from "../resource";
import type { StackFinding, StackRule } from "../rules";

/** The condition-key prefix of Buildkite's OIDC tokens (issuer https://agent.buildkite.com). */
export const BUILDKITE_OIDC_HOST = "agent.buildkite.com";

/** Managed policies that only read: a role with these alone is not a deploy role. */
export const READ_ONLY_POLICIES = new Set([
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
]);

/** Actions that only read: `Get*`, `List*`, `Describe*` of any service, and `kms:Decrypt` (the read role refreshes
 * SecureString parameters with it: components/access/policy-documents.ts readRoleTokenKeysPolicy). */
const READ_ONLY_ACTION = /^(?:[a-z0-9-]+:(?:Get|List|Describe)[A-Za-z*]*|kms:Decrypt)$/;

/** The subjects a role's trust policy admits from Buildkite tokens, or undefined when it trusts none. */
export function buildkiteSubjects(role: PlanResource): { subjects: string[]; audience: boolean } | undefined {
    const doc = jsonDocument(role.inputs.assumeRolePolicy);
    if (doc === undefined) return undefined;
    let trusted = false;
    let audience = true;
    const subjects: string[] = [];
    for (const s of asList(doc.Statement)) {
        if (!isRecord(s) || s.Effect !== "Allow") continue;
        const federated = asList(at(s, "Principal", "Federated")).map(String);
        if (!federated.some((f) => f.endsWith(`oidc-provider/${BUILDKITE_OIDC_HOST}`) || f === BUILDKITE_OIDC_HOST))
            continue;
        trusted = true;
        const conditions = isRecord(s.Condition) ? s.Condition : {};
        const values = (key: string) =>
            Object.values(conditions).flatMap((c) => (isRecord(c) ? asList(c[key]).map(String) : []));
        const subs = values(`${BUILDKITE_OIDC_HOST}:sub`);
        // A statement with no subject condition admits every job of every pipeline of every organisation.
        subjects.push(...(subs.length > 0 ? subs : ["*"]));
        if (!values(`${BUILDKITE_OIDC_HOST}:aud`).includes("sts.amazonaws.com")) audience = false;
    }
    return trusted ? { subjects, audience } : undefined;
}

/** The build sources a deploy role may admit: a push the repository's webhook reported. */
export const DEPLOY_BUILD_SOURCES: ReadonlySet<string> = new Set(["webhook"]);

/**
 * The session-tag problems of each statement of a role's trust policy that admits Buildkite tokens: it must require
 * `aws:RequestTag/build_source` to be `webhook` (StringEquals), and `aws:RequestTag/pipeline_id` to be one pipeline
 * UUID. The subject alone does not tell a push from a build anyone with an API token or the Build permission created
 * (`build_source` `api`, `ui`; or `trigger_job` from another pipeline's trigger step): it has the same subject
 * (buildkite/docs pages/agent/cli/reference/oidc.md, "Claims": `build_source`; "AWS session tags"). A statement
 * without these conditions lets such a build upload a step with the trusted key and take the role.
 */
export function sessionTagProblems(role: PlanResource): string[] {
    const doc = jsonDocument(role.inputs.assumeRolePolicy);
    if (doc === undefined) return [];
    const problems: string[] = [];
    for (const s of asList(doc.Statement)) {
        if (!isRecord(s) || s.Effect !== "Allow") continue;
        const federated = asList(at(s, "Principal", "Federated")).map(String);
        if (!federated.some((f) => f.endsWith(`oidc-provider/${BUILDKITE_OIDC_HOST}`) || f === BUILDKITE_OIDC_HOST))
            continue;
        const conditions = isRecord(s.Condition) ? s.Condition : {};
        const equals = isRecord(conditions.StringEquals) ? conditions.StringEquals : {};
        // Only StringEquals pins a value; a tag under any other operator (StringLike, ...IfExists) is not a pin.
        const pinned = (key: string) => asList(equals[key]).map(String);
        const elsewhere = (key: string) =>
            Object.entries(conditions).some(([op, c]) => op !== "StringEquals" && isRecord(c) && key in c);
        const sources = pinned("aws:RequestTag/build_source");
        if (sources.length === 0 || elsewhere("aws:RequestTag/build_source"))
            problems.push(
                'does not require the session tag build_source = "webhook": a build created through the API or the UI (or by a trigger step) on the trusted branch, at any commit, carries the same subject and can take it. Fix: allow sts:TagSession and condition StringEquals aws:RequestTag/build_source on "webhook" (and request the tag: buildkite-agent oidc request-token --aws-session-tag build_source,pipeline_id).',
            );
        else {
            const bad = sources.filter((v) => !DEPLOY_BUILD_SOURCES.has(v));
            if (bad.length > 0)
                problems.push(
                    `admits builds whose source is ${bad.map((v) => `"${v}"`).join(", ")}: whoever can create such a build on the trusted branch takes it. Fix: admit build_source "webhook" only.`,
                );
        }
        const ids = pinned("aws:RequestTag/pipeline_id");
        if (ids.length !== 1 || /[*?]/.test(ids[0]) || elsewhere("aws:RequestTag/pipeline_id"))
            problems.push(
                "does not require the session tag pipeline_id to be one pipeline's UUID: a pipeline deleted and recreated under the trusted slug would take it. Fix: condition StringEquals aws:RequestTag/pipeline_id on the pipeline's uuid.",
            );
    }
    return problems;
}

/** Whether a role can do more than read: a managed policy outside {@link READ_ONLY_POLICIES}, or an inline Allow of an
 * action that is not read-only. */
export function canWrite(role: PlanResource, resources: readonly PlanResource[]): boolean {
    const name = typeof role.inputs.name === "string" ? role.inputs.name : role.name;
    const mine = (r: PlanResource) => r.inputs.role === name;
    const managed = [
        ...asList(role.inputs.managedPolicyArns).map(String),
        ...resources
            .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && mine(r))
            .map((r) => String(r.inputs.policyArn)),
    ];
    const inline = [
        ...blocks(role.inputs.inlinePolicies).map((p) => p.policy),
        ...resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && mine(r)).map((r) => r.inputs.policy),
    ];
    const allows = inline.some((p) =>
        asList(jsonDocument(p)?.Statement).some(
            (s) =>
                isRecord(s) &&
                s.Effect === "Allow" &&
                (s.NotAction !== undefined || !asList(s.Action).every((a) => READ_ONLY_ACTION.test(String(a)))),
        ),
    );
    return allows || managed.some((arn) => !READ_ONLY_POLICIES.has(arn));
}

/** `organization:ORG:pipeline:SLUG:ref:REF:...` → its parts, or undefined when the subject has another shape. */
function parseSubject(subject: string): { pipeline: string; ref: string } | undefined {
    const m = /^organization:[^:]+:pipeline:([^:]*):ref:([^:]*):commit:[^:]*:step:[^:]*$/.exec(subject);
    return m ? { pipeline: m[1], ref: m[2] } : undefined;
}

const wild = (s: string) => /[*?]/.test(s);

/** The problems of one Buildkite-trusted deploy role. */
function deployRoleProblems(subjects: readonly string[], platform: Platform): string[] {
    const problems: string[] = [];
    for (const subject of [...new Set(subjects)].sort()) {
        const parts = parseSubject(subject);
        if (parts === undefined || wild(parts.pipeline)) {
            problems.push(
                `admits the Buildkite subject "${subject}", which names no single pipeline: any pipeline's job could take it. Fix: condition agent.buildkite.com:sub on organization:ORG:pipeline:SLUG:ref:refs/heads/BRANCH:commit:*:step:KEY.`,
            );
            continue;
        }
        if (wild(parts.ref))
            problems.push(
                `admits "${subject}": any branch of pipeline "${parts.pipeline}" (a pull request's branch too). Fix: name the one branch that deploys, e.g. ref:refs/heads/main.`,
            );
        const pipeline = platform.pipelines.find((p) => p.slug === parts.pipeline);
        if (pipeline === undefined) {
            problems.push(
                `admits jobs of pipeline "${parts.pipeline}", which this stack does not declare, so nothing here shows where its jobs run. Fix: trust a pipeline of this stack, in a cluster of its own.`,
            );
            continue;
        }
        const neighbours = platform.pipelines.filter((p) => p.cluster === pipeline.cluster && p.slug !== pipeline.slug);
        if (pipeline.cluster === undefined || neighbours.length > 0)
            problems.push(
                `admits jobs of pipeline "${pipeline.slug}", whose cluster ${pipeline.cluster === undefined ? "is not declared" : `"${pipeline.cluster}" also runs ${neighbours.map((p) => `"${p.slug}"`).join(", ")}`}: their jobs can target the queues where the deploy steps run. Fix: give pipeline "${pipeline.slug}" a cluster (and fleet) of its own.`,
            );
    }
    return problems;
}

export const deployRolesApart: StackRule = {
    kind: "stack",
    name: "deploy-roles-apart",
    description:
        "A role that Buildkite jobs assume through OIDC and that can change the cloud admits only the jobs of one named pipeline (by slug and UUID), on a named branch, in builds a push started, whose cluster runs no other pipeline.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: [
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "buildkite:Pipeline/pipeline:Pipeline",
    ],
    remediation:
        "Condition the role's trust on agent.buildkite.com:aud = sts.amazonaws.com, agent.buildkite.com:sub = organization:ORG:pipeline:SLUG:ref:refs/heads/BRANCH:commit:*:step:KEY and the session tags aws:RequestTag/build_source = webhook and aws:RequestTag/pipeline_id = the pipeline's UUID, and run that pipeline alone in its own cluster and fleet (ci-platform:deployRoles, README \"Deploy roles\").",
    check(resources): StackFinding[] {
        const roles = resources.filter((r) => r.type === "aws:iam/role:Role");
        if (roles.length === 0) return [];
        const platform = readPlatform(resources);
        return roles.flatMap((role): StackFinding[] => {
            const trust = buildkiteSubjects(role);
            if (trust === undefined || !canWrite(role, resources)) return [];
            const problems = [...deployRoleProblems(trust.subjects, platform), ...sessionTagProblems(role)];
            if (!trust.audience)
                problems.push(
                    "does not require agent.buildkite.com:aud = sts.amazonaws.com, so a token requested for another audience (and handed to that service) could be replayed here. Fix: add that StringEquals condition.",
                );
            return problems.map((p) => ({ urn: role.urn, message: `Deploy role "${role.name}" ${p}` }));
        });
    },
};
