import type { PlanResource } from "../../../policy/resource";
import { cachedPlan } from "../../fixtures/plans";

/** A resource of the plan that tests may change. */
export type Editable = PlanResource & { inputs: Record<string, unknown>; dependsOn?: string[] };

/** A fresh deep copy of the prod stack's offline plan resources (the plan itself is built once per process). */
export async function prodResources(): Promise<Editable[]> {
    return (await cachedPlan({ stack: "prod" })).resources as readonly PlanResource[] as Editable[];
}

/** The resource whose name is `name` (and type, when given); throws when absent. */
export function named(resources: readonly Editable[], name: string, type?: string): Editable {
    const found = resources.find((r) => r.name === name && (type === undefined || r.type === type));
    if (!found) throw new Error(`no resource named ${name}`);
    return found;
}

/** The secrets object with key `key` in the bucket of `region`. */
export function secretObject(resources: readonly Editable[], region: string, key: string): Editable {
    return named(resources, `secrets-${region}-secret-${key}`, "aws:s3/bucketObjectv2:BucketObjectv2");
}

/** `resources` without the ones `drop` matches. */
export function without(resources: Editable[], drop: (r: Editable) => boolean): Editable[] {
    return resources.filter((r) => !drop(r));
}

/**
 * A copy of `template`, a secrets object of `region`'s bucket (so the copy has that bucket as parent and that region's
 * provider), under another key, as the program would declare it.
 */
export function copyObject(
    template: Editable,
    region: string,
    key: string,
    metadata?: Record<string, string>,
): Editable {
    const name = `secrets-${region}-secret-${key}`;
    const copy = structuredClone(template);
    return {
        ...copy,
        urn: `${template.urn.slice(0, template.urn.lastIndexOf("::"))}::${name}`,
        name,
        inputs: { ...copy.inputs, key, ...(metadata ? { metadata } : { metadata: undefined }) },
    };
}
