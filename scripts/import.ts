/*
 * `npm run import -- --org SLUG --out DIR`: reads a live Buildkite organisation (REST API v2) and the GitHub webhooks
 * of its pipelines' repositories, and writes a stack file that adopts every object it declares (ci-platform:adopt)
 * plus a report of what the config cannot say (README, "Adopting an existing organisation"). Read-only on both APIs.
 * Tokens come from the environment and are never printed; no env value or webhook URL is written.
 *
 * This module is the command line alone: the import is scripts/import/run.ts, which `runImport` requires only once the
 * command line asks for one, so that --help and bad usage are answered without loading the config model and SDKs.
 */
import { AWS_REGION_NAMES } from "../components/config/regions";
import { CliOption, CliSpec, CliValues, oneLine, parseCli, usageOf } from "./cli";
import { exitWhenFlushed } from "./plan/exit";

export const IMPORT_CLI = {
    name: "import",
    synopsis: ["--org SLUG --out DIR [--stack NAME] [--home-region REGION] [--api-url URL] [--github-api-url URL]"],
    summary: [
        "Reads a live Buildkite organisation (pipelines, clusters, queues, teams, schedules) through the REST API v2",
        "with BUILDKITE_API_TOKEN, and each pipeline's GitHub webhook with GITHUB_TOKEN (optional), and writes",
        "DIR/Pulumi.<stack>.yaml, whose ci-platform:adopt imports every declared object, and DIR/import-report.md.",
    ].join("\n"),
    options: {
        org: { type: "string", value: "SLUG", help: "the Buildkite organisation's slug" },
        out: { type: "string", value: "DIR", help: "the directory to write into (created if missing)" },
        stack: { type: "string", value: "NAME", help: "the stack name: writes Pulumi.NAME.yaml (default prod)" },
        "home-region": {
            type: "string",
            value: "REGION",
            help: "the AWS region of the stack's own state (ci-platform:homeRegion, default us-east-1)",
        },
        "api-url": { type: "string", value: "URL", help: "Buildkite's REST API (default https://api.buildkite.com)" },
        "github-api-url": { type: "string", value: "URL", help: "GitHub's REST API (default https://api.github.com)" },
    },
    examples: [
        ["npm run import -- --org acme --out /tmp/acme", "write /tmp/acme/Pulumi.prod.yaml and import-report.md"],
        ["npm run plan -- --config /tmp/acme/Pulumi.prod.yaml", "then plan it: the objects show as imports (=)"],
    ],
    exitCodes: [
        [0, "written"],
        [1, "an API refused (401, 403, 404) or failed, or a file could not be written"],
        [2, "bad usage, or a token missing from the environment"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** What the script prints and reads, handed in so the tests run it in-process. */
export interface ImportIo {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    readonly fetch?: typeof fetch;
    readonly sleep?: (ms: number) => Promise<void>;
}

/** The options of an import, as the command line gives them once checked, with their defaults. */
export type ImportOptions = CliValues<typeof IMPORT_CLI.options> & {
    readonly org: string;
    readonly out: string;
    readonly stack: string;
    readonly "home-region": string;
};

/** Runs the importer; returns the exit code. */
export async function runImport(argv: readonly string[], io: ImportIo): Promise<number> {
    const cli = parseCli(IMPORT_CLI, argv);
    if (!cli.run) {
        io.stdout(cli.stdout);
        io.stderr(cli.stderr);
        return cli.code;
    }
    const { org, out } = cli.values;
    const stack = cli.values.stack ?? "prod";
    const usage = (problem: string) => {
        io.stderr(`import: ${problem}\n${usageOf(IMPORT_CLI)}\n`);
        return 2;
    };
    if (!org || !out) return usage("give --org SLUG and --out DIR");
    if (!/^[a-z0-9][a-z0-9-]*$/.test(org)) return usage(`--org ${org} is not a Buildkite organisation slug`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) return usage(`--stack ${stack} is not a stack name`);
    const homeRegion = cli.values["home-region"] ?? "us-east-1";
    if (!(AWS_REGION_NAMES as readonly string[]).includes(homeRegion))
        return usage(`--home-region ${homeRegion} is not an AWS region name (for example us-east-1)`);
    const token = io.env.BUILDKITE_API_TOKEN;
    if (!token)
        return usage(
            "set BUILDKITE_API_TOKEN to an API access token with read_pipelines, read_clusters, read_teams and view_teams (buildkite/docs pages/apis/rest_api/teams/pipelines.md; write_pipelines shows webhook URLs)",
        );
    // Required only now: the import maps the organisation with the config model, which loads the SDKs it brings
    // (~2 CPU s) that the answers above do without.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for an import (see above)
    const { importCommand } = require("./import/run") as typeof import("./import/run");
    return importCommand({ ...cli.values, org, out, stack, "home-region": homeRegion }, token, io);
}

if (require.main === module) {
    runImport(process.argv.slice(2), {
        env: process.env,
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
    }).then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            process.stderr.write(`import: ${oneLine(e)}\n`);
            return exitWhenFlushed(1);
        },
    );
}
