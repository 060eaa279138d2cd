import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations } from "../../scripts/plan/capture";
import { SENTINEL } from "./fixtures";

/** One registered resource, as the engine would see it. */
export interface Registered {
    readonly phase: string;
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** Inputs; secrets appear wrapped as `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
    readonly inputs: Record<string, unknown>;
    /** `urn::id` of the provider, or "" for the default provider. */
    readonly provider: string;
    readonly parent: string;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
}

/** The special key and value Pulumi marks a secret with in serialized properties. */
export const SECRET_SIG_KEY = pulumi.runtime.specialSigKey;
export const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** Realistic computed outputs for the resources the agents module reads from. */
function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "aws:s3/bucket:Bucket":
            return { bucket: `${name}-0a1b2c`, arn: `arn:aws:s3:::${name}-0a1b2c` };
        case "aws:kms/key:Key":
            return { keyId: `key-${name}`, arn: `arn:aws:kms:us-east-1:123456789012:key/key-${name}` };
        case "aws:iam/policy:Policy":
            return { arn: `arn:aws:iam::123456789012:policy/${name}-1234567` };
        case "aws:iam/role:Role":
            return { name: `${name}-1234567`, arn: `arn:aws:iam::123456789012:role/${name}-1234567` };
        case "buildkite:Cluster/clusterAgentToken:ClusterAgentToken":
            return { token: `${SENTINEL}:agent-token:${name}`, uuid: `uuid-${name}` };
        case "aws:cloudformation/stack:Stack":
            return { outputs: { AutoScalingGroupName: `${String(inputs.name)}-asg` } };
        default:
            return {};
    }
}

/**
 * Installs mocks that record every registration with its options (protect, retainOnDelete, parent, provider),
 * which the SDK's mock arguments leave out, through the plan's one seam into the SDK (scripts/plan/capture.ts
 * recordRegistrations), so the URNs are the engine's. `phase.value` tags the records, so one file can declare several
 * configs; `settle` waits until every registration made so far has been answered. `install` installs them: call it
 * in the file's first `before` hook, not at load, since test files share a process (scripts/test.ts) and load all
 * before any runs, each installing its own mocks.
 */
export function installMocks(): {
    registered: Registered[];
    phase: { value: string };
    settle: () => Promise<void>;
    install: () => void;
} {
    const registered: Registered[] = [];
    const phase = { value: "default" };
    let installed: { settle: () => Promise<void> } | undefined;
    const settle = () => {
        if (installed === undefined) throw new Error("installMocks: call install() before settle()");
        return installed.settle();
    };
    const install = () => {
        installed = recordRegistrations({
            project: "ci-platform",
            stack: "prod",
            mocks: {
                newResource: (args) => ({
                    id: args.custom === false ? undefined : `${args.name}-id`,
                    state: { ...args.inputs, ...outputsOf(args.type, args.name, args.inputs) },
                }),
                call: (args) => {
                    if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
                        return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/ci", userId: "AIDA" };
                    throw new Error(`Mock call not implemented: ${args.token}`);
                },
            },
            onRegister: (req, urn) =>
                registered.push({
                    phase: phase.value,
                    urn,
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    inputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
                    provider: req.getProvider(),
                    parent: req.getParent(),
                    protect: req.getProtect() ?? false,
                    retainOnDelete: req.getRetainondelete() ?? false,
                }),
        });
    };
    return { registered, phase, settle, install };
}

/** Every string in `value` that holds `needle` outside a secret, with its path. */
export function leaks(value: unknown, needle: string, at = ""): string[] {
    if (typeof value === "string") return value.includes(needle) ? [at] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => leaks(v, needle, `${at}[${i}]`));
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SECRET_SIG_KEY] === SECRET_SIG) return [];
        return Object.entries(obj).flatMap(([k, v]) => leaks(v, needle, `${at}.${k}`));
    }
    return [];
}

/** Unwraps serialized secrets (for asserting on secret contents). */
export function reveal(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(reveal);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SECRET_SIG_KEY] === SECRET_SIG) return reveal(obj.value);
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, reveal(v)]));
    }
    return value;
}

/** Whether a serialized value is a secret. */
export const isSecret = (value: unknown): boolean =>
    value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
