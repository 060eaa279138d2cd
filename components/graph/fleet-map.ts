/**
 * The agent fleets as a Mermaid flowchart, for the plan's markdown: one subgraph per continent, one per region
 * inside it, a node per fleet with its queue, size and instance types, and the on-premises fleets apart. The home
 * region (ECR source, shared resources) is marked.
 *
 * Pure module: config in, text out.
 *
 * @module
 */
import { AwsRegion, FleetConfig, PlatformConfig, continentOf, fleetRegions } from "../config";

const id = (text: string) => text.replace(/[^A-Za-z0-9]/g, "_");
const label = (text: string) => `"${text.replace(/"/g, "#quot;")}"`;

function fleetLabel(fleet: FleetConfig): string {
    if (fleet.kind === "static")
        return `${fleet.name}<br/>queue ${fleet.queue}${fleet.location ? `<br/>${fleet.location}` : ""}`;
    return `${fleet.name}<br/>queue ${fleet.queue} · ${fleet.minSize}–${fleet.maxSize} instances<br/>${fleet.instanceTypes.join(", ")}`;
}

/** The flowchart source, or null when no fleet is declared. Deterministic: sorted by continent, region, name. */
export function fleetMapDiagram(config: Pick<PlatformConfig, "fleets" | "homeRegion">): string | null {
    if (config.fleets.length === 0) return null;
    const lines = ["flowchart LR"];
    const aws = config.fleets.filter((f): f is Extract<FleetConfig, { kind: "aws" }> => f.kind === "aws");
    const regions = fleetRegions(config);
    const continents = [...new Set(regions.map((r) => continentOf(r as AwsRegion)))].sort();
    for (const continent of continents) {
        lines.push(`    subgraph ${id(`c_${continent}`)}[${label(continent)}]`);
        for (const region of regions.filter((r) => continentOf(r as AwsRegion) === continent)) {
            const title = region === config.homeRegion ? `${region} (home)` : region;
            lines.push(`        subgraph ${id(`r_${region}`)}[${label(title)}]`);
            for (const fleet of aws.filter((f) => f.region === region).sort((a, b) => (a.name < b.name ? -1 : 1)))
                lines.push(`            ${id(`f_${fleet.name}`)}[${label(fleetLabel(fleet))}]`);
            lines.push("        end");
        }
        lines.push("    end");
    }
    const statics = config.fleets.filter((f) => f.kind === "static").sort((a, b) => (a.name < b.name ? -1 : 1));
    if (statics.length > 0) {
        lines.push(`    subgraph on_premises[${label("On premises")}]`);
        for (const fleet of statics) lines.push(`        ${id(`f_${fleet.name}`)}[${label(fleetLabel(fleet))}]`);
        lines.push("    end");
    }
    return lines.join("\n");
}

/** The diagram as a fenced markdown block, or a sentence when there is nothing to draw. */
export function fleetMapMarkdown(config: Pick<PlatformConfig, "fleets" | "homeRegion">): string {
    const diagram = fleetMapDiagram(config);
    return diagram === null ? "No agent fleets are declared." : ["```mermaid", diagram, "```"].join("\n");
}
