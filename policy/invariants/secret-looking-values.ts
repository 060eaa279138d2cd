/*
 * Secret-looking values outside secrets. Everything under `ci-platform:secrets` and every `secure:` value stays a
 * Pulumi secret (the plan shows "[secret]"); any other input is stored in plain text in the stack's state and shown
 * by previews, the offline plan and its markdown, and most end up readable in Buildkite or AWS (a schedule's env, a
 * pipeline's env, a tag, a description). A token pasted there is leaked. Pipeline steps are judged by the mandatory
 * steps-no-credentials rule; this advisory rule looks at every other string input of every resource.
 *
 * Advisory: a shape is not proof (a documented example token, a test fixture), and the fix is the owner's (revoke,
 * move to ci-platform:secrets); the warning names where and what kind, never the value.
 */
import { findCredentials } from "../credentials";
import type { StackFinding, StackRule } from "../rules";
import { isOpaque, isRecord, type PlanResource } from "../resource";

/** One secret-looking string in a resource's inputs: its input path and the kind of credential it looks like. */
export interface SecretLookingValue {
    /** `tags.Owner`, `envs.NPM_TOKEN`, `schedules[0].env.X`; a key that itself looks like a token is `tags.<key>`. */
    readonly path: string;
    readonly kind: string;
}

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

/** Every secret-looking string among the inputs (values and keys), in input order; secrets and unknowns skipped. */
export function secretLookingValues(resource: Pick<PlanResource, "type" | "inputs">): SecretLookingValue[] {
    const found: SecretLookingValue[] = [];
    const visit = (value: unknown, path: string) => {
        if (typeof value === "string") {
            if (isOpaque(value)) return;
            for (const kind of new Set(findCredentials(value).map((f) => f.kind))) found.push({ path, kind });
        } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`));
        else if (isRecord(value))
            for (const [key, item] of Object.entries(value)) {
                const at = path === "" ? key : `${path}.${key}`;
                for (const kind of new Set(findCredentials(key).map((f) => f.kind)))
                    found.push({ path: `${path === "" ? "" : `${path}.`}<key>`, kind });
                visit(item, at);
            }
    };
    for (const [key, value] of Object.entries(resource.inputs)) {
        // A pipeline's steps are the mandatory steps-no-credentials rule's (one finding per problem).
        if (resource.type === PIPELINE && key === "steps") continue;
        visit(value, key);
    }
    return found;
}

const label = (r: Pick<PlanResource, "type" | "name">) => `${r.type.split(":").pop() ?? r.type} "${r.name}"`;

export const noSecretLookingValues: StackRule = {
    kind: "stack",
    name: "no-secret-looking-values",
    description:
        "No input outside the stack's secrets looks like a credential (a GitHub, PyPI, npm, Slack, Buildkite or AWS token, a private key): such inputs are stored and shown in plain text.",
    enforcementLevel: "advisory",
    severity: "high",
    types: [],
    remediation:
        "Revoke the credential, store it with pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.<NAME>' (or the organisation's), and refer to it as $NAME where it is used.",
    check(resources): StackFinding[] {
        // One value often reaches many resources (a tag of ci-platform:tags is on every AWS resource): one finding per
        // kind and input path, on the first resource, naming how many carry it.
        const groups = new Map<string, PlanResource[]>();
        for (const resource of resources)
            for (const { path, kind } of secretLookingValues(resource)) {
                const key = `${kind}\u0000${path}`;
                const list = groups.get(key) ?? [];
                if (!list.includes(resource)) list.push(resource);
                groups.set(key, list);
            }
        return [...groups.entries()].map(([key, carriers]) => {
            const [kind, path] = key.split("\u0000");
            const named = carriers.slice(0, 3).map(label).join(", ");
            const where =
                carriers.length === 1
                    ? named
                    : `${carriers.length} resources (${named}${carriers.length > 3 ? `, and ${carriers.length - 3} more` : ""})`;
            return {
                urn: carriers[0].urn,
                message: `${where} ${carriers.length === 1 ? "has" : "have"} a value shaped like a ${kind} in ${path}, which is not a secret: it is stored in the stack's state and shown in previews and plans in plain text. Fix: revoke it, keep it under ci-platform:secrets (pulumi config set --secret), and refer to it as an environment variable.`,
            };
        });
    },
};
