import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_KEYS_ENV } from "../../components/config/stack-config";
import { PlanMocks } from "./mocks";
import { PlanResource, STACK_TYPE } from "./model";
import { redact, secretVersionsOf } from "./redact";

/** What running the program under mocks produced. */
export interface CapturedProgram {
    readonly resources: PlanResource[];
    /** The stack's exported outputs, secrets redacted. */
    readonly outputs: Record<string, unknown>;
    /** Per resource URN, the versions of the stack file's secrets each secret input carries (model.ts). */
    readonly secretVersions: Record<string, Record<string, string>>;
}

/**
 * The resource monitor the SDK hands out (`pulumi.runtime.getMonitor()`, exported from runtime/settings.d.ts): under
 * setMocks it is the SDK's mock, which implements the monitor's wire interface (proto/resource_grpc_pb.d.ts
 * `IResourceMonitorClient`, the type getMonitor declares). Requests and responses are the SDK's wire messages
 * (proto/resource_pb.d.ts) with their public getters and setters, named here through that exported signature, so
 * nothing imports a deep path.
 */
type Monitor = NonNullable<ReturnType<typeof pulumi.runtime.getMonitor>>;
/** The wire methods the capture wraps: each takes a URN or answers with one. */
type Wrapped = "registerResource" | "registerResourceOutputs" | "readResource" | "invoke";
type RequestOf<K extends Wrapped> = Parameters<Monitor[K]>[0];
/** `Parameters` reads the last overload of a wire method, `(request, metadata, options, callback)`. */
type ResponseOf<K extends Wrapped> = Parameters<Parameters<Monitor[K]>[3]>[1];
type Callback<T> = (err: Error | null, resp?: T) => void;
/** The registration request (the wire message RegisterResourceRequest) as the engine would receive it. */
export type RegisterRequest = RequestOf<"registerResource">;
/** The parts of the SDK's Alias message (proto/alias_pb) the plan reads: a URN, or a spec relative to the resource. */
interface AliasMessage {
    getUrn(): string;
    hasSpec(): boolean;
    getSpec():
        | {
              getName(): string;
              getType(): string;
              getStack(): string;
              getProject(): string;
              getParenturn(): string;
              getNoparent(): boolean;
          }
        | undefined;
}

/** The @pulumi/pulumi version whose monitor {@link attachRecorder} was checked against. */
export const SDK_CHECKED = "3.276.0";

/** The wire methods wrapped, checked on the monitor before any is. */
const WRAPPED: readonly Wrapped[] = ["registerResource", "registerResourceOutputs", "readResource", "invoke"];

/**
 * The resource monitor's wire method `method`, called by the SDK as `(request, callback)` (runtime/resource.js,
 * every monitor call; the first overload of the wire signature), replaced by `wrap`, which may call the original.
 */
function wrapWire<K extends Wrapped>(
    monitor: Monitor,
    method: K,
    wrap: (
        req: RequestOf<K>,
        call: (req: RequestOf<K>, cb: Callback<ResponseOf<K>>) => void,
        cb: Callback<ResponseOf<K>>,
    ) => void,
): void {
    const wire = monitor as unknown as Record<K, (req: RequestOf<K>, cb: Callback<ResponseOf<K>>) => unknown>;
    const call = wire[method].bind(monitor);
    wire[method] = (req, cb) => wrap(req, call, cb);
}

/**
 * The engine's URNs and the mock's, both ways. The SDK's mock names a child `<parent's last type>$<type>` and a
 * child of the stack `pulumi:pulumi:Stack$<type>` (@pulumi/pulumi 3.276.0 runtime/mocks.js MockMonitor), where the
 * engine uses the parent's whole type chain and leaves the stack's out (pulumi/pulumi sdk/go/common/resource/urn/
 * urn.go `New`; the SDK's own `createUrn` in resource.js). The mock keys its records by its URN, so a URN the program
 * hands back (registerResourceOutputs, a resource got by URN) is translated to the mock's before the mock sees it.
 */
class MockUrns {
    private readonly mockOf = new Map<string, string>();
    private readonly engineOf = new Map<string, string>();
    /** The first pair of resources found sharing one mock URN, as an error for {@link recordRegistrations}' settle. */
    shared: Error | undefined;
    /** The first registration the mock refused (e.g. PlanMocks' refusal of a default provider), as an error. */
    refused: Error | undefined;

