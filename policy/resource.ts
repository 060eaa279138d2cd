/*
 * The resource record every rule reads, and small helpers for reading its inputs. The same record comes from two
 * places: the offline plan's JSON (`scripts/plan.ts`), and the Pulumi engine when the pack runs under
 * `pulumi preview --policy-pack policy` (see pack.ts, which converts the engine's arguments into this shape).
 */

/** How the offline plan writes every secret value, at any depth (scripts/plan/model.ts uses these two). */
export const SECRET = "[secret]";

/** How this pack writes a value that is not known yet (a real preview of a resource that does not exist yet). */
export const UNKNOWN = "[unknown]";

/** One resource the program declares: the shape of an entry in the offline plan's `resources`. */
export interface PlanResource {
    /** The resource's URN. */
    readonly urn: string;
    /** The type token, e.g. `aws:s3/bucket:Bucket`. */
    readonly type: string;
    /** The logical name the program gave it. */
    readonly name: string;
    /** The inputs the program declared; secrets are the string `"[secret]"`, unknowns `"[unknown]"`. */
    readonly inputs: Readonly<Record<string, unknown>>;
    /** Whether the resource is protected from deletion. */
    readonly protect?: boolean;
    /** Whether deleting the resource from the program leaves the cloud resource in place. Undefined when not known. */
    readonly retainOnDelete?: boolean;
    /** URN of the parent resource, or null. */
    readonly parent?: string | null;
    /** URN of the provider resource that manages it, or null for the default provider. */
    readonly provider?: string | null;
    /** URNs of the resources it depends on (explicit `dependsOn` and the resources its inputs came from). */
    readonly dependsOn?: readonly string[];
}

/** A value the policies cannot look inside: a secret (offline plan) or an unknown (preview). */
export function isOpaque(value: unknown): boolean {
    return value === SECRET || value === UNKNOWN;
}

/** A plain object, not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` inside `value`, or undefined. Arrays are read through their first element (Terraform blocks). */
export function at(value: unknown, ...path: string[]): unknown {
    let current: unknown = value;
    for (const key of path) {
        if (Array.isArray(current)) current = current[0];
        if (!isRecord(current)) return undefined;
        current = current[key];
    }
    return current;
}

/** The elements of a Terraform block list, or of a single object given in its place. */
export function blocks(value: unknown): Record<string, unknown>[] {
    if (Array.isArray(value)) return value.filter(isRecord);
    return isRecord(value) ? [value] : [];
}

/** A non-empty string (an unknown or secret value counts: something is set). */
export function isSet(value: unknown): boolean {
    return typeof value === "string" && value.trim() !== "";
}

/** true, or the strings "true"/"1" (CloudFormation parameters and some provider inputs are strings). */
export function isTrue(value: unknown): boolean {
    return value === true || value === "true" || value === "1";
}

/**
 * A JSON document given either as a string (what `JSON.stringify` and `aws.iam.getPolicyDocument` produce) or as an
 * object. Returns undefined for an opaque or unparsable value.
 */
export function jsonDocument(value: unknown): Record<string, unknown> | undefined {
    if (isRecord(value)) return value;
    if (typeof value !== "string" || isOpaque(value)) return undefined;
    try {
        const parsed: unknown = JSON.parse(value);
        return isRecord(parsed) ? parsed : undefined;
    } catch {
        return undefined;
    }
}

/** A field that may hold one value or a list of them, as a list. */
export function asList(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** A CloudFormation stack's `parameters` input, or an empty record when it has none (or it is opaque). */
export function stackParameters(resource: PlanResource): Record<string, unknown> {
    const value = resource.inputs.parameters;
    return isRecord(value) ? value : {};
}
