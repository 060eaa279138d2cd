import { ConfigIssue, suggestion } from "../config/issues";
import { PlatformConfig } from "../config/schema";

/**
 * The deploy roles' cross-references and trust rules, each problem naming its config path:
 * - a Buildkite trust names a declared pipeline;
 * - a `deploy` role's pipeline is alone in its cluster (a job of any pipeline of a cluster can target any queue of
 *   it, so another pipeline's job could reach the agents that run `pulumi up`) and builds no pull requests (a pull
 *   request build of a branch named like the trusted one would carry the same `ref` in its token's subject);
 * - a GitHub Actions trust (pull requests) only ever gets `preview` access;
 * - role names are unique.
 */
export function checkDeployRoles(config: PlatformConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
    const seen = new Map<string, number>();
    config.deployRoles.forEach((role, i) => {
        const path = (...rest: (string | number)[]) => ["deployRoles", i, ...rest];
        const first = seen.get(role.name);
        if (first !== undefined)
            issues.push({
                path: path("name"),
                message: `duplicate role name "${role.name}" (first declared at index ${first})`,
                fix: "give each role a unique name",
            });
        else seen.set(role.name, i);
        if (role.githubActions !== undefined && role.access !== "preview")
            issues.push({
                path: path("access"),
                message: `role "${role.name}" is assumed by pull request workflows, whose code is the pull request's, but has ${role.access} access`,
                fix: "give pull request workflows only access: preview; deploy from the Buildkite deploy pipeline",
            });
        const trust = role.buildkite;
        if (trust === undefined) return;
        const pipeline = bySlug.get(trust.pipeline);
        if (pipeline === undefined) {
            issues.push({
                path: path("buildkite", "pipeline"),
                message: `no pipeline "${trust.pipeline}"${suggestion(trust.pipeline, [...bySlug.keys()])}`,
                fix: "name a pipeline declared under ci-platform:pipelines",
                unknownName: trust.pipeline,
            });
            return;
        }
        // A read role decrypts every agent token (the drift check): kept apart like a deploy role.
        if (role.access === "preview") return;
        const neighbours = config.pipelines.filter((p) => p.cluster === pipeline.cluster && p.slug !== pipeline.slug);
        if (neighbours.length > 0)
            issues.push({
                path: path("buildkite", "pipeline"),
                message: `deploy role "${role.name}" trusts pipeline "${pipeline.slug}", whose cluster "${pipeline.cluster}" also runs ${neighbours.map((p) => `"${p.slug}"`).join(", ")}: their jobs can target the queues whose agents assume the role`,
                fix: `move pipeline "${pipeline.slug}" into a cluster of its own (and its fleet with it)`,
            });
        if (pipeline.provider.buildPullRequests)
            issues.push({
                path: path("buildkite", "pipeline"),
                message: `deploy role "${role.name}" trusts pipeline "${pipeline.slug}", which builds pull requests: a pull request's code would run on the branch the role trusts`,
                fix: `set provider.buildPullRequests: false on pipeline "${pipeline.slug}"`,
            });
    });
    return issues;
}
