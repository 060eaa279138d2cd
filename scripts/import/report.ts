import { stringify } from "yaml";
import { Mapped } from "./map";

/*
 * The files the importer writes: the stack file (YAML) and the report of what the config could not say (markdown).
 * Pure: text out. Neither holds a secret: the mapping copies no env value and no webhook URL.
 */

/** `Pulumi.<stack>.yaml`: a header saying where it came from and what to do next, then the `config:` map. */
export function stackFileText(mapped: Mapped, organization: string, stack: string): string {
    return [
        `# Imported from the Buildkite organisation ${organization} by \`npm run import\` (README, "Adopting an existing`,
        `# organisation"). Read import-report.md beside it first: what the config could not say, and what the first`,
        `# \`pulumi up\` changes. ci-platform:adopt carries the id of every existing object, so that \`pulumi up\` imports`,
        `# them instead of creating new ones; remove the entries after the first successful \`pulumi up\`.`,
        `# Plan it: npm run plan -- --config Pulumi.${stack}.yaml`,
        stringify({ config: mapped.config }, { lineWidth: 0 }),
    ].join("\n");
}

/** The report: counts, then each subject's items, in the order read. */
export function reportText(mapped: Mapped, organization: string): string {
    const bySubject = new Map<string, string[]>();
    for (const item of mapped.report)
        bySubject.set(item.subject, [...(bySubject.get(item.subject) ?? []), item.message]);
    const counts = Object.entries(mapped.counts)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(", ");
    return [
        `# Import of ${organization}`,
        "",
        `Declared: ${counts}; ${mapped.adopt.length} existing objects to import (ci-platform:adopt).`,
        "",
        "Below, by object, everything the stack file does not carry as it is live, and what the first `pulumi up` changes.",
        "No secret is in this file or in the stack file: environment variables are named, their values are not copied.",
        "",
        ...(bySubject.size === 0
            ? ["Nothing: the stack file says all of it."]
            : [...bySubject].flatMap(([subject, messages]) => [
                  `## ${subject}`,
                  "",
                  ...messages.map((m) => `- ${m}`),
                  "",
              ])),
    ].join("\n");
}
