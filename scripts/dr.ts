/*
 * npm run dr -- --fleet NAME | --region REGION [--stack NAME | --config FILE]
 *
 * Prints the exact pulumi commands that rebuild one fleet or every fleet of one region, what is retained, and what
 * is recreated from config. The resources named are checked against the offline plan of the same config, so a
 * command never targets a URN the program does not declare. See README.md, "Recovery runbook".
 */
import * as path from "node:path";
import { RecoveryPlan, fleetResources, regionResources } from "../components/agents";
import { hookObjectName, secretsBucketName, shellArg } from "../components/agents/naming";
import { evacuationStateDeletes, imagePushes } from "../components/agents/recovery";
import { didYouMean, issueFormatter, parsePlatformConfig, type PlatformConfig } from "../components/config";
import { imageChildNames, parseVersionsText, readImageFiles } from "../components/images";
import { imageTag, repositoryName } from "../components/images/image-ref";
import { CliOption, CliSpec, oneLine, parseCli, usageOf } from "./cli";
import { buildPlan, configFileOf, rawPlatformConfig, stackNameOf } from "./plan";
import { exitWhenFlushed } from "./plan/exit";
import { readStackFileOrIssues } from "./plan/stack-file";

const ROOT = path.resolve(__dirname, "..");

/** Where a push lands: what `aws ecr describe-images` needs to find it. */
export interface PushTarget {
    readonly region: string;
    /** `ci-platform/<image>`. */
    readonly repository: string;
    /** `<variant>-<version>`. */
    readonly tag: string;
}

/** The pushes of the config's images into `regions`, by docker.Image resource name. Pure. */
export function pushTargets(
    images: PlatformConfig["images"],
    versions: Readonly<Record<string, string>>,
    regions: readonly string[],
): Record<string, PushTarget> {
    const out: Record<string, PushTarget> = {};
    for (const image of images)
        for (const region of regions)
            for (const [variant, name] of Object.entries(imageChildNames(image.name, region, image.variants).pushes))
                out[name] = {
                    region,
                    repository: repositoryName(image.name),
                    tag: imageTag(variant, versions[image.name] ?? "<version>"),
                };
    return out;
}

/** The runbook text for a recovery plan. Pure. */
export function renderRecovery(
    plan: RecoveryPlan,
    scope: string,
    stack: string,
    pushes: Readonly<Record<string, PushTarget>> = {},
): string {
    const lines: string[] = [];
    const list = (title: string, urns: readonly string[]) => {
        lines.push(`${title} (${urns.length}):`);
        for (const urn of urns) lines.push(`  ${urn}`);
        lines.push("");
    };
    const stackArg = `--stack ${shellArg(stack)}`;
    const pushResources = imagePushes(plan);
    const pushUrns = new Set(pushResources.map((r) => r.urn));
    lines.push(`Recovery of ${scope} in stack ${stack}`);
    lines.push(
        `Fleets: ${plan.fleets.join(", ")}${plan.regions.length ? `; region(s): ${plan.regions.join(", ")}` : ""}`,
        "",
    );
    list("Retained: stateful, protected, retained on delete; never replaced", plan.retained);
    list("Recreated from config (replaced)", plan.recreated);
    list(
        "Restored from config if missing or drifted (secrets objects, hooks, providers, settings)",
        plan.resources.filter((r) => r.action === "restore" && !pushUrns.has(r.urn)).map((r) => r.urn),
    );
    if (pushResources.length > 0) {
        // pulumi/pulumi-docker v5.1.0 provider/provider.go: Read returns the stored properties unchanged and Delete
        // does nothing, so neither refresh nor up notices that a pushed tag is gone from the registry.
        lines.push(`Image pushes (${pushResources.length}): NOT restored if missing. A push whose repository was`);
        lines.push("recreated (empty) shows no diff, so `pulumi up` leaves the repository empty. Check each tag, and");
        lines.push("run the push's command only if the tag is missing (the repository is immutable: pushing a tag");
        lines.push("that is there fails):");
        for (const r of pushResources) {
            const t = pushes[r.name];
            lines.push(`  ${r.urn}`);
            if (t)
                lines.push(
                    `    check: aws ecr describe-images --region ${t.region} --repository-name ${t.repository} --image-ids imageTag=${shellArg(t.tag)}`,
                );
            lines.push(`    push:  pulumi up ${stackArg} --target ${shellArg(r.urn)} --replace ${shellArg(r.urn)}`);
        }
        lines.push("");
    }
    lines.push("Rebuild in place (the region still works, the fleet is broken):");
    lines.push(`  1. ${plan.commands.refresh}`);
    lines.push(`  2. ${plan.commands.rebuild}`);
    lines.push("");
    if (plan.regions.length > 0) {
        const deletes = evacuationStateDeletes(plan, stack);
        let step = 0;
        const numbered = (c: string) => lines.push(`  ${++step}. ${c}`);
        lines.push("Evacuate instead (the region is lost). Moving a fleet keeps its URNs but changes their provider,");
        lines.push("which Pulumi plans as a replacement: every delete in the lost region would fail and the new");
        lines.push("region's stacks would never be created. So first take the lost region's resources out of the");
        lines.push("state (they stay in the account), then move the fleets:");
        if (plan.commands.unprotect.length > 0) {
            lines.push("  Lift protection from its stateful resources (retained on delete: `pulumi up` will drop them");
            lines.push("  from the stack and leave them in the account):");
            plan.commands.unprotect.forEach(numbered);
        }
        lines.push("  Remove the region's other AWS and docker resources from the state, in this order (dependents");
        lines.push("  first; the CLI refuses a resource that something still depends on: delete that one first):");
        deletes.forEach(numbered);
        numbered(`set \`region:\` of ${plan.fleets.join(", ")} to a healthy region in Pulumi.${stack}.yaml`);
        numbered(
            "check `npm run plan -- --diff base.json` (the new region gets its bucket, key, secrets objects, hooks, fleets and image pushes)",
        );
        numbered(`pulumi up ${stackArg}`);
        lines.push(
            "  Left in the lost region's account, to delete by hand once it is back: the fleets' CloudFormation",
        );
        lines.push(
            "  stacks, their token parameters, bootstrap objects and IAM policies (IAM is global: a policy stays",
        );
        lines.push(
            "  attached to its old stack's role until that stack is deleted), and the retained buckets, keys and",
        );
        lines.push("  repositories.");
    }
    return lines.join("\n");
}

