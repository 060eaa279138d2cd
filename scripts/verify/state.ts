import * as pulumi from "@pulumi/pulumi";
import { PlanMocks } from "../plan/mocks";

/*
 * The deployed stack as `pulumi stack export` writes it (its `deployment.resources`: urn, type, id, outputs), read
 * without decrypting anything: a secret output stays the string "[secret]". The drift verifier needs from it what
 * only the cloud assigned (bucket names, the tokens' UUIDs, the ETag each object had when Pulumi wrote it) and
 * feeds it to the program, so that the content the program computes is the content the stack deployed.
 */

/** One resource of the stack's state. */
export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly id: string;
    /** Outputs with every secret replaced by "[secret]". */
    readonly outputs: Readonly<Record<string, unknown>>;
}

/**
 * The SDK's wire signature of a secret, as `pulumi stack export` writes one (encrypted): exported by its runtime
 * (@pulumi/pulumi 3.276.0 runtime/rpc.d.ts specialSigKey, specialSecretSig).
 */
const { specialSigKey: SIG_KEY, specialSecretSig: SECRET_SIG } = pulumi.runtime;

function hideSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(hideSecrets);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return "[secret]";
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, hideSecrets(v)]));
}

/** The resources of a `pulumi stack export` document, by URN. Throws on a document of another shape. */
export function parseStackExport(text: string): Map<string, StateResource> {
    const doc = JSON.parse(text) as { deployment?: { resources?: unknown } };
    const resources = doc.deployment?.resources;
    if (!Array.isArray(resources)) throw new Error("not a `pulumi stack export` document (no deployment.resources)");
    const out = new Map<string, StateResource>();
    for (const r of resources as Record<string, unknown>[]) {
        if (typeof r.urn !== "string" || typeof r.type !== "string") continue;
        out.set(r.urn, {
            urn: r.urn,
            type: r.type,
            id: typeof r.id === "string" ? r.id : "",
            outputs: (hideSecrets(r.outputs ?? {}) as Record<string, unknown>) ?? {},
        });
    }
    return out;
}

/** The AWS account of the stack: the first account id in an IAM ARN of its state, if any. */
export function accountIdOf(state: ReadonlyMap<string, StateResource>): string | undefined {
    for (const r of state.values()) {
        const match = /arn:aws:iam::(\d{12}):/.exec(JSON.stringify(r.outputs));
        if (match) return match[1];
    }
    return undefined;
}

/**
 * Mocks that answer each resource with its state (id and outputs, on top of what the plan's mocks compute), so the
 * program sees the real bucket names and ids, and `getCallerIdentity` with the stack's account. A resource the state
 * does not hold (not deployed yet) gets the plan's mock outputs. The program's resources are told apart by type and
 * name (`<type>::<name>`, unique in this program: every child name derives from its component's).
 */
export class StateMocks implements pulumi.runtime.Mocks {
    private readonly byTypeName = new Map<string, StateResource>();
    private readonly accountId: string | undefined;
    private planMocks: PlanMocks | undefined;

    constructor(state: ReadonlyMap<string, StateResource>) {
        for (const r of state.values())
            this.byTypeName.set(`${r.type}::${r.urn.slice(r.urn.lastIndexOf("::") + 2)}`, r);
        this.accountId = accountIdOf(state);
    }

    /** The plan's mocks, made once the run's config is set (they read `pulumi:disable-default-providers`). */
    private get plan(): PlanMocks {
        this.planMocks ??= new PlanMocks();
        return this.planMocks;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const planned = this.plan.newResource(args);
        const deployed = this.byTypeName.get(`${args.type}::${args.name}`);
        if (deployed === undefined) return planned;
        const outputs = Object.fromEntries(Object.entries(deployed.outputs).filter(([, v]) => v !== "[secret]"));
        return { id: deployed.id || planned.id, state: { ...planned.state, ...outputs } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const result = this.plan.call(args);
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity" && this.accountId !== undefined)
            return { ...result, accountId: this.accountId, id: this.accountId };
        return result;
    }
}
