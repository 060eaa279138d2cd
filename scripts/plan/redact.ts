import * as pulumi from "@pulumi/pulumi";
import { SECRET, UNKNOWN } from "./model";
import { secretVersionsIn } from "./stack-file";

/*
 * Turns the wire form of resource properties (as the Pulumi SDK serializes them for the engine) into plain JSON
 * for the plan, replacing every secret with "[secret]". The special signature keys are the SDK's wire protocol,
 * exported by its runtime (runtime/rpc.ts).
 */
const {
    specialSigKey: SIG_KEY,
    specialSecretSig: SECRET_SIG,
    specialResourceSig: RESOURCE_SIG,
    specialAssetSig: ASSET_SIG,
    specialArchiveSig: ARCHIVE_SIG,
    specialOutputValueSig: OUTPUT_SIG,
    unknownValue: UNKNOWN_VALUE,
} = pulumi.runtime;

/** Plain JSON of a serialized property value, secrets redacted. Object keys come out sorted. */
export function redact(value: unknown): unknown {
    if (value === UNKNOWN_VALUE) return UNKNOWN;
    if (Array.isArray(value)) return value.map(redact);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    switch (obj[SIG_KEY]) {
        case SECRET_SIG:
            return SECRET;
        case OUTPUT_SIG:
            if (obj.secret === true) return SECRET;
            return "value" in obj ? redact(obj.value) : UNKNOWN;
        case RESOURCE_SIG:
            return obj.urn;
        case ASSET_SIG:
        case ARCHIVE_SIG:
            return { asset: obj.path ?? obj.uri ?? (obj.text !== undefined ? "(text)" : "(archive)") };
        default:
            return Object.fromEntries(
                Object.keys(obj)
                    .sort()
                    .map((k) => [k, redact(obj[k])]),
            );
    }
}

/** Whether a serialized value holds a secret anywhere inside it. */
export function containsSecret(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(containsSecret);
    if (value === null || typeof value !== "object") return false;
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG || (obj[SIG_KEY] === OUTPUT_SIG && obj.secret === true)) return true;
    return Object.values(obj).some(containsSecret);
}

/**
 * The versions of the stack file's secrets (stack-file.ts `securePlaceholder`) that each secret of a serialized
 * value carries, by the path at which the plan shows it as "[secret]" (`content`, `parameters.Token`, `env[0]`):
 * distinct versions, sorted, joined by ",". Paths are written as diff.ts `changedPaths` writes them.
 */
export function secretVersionsOf(value: unknown): Record<string, string> {
    const out: Record<string, Set<string>> = {};
    const record = (path: string, text: string) => {
        const found = secretVersionsIn(text);
        if (found.length === 0) return;
        const key = path || "(value)";
        out[key] ??= new Set();
        for (const v of found) out[key].add(v);
    };
    const visit = (v: unknown, path: string): void => {
        if (typeof v === "string") return record(path, v);
        if (Array.isArray(v)) return v.forEach((item, i) => visit(item, `${path}[${i}]`));
        if (v === null || typeof v !== "object") return;
        const obj = v as Record<string, unknown>;
        const sig = obj[SIG_KEY];
        if (sig === SECRET_SIG || (sig === OUTPUT_SIG && obj.secret === true)) return record(path, JSON.stringify(v));
        if (sig === OUTPUT_SIG) return "value" in obj ? visit(obj.value, path) : undefined;
        if (sig !== undefined) return;
        for (const k of Object.keys(obj)) visit(obj[k], path ? `${path}.${k}` : k);
    };
    visit(value, "");
    return Object.fromEntries(
        Object.keys(out)
            .sort()
            .map((k) => [k, [...out[k]].sort().join(",")]),
    );
}
