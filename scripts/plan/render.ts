import { PlanDiff, ResourceChange } from "./diff";
import { PlanDocument, PlanResource, STACK_TYPE, isProvider } from "./model";

/*
 * Text renderings of a plan and of a plan diff: the terminal tree, and the markdown a pull request comment shows.
 */

/** Resource count per type, sorted by type. */
export function countByType(resources: readonly Pick<PlanResource, "type">[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

const flags = (r: PlanResource) =>
    [
        r.importId ? `= imported from id ${r.importId}, not created` : "",
        r.protect ? "protected" : "",
        r.retainOnDelete ? "retained on delete" : "",
    ]
        .filter(Boolean)
        .join(", ");

/** The plan as a tree of components and resources, then a count per type. */
export function renderTree(plan: PlanDocument): string {
    const children = new Map<string | null, PlanResource[]>();
    for (const r of plan.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines: string[] = [];
    const walk = (r: PlanResource, depth: number) => {
        const extra = flags(r);
        lines.push(`${"  ".repeat(depth)}${depth > 0 ? "└─ " : ""}${r.type}  ${r.name}${extra ? `  (${extra})` : ""}`);
        for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
    };
    for (const root of children.get(null) ?? []) walk(root, 0);
    const counted = plan.resources.filter((r) => r.type !== STACK_TYPE);
    lines.push("", `${counted.length} resources in stack "${plan.stack}":`);
    for (const [type, n] of countByType(counted)) lines.push(`  ${String(n).padStart(4)}  ${type}`);
    return lines.join("\n");
}

/** Each pipeline's steps in brief, one line a pipeline, under a `Steps:` heading; nothing when there are none. */
export function renderStepsBrief(lines: readonly string[]): string {
    return lines.length === 0 ? "" : ["", "Steps:", ...lines.map((l) => `  ${l}`)].join("\n");
}

/** The diff for a terminal: one line a resource, changed paths beside updates. */
export function renderDiffText(diff: PlanDiff): string {
    const lines: string[] = [];
    const change = (c: ResourceChange) => {
        const shown = new Map(
            c.values.map((v) => [v.path, `${v.path} ${JSON.stringify(v.before)} → ${JSON.stringify(v.after)}`]),
        );
        for (const p of c.rotated ?? []) shown.set(p, `${p} (secret set again)`);
        if (c.previousUrn !== undefined) shown.set("urn", `renamed from ${urnName(c.previousUrn)}`);
        return `${c.type}  ${c.name}: ${c.paths.map((p) => shown.get(p) ?? p).join(", ")}`;
    };
    // An adopted resource (`ci-platform:adopt`) is read into the state, not created: `=` as `pulumi preview` shows it.
    for (const r of diff.added)
        lines.push(
            r.importId ? `= import   ${r.type}  ${r.name}  (id ${r.importId})` : `+ create   ${r.type}  ${r.name}`,
        );
    for (const c of diff.replaced) lines.push(`+-replace  ${change(c)}${c.protect ? "  [PROTECTED]" : ""}`);
    const textLines = (c: ResourceChange) => {
        for (const l of c.lines) {
            const counted = new Map<string, number>();
            for (const x of [...l.removed.map((r) => `- ${r}`), ...l.added.map((a) => `+ ${a}`)])
                counted.set(x, (counted.get(x) ?? 0) + 1);
            const shown = [...counted].map(([x, n]) => (n > 1 ? `${x}  (×${n})` : x));
            for (const x of shown.slice(0, 12)) lines.push(`      ${l.path}: ${x}`);
            if (shown.length > 12) lines.push(`      ${l.path}: … ${shown.length - 12} more changed line(s)`);
        }
    };
    for (const c of diff.updated) {
        lines.push(`~ update   ${change(c)}`);
        textLines(c);
    }
    for (const r of diff.removed)
        lines.push(
            `- delete   ${r.type}  ${r.name}${r.retainOnDelete ? "  (retained in the cloud)" : ""}${r.protect ? "  [PROTECTED]" : ""}`,
        );
    const s = summary(diff);
    lines.push(
        "",
        `${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete${s.import > 0 ? `, ${s.import} to import` : ""}`,
    );
    return lines.join("\n");
}

/** Whether an added resource is imported (adopted) rather than created. */
const imported = (r: PlanResource) => r.importId !== null && r.importId !== undefined;

function summary(diff: PlanDiff) {
    return {
        create: diff.added.filter((r) => !imported(r)).length,
        import: diff.added.filter(imported).length,
        update: diff.updated.length,
        replace: diff.replaced.length,
        delete: diff.removed.length,
    };
}

/** An extra markdown section, e.g. a Mermaid diagram. */
export interface MarkdownSection {
    readonly title: string;
    readonly body: string;
}

const code = (s: string) => "`" + s.replace(/`/g, "'") + "`";

/** The name at the end of a URN. */
const urnName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** A change's paths in markdown, a secret set again marked as such (never its value), a rename with its old name. */
const markdownPaths = (c: ResourceChange) =>
    c.paths
        .map((p) =>
            p === "urn" && c.previousUrn !== undefined
                ? `renamed from ${code(urnName(c.previousUrn))}`
                : code(p) + ((c.rotated ?? []).includes(p) ? " (secret set again)" : ""),
        )
        .join(", ");

/** The pull request comment for a diff: callouts first, a summary per type, then details folded per resource. */
export function renderDiffMarkdown(diff: PlanDiff, stack: string, sections: readonly MarkdownSection[] = []): string {
    const out: string[] = [`## ci-platform plan: stack ${code(stack)}`, ""];
    const s = summary(diff);
    const dangerous = [
        ...diff.replaced
            .filter((c) => c.protect)
            .map(
                (c) =>
                    `- :warning: **replace protected** ${code(c.type)} ${code(c.name)} (${c.replaceReasons.join(", ")})`,
            ),
        ...diff.removed
            .filter((r) => r.protect)
            .map((r) => `- :warning: **delete protected** ${code(r.type)} ${code(r.name)}`),
    ];
    const retained = diff.removed.filter((r) => r.retainOnDelete && !r.protect);
    if (dangerous.length > 0) out.push("### Needs attention", "", ...dangerous, "");
    if (retained.length > 0)
        out.push(
            `${retained.length} removed resource(s) are retained on delete: they leave the stack but stay in the cloud.`,
            "",
        );
    if (s.create + s.import + s.update + s.replace + s.delete === 0) out.push("No changes.", "");
    else {
        out.push(
            `**${s.create}** to create, **${s.update}** to update, **${s.replace}** to replace, **${s.delete}** to delete${s.import > 0 ? `, **${s.import}** to import (adopted, not created)` : ""}.`,
            "",
        );
        const types = new Map<string, { create: number; update: number; replace: number; delete: number }>();
        const bump = (type: string, k: "create" | "update" | "replace" | "delete") => {
            const row = types.get(type) ?? { create: 0, update: 0, replace: 0, delete: 0 };
            row[k]++;
            types.set(type, row);
        };
        diff.added.filter((r) => !imported(r)).forEach((r) => bump(r.type, "create"));
        diff.updated.forEach((c) => bump(c.type, "update"));
        diff.replaced.forEach((c) => bump(c.type, "replace"));
        diff.removed.forEach((r) => bump(r.type, "delete"));
        out.push("| resource type | create | update | replace | delete |", "| --- | ---: | ---: | ---: | ---: |");
        for (const [type, row] of [...types.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
            out.push(`| ${code(type)} | ${row.create} | ${row.update} | ${row.replace} | ${row.delete} |`);
        out.push("");
        const fold = (title: string, lines: string[]) =>
            lines.length > 0
                ? [`<details><summary>${title} (${lines.length})</summary>`, "", ...lines, "", "</details>", ""]
                : [];
        out.push(
            ...fold(
                "Replaced",
                diff.replaced.map((c) => `- ${code(c.name)} ${code(c.type)}: ${markdownPaths(c)}`),
            ),
            ...fold(
                "Updated",
                diff.updated.map((c) => `- ${code(c.name)} ${code(c.type)}: ${markdownPaths(c)}`),
            ),
            ...fold(
                "Imported (`=`: adopted from `ci-platform:adopt`, not created)",
                diff.added
                    .filter(imported)
                    .map((r) => `- = ${code(r.name)} ${code(r.type)} from id ${code(r.importId ?? "")}`),
            ),
            ...fold(
                "Created",
                diff.added.filter((r) => !imported(r)).map((r) => `- ${code(r.name)} ${code(r.type)}`),
            ),
            ...fold(
                "Deleted",
                diff.removed.map((r) => `- ${code(r.name)} ${code(r.type)}${r.retainOnDelete ? " (retained)" : ""}`),
            ),
        );
    }
    for (const section of sections) out.push(`### ${section.title}`, "", section.body, "");
    return out.join("\n");
}

/** The markdown for a whole plan (no base to compare with): counts per type, then the extra sections. */
export function renderPlanMarkdown(plan: PlanDocument, sections: readonly MarkdownSection[] = []): string {
    const counted = plan.resources.filter((r) => r.type !== STACK_TYPE && !isProvider(r));
    const out = [
        `## ci-platform plan: stack ${code(plan.stack)}`,
        "",
        `${counted.length} resources.`,
        "",
        "| resource type | count |",
        "| --- | ---: |",
        ...countByType(counted).map(([type, n]) => `| ${code(type)} | ${n} |`),
        "",
    ];
    const imports = plan.resources.filter((r) => r.importId);
    if (imports.length > 0)
        out.push(
            `${imports.length} of them adopted by import (\`=\`, \`ci-platform:adopt\`), not created:`,
            "",
            ...imports.map((r) => `- = ${code(r.name)} ${code(r.type)} from id ${code(r.importId ?? "")}`),
            "",
        );
    for (const section of sections) out.push(`### ${section.title}`, "", section.body, "");
    return out.join("\n");
}