    /**
     * Records that the mock refused to register `type` `name` with `error`. The SDK only rejects that resource's
     * outputs, which nobody may await (the capture would end without it): the capture fails when it settles instead,
     * and the SDK's own rejections of it are expected ({@link expectRejectionsOf}).
     */
    refuse(type: string, name: string, error: Error): void {
        expectRejectionsOf(error);
        this.refused ??= new Error(`the plan's mock refused ${type} "${name}": ${error.message}`);
    }

    /**
     * Records that the mock calls the resource `engine` by `mock`. Two resources the engine tells apart but the mock
     * does not (children of two parents whose last types agree, with one type and name) share the mock's record: the
     * run goes on (each answered with its own engine URN) and the capture fails when it settles, naming both, rather
     * than plan with one resource's state under the other's URN.
     */
    pair(engine: string, mock: string): void {
        const other = this.engineOf.get(mock);
        if (other !== undefined && other !== engine)
            this.shared ??= new Error(
                `${other} and ${engine} share the SDK mock's URN ${mock} (it qualifies a type by its parent's last type only): ` +
                    `the plan cannot tell them apart; give one of them another name (scripts/plan/capture.ts MockUrns)`,
            );
        this.engineOf.set(mock, engine);
        this.mockOf.set(engine, mock);
    }

    /** The mock's URN for the engine's `urn` (unchanged for a resource the mock has not answered). */
    toMock(urn: string): string {
        return this.mockOf.get(urn) ?? urn;
    }
}

/** The token of the invoke the SDK gets a resource by URN with (runtime/resource.js `getResource`). */
const GET_RESOURCE = "pulumi:pulumi:getResource";

/**
 * The plan's only access to the SDK beyond the mocks' arguments, kept here and nowhere else (the agents tests share
 * it through {@link recordRegistrations}). It wraps the monitor's wire methods, through their exported signature:
 * - registerResource, to read the registration's options (parent, protect, retainOnDelete, dependencies, aliases):
 *   `MockResourceArgs` carries type, name, inputs, provider, custom, import id and transforms only
 *   (runtime/mocks.d.ts), and a resource transform sees options before the SDK fills in inherited protect,
 *   providers and the dependencies of its inputs; so the request is read as the mock receives it;
 * - registerResource and readResource, to answer with the engine's URN (`setUrn` on the response), so the program
 *   and every child's `parent` see the URN the engine would give ({@link MockUrns});
 * - registerResourceOutputs and the getResource invoke, to hand the mock its own URN back.
 * Throws, naming the version checked, when the monitor no longer has these methods; test/plan/sdk-seam.test.ts fails
 * loudly on it too.
 */
function attachRecorder(args: {
    readonly project: string;
    readonly stack: string;
    readonly beforeRegister?: (req: RegisterRequest) => void;
    readonly onRegister: (req: RegisterRequest, urn: string) => void;
}): MockUrns {
    const monitor = pulumi.runtime.getMonitor();
    const missing = WRAPPED.filter((m) => typeof (monitor as Partial<Monitor> | undefined)?.[m] !== "function");
    if (monitor === undefined || missing.length > 0)
        throw new Error(
            `@pulumi/pulumi ${sdkVersion()}'s monitor under setMocks lacks ${missing.join(", ")} (checked on ${SDK_CHECKED}); update scripts/plan/capture.ts attachRecorder`,
        );
    const urns = new MockUrns();
    const engineUrn = (req: { getParent(): string; getType(): string; getName(): string }) =>
        urnFor(args.stack, args.project, req.getParent(), req.getType(), req.getName());
    /** Puts the engine's URN `urn` on the mock's answer, which carries the mock's. */
    const answer = (urn: string, resp: { getUrn(): string; setUrn(urn: string): unknown } | undefined): void => {
        if (resp === undefined) return;
        urns.pair(urn, resp.getUrn());
        resp.setUrn(urn);
    };

    wrapWire(monitor, "registerResource", (req, call, cb) => {
        args.beforeRegister?.(req);
        call(req, (err, resp) => {
            if (err) urns.refuse(req.getType(), req.getName(), err);
            else if (resp) {
                const urn = engineUrn(req);
                answer(urn, resp);
                args.onRegister(req, urn);
            }
            cb(err, resp);
        });
    });
    wrapWire(monitor, "readResource", (req, call, cb) =>
        call(req, (err, resp) => {
            if (!err) answer(engineUrn(req), resp);
            cb(err, resp);
        }),
    );
    wrapWire(monitor, "registerResourceOutputs", (req, call, cb) => call(req.setUrn(urns.toMock(req.getUrn())), cb));
    wrapWire(monitor, "invoke", (req, call, cb) => {
        const field = req.getTok() === GET_RESOURCE ? req.getArgs()?.getFieldsMap().get("urn") : undefined;
        const urn = field?.getStringValue();
        if (field === undefined || !urn) return call(req, cb);
        field.setStringValue(urns.toMock(urn));
        call(req, (err, resp) => {
            // The answer names the resource by the mock's URN too (runtime/mocks.js invoke: the record as stored).
            resp?.getReturn()?.getFieldsMap().get("urn")?.setStringValue(urn);
            cb(err, resp);
        });
    });
    return urns;
}

