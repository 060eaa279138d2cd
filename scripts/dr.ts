/*
 * npm run dr -- --fleet NAME | --region REGION [--lost [--to REGION]] [--stack NAME | --config FILE]
 *
 * Prints the exact pulumi commands that rebuild one fleet or every fleet of one region, what is retained, and what
 * is recreated from config; with `--lost`, the evacuation of a region whose API is down, in which no step calls it.
 * The resources named are checked against the offline plan of the same config, so a command never targets a URN the
 * program does not declare. See README.md, "Recovery runbook".
 */
import * as path from "node:path";
import { RecoveryPlan, fleetResources, regionResources } from "../components/agents";
import { hookObjectName, secretsBucketName, shellArg } from "../components/agents/naming";
import {
    Evacuation,
    evacuatedFleetName,
    evacuation,
    evacuationFilterCommand,
    imagePushes,
} from "../components/agents/recovery";
import {
    AWS_REGION_NAMES,
    didYouMean,
    issueFormatter,
    parsePlatformConfig,
    type PlatformConfig,
} from "../components/config";
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

/** One line a URN under a title, or nothing at all when there is none. */
function section(lines: string[], title: string, urns: readonly string[]): void {
    if (urns.length === 0) return;
    lines.push(`${title} (${urns.length}):`);
    for (const urn of urns) lines.push(`  ${urn}`);
    lines.push("");
}

/** A resource the lost region leaves in its account, to delete before the region is re-added: its name and id. */
export interface Readoption {
    readonly resource: string;
    readonly id: string;
}

