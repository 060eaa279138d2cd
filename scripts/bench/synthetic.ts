// The regions module alone: the config barrel loads the SDK (bench answers bad usage without it, test/cli.test.ts).
import { AWS_REGION_NAMES } from "../../components/config/regions";

/*
 * Synthetic organisations for the benchmark, grown from the prod stack's config: N pipelines in chains of
 * trigger relationships (a package pipeline triggering installers, one installer waiting on another), every
 * fifth one a monorepo with a package dependency chain, and fleets in several regions. Pure: config in, config out.
 */

/** A stack file's `config:` map. */
export type StackConfigMap = Record<string, unknown>;

/** Regions the synthetic fleets spread over, two continents at least. */
export const BENCH_REGIONS = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
];

/** Returns a copy of `base` with `pipelines` pipelines and two fleets in each of `regions` regions. */
export function syntheticOrganization(
    base: StackConfigMap,
    pipelines: number,
    regions: readonly string[] = BENCH_REGIONS,
): StackConfigMap {
    for (const r of regions)
        if (!(AWS_REGION_NAMES as readonly string[]).includes(r)) throw new Error(`unknown region ${r}`);
    const config = structuredClone(base);
    const teams = (config["ci-platform:teams"] as { name: string }[]).map((t) => t.name);
    const image = (config["ci-platform:images"] as { name: string; variants: string[] }[])[0];
    const fleets: Record<string, unknown>[] = [];
    // A queue has one AWS fleet (one scaler): each region's fleets serve queues of their own.
    const queueIn = (queue: string, region: string) => `${queue}-${region}`;
    for (const region of regions)
        for (const queue of ["default", "large"])
            fleets.push({
                name: `${queue}-${region}`,
                kind: "aws",
                cluster: "default",
                queue: queueIn(queue, region),
                region,
                instanceTypes: queue === "large" ? ["c7i.4xlarge"] : ["c7i.xlarge", "c6i.xlarge"],
                minSize: 0,
                maxSize: 20,
                onDemandPercentage: 20,
            });
    fleets.push({ name: "macos-office", kind: "static", cluster: "macos", queue: "macos" });
    config["ci-platform:fleets"] = fleets;

    const list: Record<string, unknown>[] = [];
    const secrets: Record<string, unknown> = {};
    const slug = (i: number) => `pipeline-${String(i).padStart(4, "0")}`;
    for (let i = 0; i < pipelines; i++) {
        // Chains of ten: the first triggers the next four; the fourth waits on the third's trigger.
        const head = i % 10 === 0;
        const triggers = head
            ? [1, 2, 3, 4]
                  .filter((d) => i + d < pipelines)
                  .map((d) => ({
                      pipeline: slug(i + d),
                      key: `t${d}`,
                      ...(d === 4 ? { dependsOn: "t3" } : {}),
                  }))
            : [];
        const monorepo = i % 5 === 2;
        list.push({
            slug: slug(i),
            repository: `synthetic-org/repo-${i}`,
            team: teams[i % teams.length],
            // Pipelines spread over the regions.
            queue: queueIn(i % 7 === 3 ? "large" : "default", regions[i % regions.length]),
            image: { name: image.name, variant: image.variants[i % image.variants.length] },
            ...(triggers.length > 0 ? { triggers } : {}),
            ...(!head && i % 10 <= 4 ? { gate: "release" } : {}),
            ...(monorepo
                ? {
                      packages: Array.from({ length: 6 }, (_, k) => ({
                          name: `pkg-${k}`,
                          path: `packages/pkg-${k}`,
                          ...(k > 0 ? { dependsOn: [`pkg-${k - 1}`] } : {}),
                      })),
                  }
                : {}),
            ...(i % 3 === 0 ? { schedules: [{ label: "Nightly", cronline: "0 3 * * *" }] } : {}),
        });
        if (i % 4 === 0) secrets[slug(i)] = { env: { API_TOKEN: `synthetic-secret-${i}` } };
    }
    config["ci-platform:pipelines"] = list;
    // The prod deploy roles trust prod's own deploy pipeline, which a synthetic organisation does not have.
    delete config["ci-platform:deployRoles"];
    // The organisation's git credentials serve every HTTPS checkout (the default).
    // Its clusters are prod's, and sign as prod's do: their private key sets stay prod's (encrypted placeholders).
    config["ci-platform:secrets"] = {
        signing: (config["ci-platform:secrets"] as { signing?: unknown } | undefined)?.signing,
        organization: { gitCredentials: "https://x-access-token:synthetic@github.com" },
        pipelines: secrets,
    };
    return config;
}