/** The installed SDK's version, for error messages. */
function sdkVersion(): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json is a public file of the package
    return (require("@pulumi/pulumi/package.json") as { version: string }).version;
}

/**
 * Installs `mocks` (setMocks) and calls `onRegister` for every answered resource registration with the request and
 * the engine's URN (inputs in wire form: `req.getObject()`). `settle` waits, through the SDK's public `disconnect`,
 * until every registration made so far has been answered, then installs the mocks again for what comes next; it
 * throws when two of those registrations shared the mock's URN ({@link MockUrns}).
 * Synchronous (setMocks does its work before its first await), so a test file can call it at load.
 */
export function recordRegistrations(args: {
    readonly project: string;
    readonly stack: string;
    readonly mocks: pulumi.runtime.Mocks;
    /** Before the mock answers: e.g. to tell the mock a renamed resource's first name. */
    readonly beforeRegister?: (req: RegisterRequest) => void;
    readonly onRegister: (req: RegisterRequest, urn: string) => void;
}): { settle: () => Promise<void> } {
    let urns: MockUrns;
    const install = () => {
        void pulumi.runtime.setMocks(args.mocks, args.project, args.stack, false);
        urns = attachRecorder(args);
    };
    install();
    return {
        settle: async () => {
            await pulumi.runtime.disconnect();
            const { shared, refused } = urns;
            install();
            if (refused) throw refused;
            if (shared) throw shared;
        },
    };
}