/** The runbook text for a recovery plan (the region or fleet still works). Pure. */
export function renderRecovery(
    plan: RecoveryPlan,
    scope: string,
    stack: string,
    pushes: Readonly<Record<string, PushTarget>> = {},
): string {
    const lines: string[] = [];
    const stackArg = `--stack ${shellArg(stack)}`;
    const pushResources = imagePushes(plan);
    const pushUrns = new Set(pushResources.map((r) => r.urn));
    lines.push(`Recovery of ${scope} in stack ${stack}`);
    lines.push(
        `Fleets: ${plan.fleets.join(", ")}${plan.regions.length ? `; region(s): ${plan.regions.join(", ")}` : ""}`,
        "",
    );
    section(lines, "Retained: stateful, protected, retained on delete; never replaced", plan.retained);
    section(lines, "Recreated from config (replaced)", plan.recreated);
    section(
        lines,
        "Restored from config if missing or drifted (secrets buckets, keys and objects, hooks, providers, settings)",
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
    lines.push(
        scope.startsWith("region")
            ? "Rebuild in place (the region still works; what runs there is broken):"
            : "Rebuild in place (its region still works):",
    );
    lines.push(`  1. ${plan.commands.refresh}`);
    lines.push(`  2. ${plan.commands.rebuild}`);
    lines.push("");
    if (scope.startsWith("region") && plan.regions.length > 0) {
        const region = plan.regions[0];
        lines.push(`Remove the region for good (it still works): delete its fleets from Pulumi.${stack}.yaml and run`);
        lines.push("`pulumi up`. Its secrets buckets go whole: emptied, deleted, their keys scheduled for deletion.");
        if (plan.commands.unprotect.length > 0) {
            lines.push(
                "`pulumi up` stops at a protected resource it would delete until `pulumi state unprotect`; so first:",
            );
            plan.commands.unprotect.forEach((c, i) => lines.push(`  ${i + 1}. ${c}`));
            // The image repositories are deleted with their images (policy/invariants/ecr-repositories.ts), so a
            // re-added region gets empty ones: adopting them would push tags they still hold.
            lines.push("The image repositories go with their images (forceDelete): re-adding the region creates empty");
            lines.push("ones and pushes every pinned tag; do not adopt them.");
        }
        lines.push("");
        lines.push(`If the region is lost (its API is down), use none of the commands above: run`);
        lines.push(`  npm run dr -- --region ${region} --lost --to <healthy region>`);
    }
    return lines.join("\n").trimEnd();
}

/** What the evacuation of a lost region prints. Pure. */
export function renderEvacuation(
    plan: Evacuation,
    stack: string,
    options: {
        readonly to?: string;
        readonly readoptions?: readonly Readoption[];
        /** `ci-platform:homeRegion`: losing it needs more than moving fleets. */
        readonly homeRegion?: string;
    } = {},
): string {
    const lines: string[] = [];
    const stackArg = `--stack ${shellArg(stack)}`;
    let step = 0;
    const numbered = (c: string) => lines.push(`  ${++step}. ${c}`);
    lines.push(
        `Evacuation of region ${plan.region} in stack ${stack}: the region is lost, no step below calls its API.`,
    );
    lines.push(`Fleets lost: ${plan.fleets.join(", ")}`, "");
    if (options.homeRegion === plan.region) {
        lines.push(
            `WARNING: ${plan.region} is ci-platform:homeRegion: set it to a healthy region in the same edit. The`,
        );
        lines.push(
            "home region holds the images' source registry and the resources shared by every region (the deploy",
        );
        lines.push(
            "roles: IAM, global, named in config, so they still exist: adopt them with ci-platform:adopt rather",
        );
        lines.push('than create them again; README, "Re-adopting a retained resource").', "");
    }
    lines.push("Moving a fleet under the same name would keep its URNs and change their provider: a replacement that");
    lines.push(
        "starts with a delete in the lost region, and fails. So declare NEW fleets in a healthy region, and drop",
    );
    lines.push("the lost region's resources from the state first (they stay in its account):");
    numbered(`npm run plan -- --json base.json   (the plan before the edit, to check the diff against)`);
    const renames = options.to
        ? plan.fleets.map((f) => `${f} -> ${evacuatedFleetName(f, plan.region, options.to ?? "")}`).join(", ")
        : "";
    numbered(
        `in Pulumi.${stack}.yaml, replace fleets ${plan.fleets.join(", ")} with fleets of new names (same cluster, queue and sizes)${options.to ? ` in ${options.to}: ${renames}` : " in a healthy region"}`,
    );
    lines.push(
        "     New names: the old fleets' agent tokens are deleted (their instances cannot take jobs if the region",
    );
    lines.push(
        "     comes back), and nothing new shares a name with what they left, IAM roles included (IAM is global).",
    );
    if (plan.unprotect.length > 0) {
        lines.push("  The filter below refuses a protected resource until it is unprotected (state only, one");
        lines.push("  deliberate step each):");
        plan.unprotect.forEach((u) => numbered(`pulumi state unprotect ${stackArg} --yes ${shellArg(u)}`));
    }
    lines.push(
        "  Drop the lost region's resources, and only them, from the state (state only). Healthy resources that",
    );
    lines.push("  depend on them stay (Buildkite pipelines, other regions, components); only those references go:");
    numbered(
        `pulumi stack export ${stackArg} --file before.json   (keep it: \`pulumi stack import ${stackArg} --file before.json\` undoes the next steps)`,
    );
    numbered(evacuationFilterCommand(plan.providers, "before.json", "after.json"));
    numbered(`pulumi stack import ${stackArg} --file after.json`);
    lines.push(
        `     It removes ${plan.lost.length + plan.providers.length} resources; these healthy ones stay, without their references to them:`,
    );
    for (const u of plan.referrers) lines.push(`       ${u}`);
    lines.push("     jq stops with an error (after.json is left empty: import refuses it) at a lost resource still");
    lines.push("     protected, a healthy resource parented to a lost one, or a pending operation on a healthy one;");
    lines.push("     `pulumi stack import` refuses a state with a dangling reference. Nobody else runs pulumi on the");
    lines.push("     stack between export and import (import replaces the whole state).");
    numbered(
        "npm run plan -- --diff base.json: the new fleets, and their region's bucket, keys, objects and image pushes if new, are created; the lost region's resources show as deleted (they left the state: nothing calls its API)",
    );
    numbered(`pulumi up ${stackArg}   (creates the new fleets; deletes the old fleets' tokens in Buildkite)`);
    lines.push("");
    const types = new Map<string, number>();
    // Image pushes are tags in the retained repositories, not resources of their own.
    for (const u of plan.lost.filter((l) => !l.includes("$docker:"))) {
        const type = u.split("::")[2].split("$").pop() ?? "";
        types.set(type, (types.get(type) ?? 0) + 1);
    }
    lines.push("Left in the lost region's account, to delete by hand once it is back (IAM ones are global and");
    lines.push("can go sooner): " + [...types].map(([t, n]) => `${n} ${t.split(":").pop()}`).join(", ") + ".");
    if ((options.readoptions ?? []).length > 0) {
        // Adopting them would push tags they still hold into IMMUTABLE repositories (policy/invariants/ecr-repositories.ts).
        lines.push("Before re-adding the region, delete its image repositories with their images (do not adopt them:");
        lines.push("the re-add pushes every pinned tag, which they still hold):");
        for (const r of options.readoptions ?? [])
            lines.push(
                `    aws ecr delete-repository --force --region ${plan.region} --repository-name ${shellArg(r.id)}`,
            );
    }
    return lines.join("\n");
}

/** The command line of `npm run dr`. */
export const DR_CLI = {
    name: "dr",
    synopsis: ["--fleet NAME | --region REGION [--lost [--to REGION]] [--stack NAME | --config FILE]"],
    summary: [
        "Prints the pulumi commands that rebuild one agent fleet, or every fleet of one region, and what is retained,",
        "recreated and restored; with --lost, the evacuation of a region whose API is down, in which no step calls it.",
        "The resources named are checked against the offline plan of the same stack file.",
        "Prints commands; runs none.",
    ].join("\n"),
    options: {
        fleet: { type: "string", value: "NAME", help: "rebuild this fleet (a name in ci-platform:fleets)" },
        region: { type: "string", value: "REGION", help: "rebuild every fleet of this AWS region" },
        lost: { type: "boolean", help: "the region's API is down: evacuate it with state-only steps (with --region)" },
        to: { type: "string", value: "REGION", help: "the healthy region the evacuated fleets move to (with --lost)" },
        stack: { type: "string", value: "NAME", help: "read Pulumi.NAME.yaml at the repository root (default prod)" },
        config: { type: "string", value: "FILE", help: "read this stack file instead" },
    },
    examples: [
        ["npm run dr -- --fleet linux-us-east-1", "the runbook for one fleet of the prod stack"],
        ["npm run dr -- --region eu-west-1", "the runbook for a region"],
        ["npm run dr -- --region eu-west-1 --lost --to eu-central-1", "evacuate a region whose API is down"],
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
    if ((values.lost || values.to) && !values.region) {
        process.stderr.write("dr: --lost and --to go with --region REGION (a lost region is evacuated whole)\n");
        return 2;
    }
    if (values.to && !values.lost) {
        process.stderr.write("dr: --to REGION goes with --lost\n");
        return 2;
    }
    if (values.to && (!(AWS_REGION_NAMES as readonly string[]).includes(values.to) || values.to === values.region)) {
        process.stderr.write(
            `dr: --to must be a healthy AWS region other than ${values.region ?? ""}; ${didYouMean(values.to, AWS_REGION_NAMES)}\n`,
        );
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
    // The region's image repositories: fixed names, left in the lost region's account by the evacuation.
    const readoptions = declared.resources
        .filter((r) => r.protect && r.type === "aws:ecr/repository:Repository" && typeof r.inputs.name === "string")
        .filter((r) => plan.resources.some((p) => p.urn === r.urn))
        .map((r) => ({ resource: r.name, id: String(r.inputs.name) }));
    if (values.lost) {
        const evacuated = evacuation(declared.resources, values.region ?? "");
        process.stdout.write(
            renderEvacuation(evacuated, stack, { to: values.to, readoptions, homeRegion: config.homeRegion }) + "\n",
        );
        return 0;
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
