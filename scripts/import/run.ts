/*
 * The import of `npm run import` once its command line is parsed (scripts/import.ts `runImport`): reads the
 * organisation and its webhooks and writes the stack file and the report. Kept out of scripts/import.ts, which requires
 * this module only once the command line asks for an import, so that --help and bad usage are answered without
 * loading the config model and the SDKs it brings (about 2 CPU s).
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseVersionRecordsText, VERSIONS_FILE } from "../../components/images/versions";
import { CliError, writeUserFile } from "../cli";
import type { ImportIo, ImportOptions } from "../import";
import { githubRepository, mapOrganization } from "./map";
import { readBuildkite, readGithubHooks } from "./read";
import { reportText, stackFileText } from "./report";
import { RestClient } from "./rest";

const ROOT = path.join(__dirname, "..", "..");
/** The Elastic CI Stack release the project pins (shared/reference/aws-stack-v6.71.1.yml). */
const ELASTIC_STACK_VERSION = "v6.71.1";

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

/**
 * The import of `npm run import` (scripts/import.ts `runImport`, which has parsed and checked the command line;
 * `token` is BUILDKITE_API_TOKEN): writes the files, reports to `io` and returns the exit code.
 */
export async function importCommand(values: ImportOptions, token: string, io: ImportIo): Promise<number> {
    const { org, out, stack } = values;
    const homeRegion = values["home-region"];
    const progress = (line: string) => io.stderr(`${line}\n`);

    const buildkite = new RestClient({
        name: "Buildkite",
        baseUrl: values["api-url"] ?? "https://api.buildkite.com",
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
            baseUrl: values["github-api-url"] ?? "https://api.github.com",
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