/** The URN the engine gives a resource of `type` and `name` under `parent` (a URN, or "" for none or the stack). */
export function urnFor(stack: string, project: string, parent: string, type: string, name: string): string {
    const parentType = parent ? parent.split("::")[2] : STACK_TYPE;
    const qualified = parentType === STACK_TYPE ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The name at the end of a URN. */
const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/**
 * The alias URNs the engine matches a registration to, as pulumi/pulumi pkg/resource/deploy/step_generator.go
 * (generateAliases, collapseAliasToUrn, inheritedChildAlias) computes them: each alias, a spec's blanks filled from
 * the resource itself; then, for each alias of the parent, the child under the parent's old URN, its name's
 * parent-name prefix replaced by the parent's old name (children named `<parent>-<role>`). Only the child's own name
 * is carried over that way: the program aliases every child of a renamed component explicitly as well.
 */
export function aliasUrns(
    request: { type: string; name: string; parent: string | null; stack: string; project: string },
    aliases: readonly AliasMessage[],
    parentAliases: readonly string[],
): { urns: string[]; first: string | undefined } {
    // `first`: the oldest name the resource had, which the mock gives its outputs (mocks.ts stateNames).
    const own = aliases.map((a) => {
        const spec = a.hasSpec() ? a.getSpec() : undefined;
        if (spec === undefined) return a.getUrn();
        const parent = spec.getNoparent() ? "" : spec.getParenturn() || (request.parent ?? "");
        return urnFor(
            spec.getStack() || request.stack,
            spec.getProject() || request.project,
            parent,
            spec.getType() || request.type,
            spec.getName() || request.name,
        );
    });
    const parentName = request.parent ? nameOf(request.parent) : "";
    const inherited = parentAliases.flatMap((parentAlias) => {
        const oldParentName = nameOf(parentAlias);
        const [head, project] = parentAlias.split("::");
        const stack = head.slice("urn:pulumi:".length);
        const name = request.name;
        const renamed =
            parentName && name.startsWith(parentName) ? oldParentName + name.slice(parentName.length) : name;
        return [urnFor(stack, project, parentAlias, request.type, renamed)];
    });
    // `renamedFrom` lists the oldest name first, and so do the aliases made from it. Aliases of another type under
    // the same name (an SDK's own, such as aws.s3.Bucket's to BucketV2) rename nothing.
    const first = [...own, ...inherited].map(nameOf).find((n) => n !== request.name);
    return { urns: [...new Set([...own, ...inherited])].sort(), first };
}

/** Strips the provider id from a provider reference (`<urn>::<id>`). */
function providerUrn(ref: string): string | null {
    return ref ? ref.slice(0, ref.lastIndexOf("::")) : null;
}

/**
 * Runs a Pulumi program in this process under the SDK's mock monitor and records every resource registration as
 * the engine would receive it: type, name, parent, provider, protect, retainOnDelete, import id, dependencies and
 * inputs.
 */
export async function captureProgram(args: CaptureArgs & { programPath: string }): Promise<CapturedProgram> {
    const program = require.resolve(path.resolve(args.programPath));
    return captureStack({
        ...args,
        run: () => {
            // The program's module body is the program: a module loaded by an earlier plan in this process (another
            // stack, another config, or a test file sharing the process) is dropped so that this run registers its
            // resources again. The modules it imports are pure and stay cached.
            delete require.cache[program];
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is loaded in this process, inside the stack
            return require(program) as unknown;
        },
    });
}

/** Where and with which config to run. */
export interface CaptureArgs {
    readonly project: string;
    readonly stack: string;
    /** Full keys (`ci-platform:fleets`) to the strings Pulumi hands the program. */
    readonly config: Record<string, string>;
    readonly secretKeys: readonly string[];
    /** The provider mocks. Defaults to the plan's ({@link PlanMocks}); the drift verifier answers from the state. */
    readonly mocks?: pulumi.runtime.Mocks;
    /** Sees each registered resource with its inputs in wire form, secrets unredacted (the drift verifier). */
    readonly observe?: (resource: PlanResource, raw: unknown) => void;
}

/**
 * Runs `run` as the body of a stack under mocks and records what it registers. Used by the plan (with the real
 * program) and by component tests (with one component), so both see resources exactly as the engine would.
 * It installs the mocks globally, so runs in one process follow one another: a run started while another is under
 * way waits for it to end.
 */
export function captureStack(args: CaptureArgs & { run: () => unknown }): Promise<CapturedProgram> {
    const run = lastRun.then(() => captureOnce(args));
    lastRun = run.catch(() => undefined);
    return run;
}

/** The run under way in this process, or the last one (see {@link captureStack}). */
let lastRun: Promise<unknown> = Promise.resolve();

async function captureOnce(args: CaptureArgs & { run: () => unknown }): Promise<CapturedProgram> {
    pulumi.runtime.setAllConfig(args.config, [...args.secretKeys]);
    // The secret keys reach the program as the language host hands them over (components/config/stack-config.ts
    // runtimeSecretKeys), for this run only.
    const secretKeysBefore = process.env[SECRET_KEYS_ENV];
    process.env[SECRET_KEYS_ENV] = JSON.stringify([...args.secretKeys]);
    const mocks = args.mocks ?? new PlanMocks();

    const resources: PlanResource[] = [];
    const secretVersions: Record<string, Record<string, string>> = {};
    /** Alias URNs by resource URN, for the children registered later (the engine multiplies parents' aliases). */
    const aliasesOf = new Map<string, readonly string[]>();
    /** Per registration in flight, its alias URNs (computed before the mock answers, used after). */
    const aliasesByRequest = new WeakMap<RegisterRequest, ReturnType<typeof aliasUrns>>();
    const { settle } = recordRegistrations({
        project: args.project,
        stack: args.stack,
        mocks,
        beforeRegister: (req) => {
            const parent = req.getParent() || null;
            const aliases = aliasUrns(
                { type: req.getType(), name: req.getName(), parent, stack: args.stack, project: args.project },
                req.getAliasesList(),
                (parent && aliasesOf.get(parent)) || [],
            );
            aliasesByRequest.set(req, aliases);
            // The mock gives a renamed resource the outputs of its first name, as the engine keeps its state.
            if (aliases.first !== undefined && mocks instanceof PlanMocks)
                mocks.stateNames.set(`${req.getType()}::${req.getName()}`, aliases.first);
        },
        onRegister: (req, urn) => {
            const aliases = aliasesByRequest.get(req) ?? { urns: [], first: undefined };
            const raw = req.getObject()?.toJavaScript() ?? {};
            if (aliases.urns.length > 0) aliasesOf.set(urn, aliases.urns);
            const versions = secretVersionsOf(raw);
            if (Object.keys(versions).length > 0) secretVersions[urn] = versions;
            const resource: PlanResource = {
                urn,
                type: req.getType(),
                name: req.getName(),
                parent: req.getParent() || null,
                provider: providerUrn(req.getProvider()),
                protect: req.getProtect() ?? false,
                retainOnDelete: req.getRetainondelete() ?? false,
                importId: req.getImportid() || null,
                dependsOn: [...new Set(req.getDependenciesList())].sort(),
                aliases: aliases.urns,
                inputs: dynamicProviderDigest((redact(raw) as Record<string, unknown>) ?? {}),
            };
            resources.push(resource);
            args.observe?.(resource, raw);
        },
    });

    // The SDK records a stack trace for every promise and resource (for leak reports and source positions), and
    // formatting them through source maps dominates the run time of a large plan. The plan reports neither, so
    // capture none while the program runs (set CI_PLATFORM_PLAN_STACK_TRACES=1 to debug the program). This is
    // Node's own documented setting, not the SDK's (Node.js docs, Errors: `Error.stackTraceLimit`; 0 captures none).
    const limit = Error.stackTraceLimit;
    if (!process.env.CI_PLATFORM_PLAN_STACK_TRACES) Error.stackTraceLimit = 0;
    let stackOutputs: unknown = {};
    try {
        // The stack's outputs as the program returns them, Outputs and secrets intact (the Stack resource's own
        // copy is plain values).
        let outputs: unknown = {};
        // A program that throws is caught inside the stack's body, so the Stack resource ends normally: were the
        // error to leave runInPulumiStack, the SDK would reject a second, unawaited promise with it (the Stack's
        // registerOutputs chain, @pulumi/pulumi 3.276.0 runtime/stack.js), an unhandled rejection. Every
        // registration the run made is answered (settle) before the error is rethrown, so none reaches the mocks of
        // the next run in the same process.
        let failure: { readonly error: unknown } | undefined;
        try {
            await pulumi.runtime.runInPulumiStack(async () => {
                try {
                    outputs = await args.run();
                } catch (error: unknown) {
                    failure = { error };
                }
                return undefined;
            });
        } catch (error: unknown) {
            failure ??= { error };
        }
        // Let every outstanding registration finish, whatever happened; the program's own error comes first.
        const settled = await settle().then(
            () => undefined,
            (error: unknown) => ({ error }),
        );
        if (failure) throw failure.error;
        if (settled) throw settled.error;
        stackOutputs = await pulumi.runtime.serializeProperties("outputs", (outputs ?? {}) as Record<string, unknown>);
    } finally {
        Error.stackTraceLimit = limit;
        if (secretKeysBefore === undefined) delete process.env[SECRET_KEYS_ENV];
        else process.env[SECRET_KEYS_ENV] = secretKeysBefore;
    }
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const sortedVersions = Object.fromEntries(
        Object.keys(secretVersions)
            .sort()
            .map((urn) => [urn, secretVersions[urn]]),
    );
    return { resources, outputs: redact(stackOutputs) as Record<string, unknown>, secretVersions: sortedVersions };
}

/** The errors of registrations the mock refused: the SDK's rejections carrying them are expected (see below). */
const refusals = new Set<string>();
let rejectionListener = false;

/**
 * Expects the SDK's unawaited rejections for a registration the mock refused with `error`: the SDK rejects that
 * resource's outputs with "failed to register new resource <name> [<type>]: <error>" (@pulumi/pulumi 3.276.0
 * runtime/resource.js registerResource), which nobody may await; the capture reports the refusal itself, once
 * ({@link MockUrns.refuse}). One listener per process; any other unhandled rejection still crashes, as by default.
 */
function expectRejectionsOf(error: Error): void {
    refusals.add(error.message);
    if (rejectionListener) return;
    rejectionListener = true;
    process.on("unhandledRejection", (reason) => {
        const message = reason instanceof Error ? reason.message : "";
        if ([...refusals].some((m) => message.startsWith("failed to register new resource") && message.endsWith(m)))
            return;
        throw reason;
    });
}

/**
 * A dynamic resource's `__provider` input is its provider's serialized source (@pulumi/pulumi dynamic/index.js
 * `serializeProvider`), tens of kilobytes per resource: the plan shows a digest of it instead, so a change of the
 * provider's code still shows as a change of every such resource.
 */
function dynamicProviderDigest(inputs: Record<string, unknown>): Record<string, unknown> {
    const source = inputs.__provider;
    if (typeof source !== "string") return inputs;
    return {
        ...inputs,
        __provider: `[dynamic provider sha256:${createHash("sha256").update(source).digest("hex").slice(0, 16)}]`,
    };
}
