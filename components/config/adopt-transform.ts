import * as pulumi from "@pulumi/pulumi";
import { AdoptEntry, Adopter } from "./adopt";
import { ConfigIssue } from "./issues";

/*
 * The stack transformation behind `ci-platform:adopt` (adopt.ts holds the matching, pure). A legacy stack
 * transformation (pulumi.runtime.registerStackTransformation), not a resource transform: it runs in this process as
 * each resource is constructed (@pulumi/pulumi 3.270.0 resource.js: the Resource constructor applies its parent's
 * and the stack's transformations before registering), so the offline plan's mock monitor sees the `import` option
 * exactly as the engine would; a resource transform (registerResourceTransform) runs in the engine, which the mocks
 * leave out (runtime/mocks.js hands its callbacks to the mocks unapplied).
 */

/** The adoption of one program run: the stack transformation to register first, and the check to run last. */
export interface Adoption {
    /** Sets `import` on each resource an entry names. Register it before the program declares any resource. */
    readonly transformation: pulumi.ResourceTransformation;
    /** The entries' problems, once the program has declared every resource. */
    issues(): ConfigIssue[];
}

/** The adoption of `entries` (`ci-platform:adopt`). */
export function adoption(entries: readonly AdoptEntry[]): Adoption {
    const adopter = new Adopter(entries);
    return {
        transformation: (args) => {
            const entry = adopter.see({
                type: args.type,
                name: args.name,
                // instanceof, not isInstance: the transformation runs inside the base constructor, before the
                // CustomResource constructor sets the flag isInstance reads (@pulumi/pulumi 3.270.0 resource.js).
                custom: args.resource instanceof pulumi.CustomResource,
                provider: args.resource instanceof pulumi.ProviderResource,
            });
            if (entry === undefined) return undefined;
            // The entry's ignoreChanges join any the program sets, so the import matches the live object.
            const ignore = [...new Set([...(args.opts.ignoreChanges ?? []), ...(entry.ignoreChanges ?? [])])];
            return {
                props: args.props,
                opts: { ...args.opts, import: entry.id, ...(ignore.length > 0 ? { ignoreChanges: ignore } : {}) },
            };
        },
        issues: () => adopter.issues(),
    };
}
