import { z } from "zod";
import { ConfigIssue, didYouMean } from "./issues";

/*
 * `ci-platform:adopt`: existing cloud resources the stack takes over instead of creating. Each entry names a resource
 * the program declares and the provider's id of the one to adopt; a stack transformation sets that resource's `import`
 * option (adopt-transform.ts), so the engine reads the existing resource into the state rather than creating a new
 * one. Where the declared inputs differ from it, a CLI before pulumi/pulumi #19339 fails the preview ("inputs to
 * import do not match the existing resource"; pulumi docs "Resource option: import", before pulumi/docs #16580) and
 * a newer one updates it within the import; an entry's `ignoreChanges` lists those inputs so the import is a plain
 * `=` on every CLI and the update is a separate, reviewed `pulumi up` once the entry is removed. Generic on purpose:
 * any resource, by logical name.
 *
 * Why it exists: ECR repositories have fixed names (`ci-platform/<image>`) and are retained on delete, so re-adding a
 * removed image or region collides with the repository left behind; adopting it takes it back, images and all. The
 * same goes for a KMS key taken back within its deletion window, or any resource dropped from the state by the
 * region-down runbook (README, "Re-adopting a retained resource").
 */

/** One entry of `ci-platform:adopt`. */
export interface AdoptEntry {
    /** The declared resource: its logical name, or `<type>::<name>` when several resources share the name. */
    readonly resource: string;
    /** The provider's id of the existing resource (ECR: the repository name; KMS key: the key id). */
    readonly id: string;
    /**
     * Input properties (the resource's Pulumi input names) whose declared value differs from the live object: set as
     * the `ignoreChanges` option beside `import`, so the import succeeds and the change waits for the next `pulumi up`
     * after the entry is removed. Pulumi docs, resource option `import`: "If the resource's inputs differ from the
     * existing resource, the import fails ... use ignoreChanges for the properties that differ".
     */
    readonly ignoreChanges?: readonly string[];
}

/** The `ci-platform:adopt` schema: the same resource named twice is an error (one of the two would be ignored). */
export const adoptSchema = z
    .array(
        z.strictObject({
            resource: z.string().regex(/^\S+$/, { error: "must be a resource's logical name or <type>::<name>" }),
            id: z.string().regex(/^\S+$/, { error: "must be the provider's id of the existing resource" }),
            ignoreChanges: z
                .array(z.string().regex(/^[A-Za-z_][\w.[\]"*]*$/, { error: "must be an input property name" }))
                .optional(),
        }),
    )
    .default([])
    .superRefine((entries, ctx) => {
        const seen = new Map<string, number>();
        entries.forEach((entry, i) => {
            const first = seen.get(entry.resource);
            if (first !== undefined)
                ctx.addIssue({
                    code: "custom",
                    path: [i, "resource"],
                    message: `must name a resource once; adopt[${first}] names "${entry.resource}" already`,
                });
            else seen.set(entry.resource, i);
        });
    });

const guess = (name: string, names: Iterable<string>): string => {
    const hint = didYouMean(name, names).trim();
    return hint ? `; ${hint}` : "";
};

/** A resource as the program constructs it: what the transformation sees. */
export interface DeclaredResource {
    readonly type: string;
    readonly name: string;
    /** A custom resource (a cloud resource with a provider), as opposed to a component. */
    readonly custom: boolean;
    /** A provider resource. */
    readonly provider: boolean;
}

/** Whether `entry` names `resource`: by logical name, or by `<type>::<name>`. */
export function entryNames(entry: Pick<AdoptEntry, "resource">, resource: Pick<DeclaredResource, "type" | "name">) {
    return entry.resource === resource.name || entry.resource === `${resource.type}::${resource.name}`;
}

/**
 * Matches declared resources against `ci-platform:adopt`. Pure: feed it every resource the program declares with
 * {@link Adopter.see}, then ask {@link Adopter.issues}.
 */
export class Adopter {
    private readonly matches: DeclaredResource[][];
    private readonly declared: DeclaredResource[] = [];

    constructor(private readonly entries: readonly AdoptEntry[]) {
        this.matches = entries.map(() => []);
    }

    /** Records a declared resource; returns the entry to import it by (its id and ignoreChanges), or undefined. */
    see(resource: DeclaredResource): AdoptEntry | undefined {
        this.declared.push(resource);
        let found: AdoptEntry | undefined;
        this.entries.forEach((entry, i) => {
            if (!entryNames(entry, resource)) return;
            this.matches[i].push(resource);
            if (resource.custom && !resource.provider) found = entry;
        });
        return found;
    }

    /** Every entry that names no declared resource, several, a component or a provider. */
    issues(): ConfigIssue[] {
        return this.entries.flatMap((entry, i): ConfigIssue[] => {
            const path = ["adopt", i, "resource"];
            const found = this.matches[i];
            if (found.length === 0) {
                const names = new Set(this.declared.filter((r) => r.custom && !r.provider).map((r) => r.name));
                return [
                    {
                        path,
                        message: `names no resource the program declares${guess(entry.resource, names)}`,
                        fix: "give the logical name of a declared resource (the last part of its URN, as `npm run plan` prints it), or remove the entry once the resource is imported",
                    },
                ];
            }
            if (found.length > 1)
                return [
                    {
                        path,
                        message: `names ${found.length} resources: ${found.map((r) => `${r.type}::${r.name}`).join(", ")}`,
                        fix: "name one as <type>::<name>",
                    },
                ];
            const [only] = found;
            if (only.provider || !only.custom)
                return [
                    {
                        path,
                        message: `names ${only.provider ? "a provider" : "a component"} (${only.type}), which has no cloud resource to import`,
                        fix: "name the resource to adopt itself, e.g. a repository or key among the component's children",
                    },
                ];
            return [];
        });
    }
}