/** The command line of `npm run dr`. */
export const DR_CLI = {
    name: "dr",
    synopsis: ["--fleet NAME | --region REGION [--stack NAME | --config FILE]"],
    summary: [
        "Prints the pulumi commands that rebuild one agent fleet, or every fleet of one region, and what is retained,",
        "recreated and restored. The resources named are checked against the offline plan of the same stack file.",
        "Prints commands; runs none.",
    ].join("\n"),
    options: {
        fleet: { type: "string", value: "NAME", help: "rebuild this fleet (a name in ci-platform:fleets)" },
        region: { type: "string", value: "REGION", help: "rebuild every fleet of this AWS region" },
        stack: { type: "string", value: "NAME", help: "read Pulumi.NAME.yaml at the repository root (default prod)" },
        config: { type: "string", value: "FILE", help: "read this stack file instead" },
    },
    examples: [
        ["npm run dr -- --fleet linux-us-east-1", "the runbook for one fleet of the prod stack"],
        ["npm run dr -- --region eu-west-1", "the runbook for a region, with the evacuation path"],
        ["npm run dr -- --region us-east-1 --config examples/Pulumi.example.yaml", "the example stack's region"],
    ],
    exitCodes: [
        [0, "printed the runbook"],
        [1, "the program failed or a file could not be read"],
        [2, "bad usage, an unknown fleet or region, or an invalid stack file"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** The usage line (`--help` prints more). */
export const USAGE = usageOf(DR_CLI);

async function main(argv: string[]): Promise<number> {
    const cli = parseCli(DR_CLI, argv);
    if (!cli.run) {
        process.stdout.write(cli.stdout);
        process.stderr.write(cli.stderr);
        return cli.code;
    }
    const { values } = cli;
    if (!values.fleet === !values.region) {
        process.stderr.write(`dr: give exactly one of --fleet NAME or --region REGION\n${USAGE}\n`);
        return 2;
    }
    if (values.stack && values.config) {
        process.stderr.write(`dr: give --stack or --config, not both\n${USAGE}\n`);
        return 2;
    }
    const file = configFileOf(values);
    const read = readStackFileOrIssues(file);
    const parsed =
        "issues" in read
            ? { ok: false as const, error: read.issues }
            : parsePlatformConfig(rawPlatformConfig(read.stack));
    if (!parsed.ok) {
        process.stderr.write(parsed.error.map(issueFormatter(read.context)).join("\n") + "\n");
        return 2;
    }
    const config = parsed.value;
    // Check the scope before the (slower) plan, so a typo is answered at once.
    const stackName = values.stack ?? stackNameOf(file);
    const scoped = (stack: string, hookPaths: readonly string[]) =>
        values.fleet
            ? fleetResources(config, values.fleet, { stack, hookPaths })
            : regionResources(config, values.region ?? "", { stack, hookPaths, images: config.images });
    if (values.fleet && !config.fleets.some((f) => f.name === values.fleet)) {
        const names = config.fleets.map((f) => f.name);
        process.stderr.write(
            `dr: no fleet named "${values.fleet}"; ${didYouMean(values.fleet, names)}fleets: ${names.join(", ")}\n`,
        );
        return 2;
    }
    try {
        scoped(stackName, []);
    } catch (e) {
        process.stderr.write(`dr: ${(e as Error).message}\n`);
        return 2;
    }
    const declared = await buildPlan({ stack: values.stack, config: values.config });
    // The hook objects, as the program declares them in the home region's bucket (the same paths in every region).
    const hookPrefix = hookObjectName(secretsBucketName(config.homeRegion), "");
    const hookPaths = declared.resources
        .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name.startsWith(hookPrefix))
        .map((r) => r.name.slice(hookPrefix.length));
    const stack = declared.stack;
    const plan = scoped(stack, hookPaths);
    const urns = new Set(declared.resources.map((r) => r.urn));
    const unknown = plan.resources.filter((r) => !urns.has(r.urn));
    if (unknown.length > 0) {
        process.stderr.write(
            `dr: the recovery plan names resources the program does not declare (a bug):\n${unknown.map((r) => `  ${r.urn}`).join("\n")}\n`,
        );
        return 1;
    }
    const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}");
    const pushes = pushTargets(config.images, versions.ok ? versions.value : {}, plan.regions);
    process.stdout.write(
        renderRecovery(plan, values.fleet ? `fleet ${values.fleet}` : `region ${values.region}`, stack, pushes) + "\n",
    );
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            process.stderr.write(`dr: ${oneLine(e)}\n`);
            return exitWhenFlushed(1);
        },
    );
}
