/**
 * JSON Canonicalization Scheme (RFC 8785) for the JSON values signing handles: objects, arrays, strings, finite
 * numbers, booleans and null.
 *
 * Pure module. buildkite/go-pipeline signature/sign.go `canonicalPayload` (commit fd45720, the mirror's HEAD; the
 * agent v3.137.0 go.mod pins go-pipeline v0.18.0 and gowebpki/jcs v1.0.1) marshals the values and passes them
 * through `jcs.Transform`: members sorted by their names' UTF-16 code units, no whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them (RFC 8785 §3.2.2.2, §3.2.2.3), which is what this module uses.
 */

/** A JSON value as signing sees it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/**
 * The canonical text of a JSON value (RFC 8785).
 *
 * @throws {Error} for what JSON cannot hold: a non-finite number, undefined, a function, a symbol, a bigint.
 */
export function canonicalJson(value: unknown): string {
    if (value === null) return "null";
    switch (typeof value) {
        case "boolean":
            return value ? "true" : "false";
        case "string":
            return JSON.stringify(value);
        case "number":
            if (!Number.isFinite(value)) throw new Error(`canonical JSON has no form for the number ${value}`);
            // RFC 8785 §3.2.2.3: ECMAScript's Number serialisation; -0 is written 0 (JSON.stringify does both).
            return JSON.stringify(value);
        case "object": {
            if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
            const obj = value as Record<string, unknown>;
            // The default sort compares UTF-16 code units, as RFC 8785 §3.2.3 asks.
            const keys = Object.keys(obj)
                .filter((k) => obj[k] !== undefined)
                .sort();
            return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
        }
        default:
            throw new Error(`canonical JSON has no form for a ${typeof value}`);
    }
}
