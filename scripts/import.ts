/*
 * `npm run import -- --org SLUG --out DIR`: reads a live Buildkite organisation (REST API v2) and the GitHub webhooks
 * of its pipelines' repositories, and writes a stack file that adopts every object it declares (ci-platform:adopt)
 * plus a report of what the config cannot say (README, "Adopting an existing organisation"). Read-only on both APIs.
 * Tokens come from the environment and are never printed; no env value or webhook URL is written.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { AWS_REGION_NAMES } from "../components/config/regions";
import { parseVersionRecordsText, VERSIONS_FILE } from "../components/images/versions";
import { CliError, CliOption, CliSpec, oneLine, parseCli, usageOf, writeUserFile } from "./cli";
import { githubRepository, mapOrganization } from "./import/map";
import { readBuildkite, readGithubHooks } from "./import/read";
import { reportText, stackFileText } from "./import/report";
import { RestClient } from "./import/rest";
import { exitWhenFlushed } from "./plan/exit";

const ROOT = path.join(__dirname, "..");
/** The Elastic CI Stack release the project pins (shared/reference/aws-stack-v6.71.1.yml). */
const ELASTIC_STACK_VERSION = "v6.71.1";

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

/** The images `versions.json` pins, each with every variant its history names. */
function pinnedImages(): { name: string; variants: string[] }[] {
    let text: string;
    try {
        text = readFileSync(path.join(ROOT, VERSIONS_FILE), "utf8");
    } catch {
        return [];
    }
    const parsed = parseVersionRecordsText(text);
    if (!parsed.ok) throw new CliError(`${VERSIONS_FILE}: ${parsed.error[0]?.message ?? "invalid"}`);
    return Object.entries(parsed.value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, record]) => ({ name, variants: [...new Set(record.history.flatMap((h) => h.variants))] }));
}

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
    const progress = (line: string) => io.stderr(`${line}\n`);

    const buildkite = new RestClient({
        name: "Buildkite",
        baseUrl: cli.values["api-url"] ?? "https://api.buildkite.com",
        token,
        tokenVariable: "BUILDKITE_API_TOKEN",
        fetch: io.fetch,
        sleep: io.sleep,
        progress,
    });
    const live = await readBuildkite(buildkite, org, progress);
    const repositories = live.pipelines.flatMap((p) => {
        const repo = p.archived_at ? undefined : githubRepository(p.repository);
        return repo ? [repo.repository] : [];
    });
    const githubToken = io.env.GITHUB_TOKEN;
    let github: Awaited<ReturnType<typeof readGithubHooks>> = { hooks: {}, errors: {} };
    if (githubToken) {
        const client = new RestClient({
            name: "GitHub",
            baseUrl: cli.values["github-api-url"] ?? "https://api.github.com",
            token: githubToken,
            tokenVariable: "GITHUB_TOKEN",
            // GitHub REST: the media type and the API version it documents.
            headers: { Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" },
            fetch: io.fetch,
            sleep: io.sleep,
            progress,
        });
        github = await readGithubHooks(client, repositories, progress);
    } else progress("GitHub: GITHUB_TOKEN is not set; webhooks are not read (the report says which pipelines)");

    const mapped = mapOrganization({
        organization: org,
        snapshot: { ...live, hooks: github.hooks, hookErrors: github.errors },
        images: pinnedImages(),
        homeRegion,
        elasticStackVersion: ELASTIC_STACK_VERSION,
    });
    try {
        mkdirSync(out, { recursive: true });
    } catch (e) {
        throw new CliError(`cannot create --out ${out}: ${(e as Error).message}`);
    }
    const stackFile = path.join(out, `Pulumi.${stack}.yaml`);
    const reportFile = path.join(out, "import-report.md");
    writeUserFile(stackFile, stackFileText(mapped, org, stack), "the stack file");
    writeUserFile(reportFile, reportText(mapped, org), "the report");
    const c = mapped.counts;
    io.stdout(
        `wrote ${stackFile}: ${c.pipelines} pipelines, ${c.clusters} clusters, ${c.queues} queues, ${c.teams} teams, ${c.schedules} schedules, ${c.webhooks} webhooks; ${mapped.adopt.length} to import\n` +
            `wrote ${reportFile}: ${mapped.report.length} items to read\n` +
            `next: npm run plan -- --config ${stackFile}\n`,
    );
    return 0;
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
