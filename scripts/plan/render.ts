import { reviewableSteps } from "../../components/steps/stored-upload";
import { Hunk, PlanDiff, ResourceChange, lineDiff } from "./diff";
import { consequencesOf, shortType } from "./consequences";
import { PlanDocument, PlanResource, SECRET, STACK_TYPE, UNKNOWN, isProvider } from "./model";

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

/** The type whose created resources show their steps (a new pipeline's steps are its behaviour). */
const PIPELINE_TYPE = "buildkite:Pipeline/pipeline:Pipeline";

/** The most diff lines shown of one text (a steps diff, a policy's), updates and creates alike: the rest is counted. */
export const LINE_CAP = { text: 12, markdown: 30 } as const;

/** The most created pipelines whose steps are shown (a first plan creates hundreds): the rest are counted. */
export const CREATED_STEPS_CAP = 20;

/** A text's line diff, as a change carries it (diff.ts `ResourceChange.lines`). */
type TextDiff = { readonly path: string; readonly hunks: readonly Hunk[] };

/** A created pipeline's steps as one all-added hunk, or null for any other resource (or steps not known offline). */
export function createdSteps(r: PlanResource): TextDiff | null {
    const steps = r.inputs.steps;
    if (r.type !== PIPELINE_TYPE || typeof steps !== "string" || steps === SECRET || steps === UNKNOWN) return null;
    // A signing pipeline's steps: the document its one stored step uploads, decoded (stored-upload.ts).
    return { path: "steps", hunks: lineDiff("", reviewableSteps(steps)) };
}

/** The created (not adopted) pipelines whose steps are shown, and how many more are not. */
function createdWithSteps(diff: PlanDiff): { shown: Map<PlanResource, TextDiff>; more: number } {
    const all = diff.added.flatMap((r) => {
        const steps = imported(r) ? null : createdSteps(r);
        return steps === null ? [] : [[r, steps] as const];
    });
    return { shown: new Map(all.slice(0, CREATED_STEPS_CAP)), more: Math.max(0, all.length - CREATED_STEPS_CAP) };
}

/**
 * Hunks as unified-diff lines: each `@@` header, then ` ` (context), `-` or `+` and the line as it was, indentation
 * kept; at most `cap` of those lines, then a count of the rest.
 */
export function hunkLines(hunks: readonly Hunk[], cap: number): string[] {
    const out: string[] = [];
    let shown = 0;
    const total = hunks.reduce((n, h) => n + h.lines.length, 0);
    for (const h of hunks) {
        if (shown >= cap) break;
        out.push(h.header);
        for (const l of h.lines.slice(0, cap - shown)) out.push(`${l.op}${l.text}`);
        shown += Math.min(h.lines.length, cap - shown);
    }
    if (total > shown) out.push(`… ${total - shown} more line(s)`);
    return out;
}

/** What a diff whose base could not be planned says first: it compares with an empty stack. */
const baseFailedText = (why: string) =>
    `the base branch could not be planned (${why}), so this compares with an empty stack: every resource shows as a create, and nothing below is what the change does`;

/** What the text diff shows besides the diff. */
export interface DiffTextOptions {
    /** Why the base could not be planned, when it could not (the diff is then against an empty stack). */
    readonly baseFailed?: string;
}

/** The diff for a terminal: the consequences, then one line a resource, changed paths beside updates. */
export function renderDiffText(
    diff: PlanDiff,
    parents: ReadonlyMap<string, string | null> = new Map(),
    options: DiffTextOptions = {},
): string {
    const lines: string[] = [];
    if (options.baseFailed !== undefined) lines.push(`! NOT A DIFF: ${baseFailedText(options.baseFailed)}.`, "");
    // What the change does beyond its resource lines comes first (consequences.ts).
    const consequences = consequencesOf(diff, parents);
    if (consequences.length > 0) lines.push("Consequences:", ...consequences.map((c) => `  ! ${c.text}`), "");
    const change = (c: ResourceChange) => {
        const shown = new Map(
            c.values.map((v) => [v.path, `${v.path} ${JSON.stringify(v.before)} → ${JSON.stringify(v.after)}`]),
        );
        for (const p of c.rotated ?? []) shown.set(p, `${p} (secret set again)`);
        if (c.previousUrn !== undefined)
            shown.set(
                "urn",
                previousText(c.previousUrn, c.name, (t) => t),
            );
        return `${c.type}  ${c.name}: ${c.paths.map((p) => shown.get(p) ?? p).join(", ")}`;
    };
    const textLines = (texts: readonly TextDiff[]) => {
        for (const l of texts) {
            lines.push(`      ${l.path}:`);
            for (const x of hunkLines(l.hunks, LINE_CAP.text)) lines.push(`        ${x}`);
        }
    };
    // An adopted resource (`ci-platform:adopt`) is read into the state, not created: `=` as `pulumi preview` shows it.
    const created = createdWithSteps(diff);
    for (const r of diff.added) {
        lines.push(
            r.importId ? `= import   ${r.type}  ${r.name}  (id ${r.importId})` : `+ create   ${r.type}  ${r.name}`,
        );
        const steps = created.shown.get(r);
        if (steps) textLines([steps]);
    }
    if (created.more > 0) lines.push(`  (the steps of ${created.more} more new pipeline(s) are not shown)`);
    for (const c of diff.replaced) lines.push(`+-replace  ${change(c)}${c.protect ? "  [PROTECTED]" : ""}`);
    for (const c of diff.updated) {
        lines.push(`~ update   ${change(c)}`);
        textLines(c.lines);
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

/**
 * Where a resource matched through an alias was: its old name when it was renamed; else where it moved from (the
 * stack's top level, or under the old parent types), as for the providers and queues moved under components.
 */
export function previousText(previousUrn: string, name: string, quote: (text: string) => string): string {
    if (urnName(previousUrn) !== name) return `renamed from ${quote(urnName(previousUrn))}`;
    const qualified = previousUrn.split("::")[2] ?? "";
    const parents = qualified.split("$").slice(0, -1);
    return parents.length === 0 ? "moved from the stack's top level" : `moved from under ${quote(parents.join("$"))}`;
}

/** GitHub's comment limit is 65,536 characters; plan-comment.yml cuts the body at 60,000. */
export const COMMENT_BUDGET = 60_000;

/** What the PR comment of a diff shows besides the diff. */
export interface DiffMarkdownOptions {
    /** The policy pack's violations, one markdown line each, mandatory ones first: the verdict's first part. */
    readonly violations?: readonly string[];
    /** Diagrams and other sections, shown after the changes (give only those whose subject changed). */
    readonly sections?: readonly MarkdownSection[];
    /** Each changed resource's parent URN, to name fleets (consequences.ts `fleetOf`). */
    readonly parents?: ReadonlyMap<string, string | null>;
    /** The most characters the markdown may have ({@link COMMENT_BUDGET}); detail is cut from the bottom. */
    readonly budget?: number;
    /** Why the base could not be planned, when it could not: the comment's first lines say so, and nothing is green. */
    readonly baseFailed?: string;
}

const changeLine = (kind: string, type: string, name: string, rest = "") =>
    `- **${kind}** ${code(name)} (${shortType(type)})${rest}`;

/** Line diffs of texts (a pipeline's steps, a policy document) as fenced `diff` blocks in a list item. */
function lineDiffBlocks(texts: readonly TextDiff[]): string[] {
    const fenceFree = (x: string) => x.replace(/`{3,}/g, "'''");
    return texts.flatMap((l) => [
        "",
        `  ${code(l.path)}:`,
        "  ```diff",
        ...hunkLines(l.hunks, LINE_CAP.markdown).map((x) => `  ${fenceFree(x)}`),
        "  ```",
    ]);
}

/** A change's paths with before → after where both are short scalars; secrets by name only; a rename's old name. */
function changeDetail(c: ResourceChange): string {
    const values = new Map(c.values.map((v) => [v.path, v]));
    return c.paths
        .map((p) => {
            if (p === "urn" && c.previousUrn !== undefined) return previousText(c.previousUrn, c.name, code);
            if ((c.rotated ?? []).includes(p)) return `${code(p)} (secret set again)`;
            const v = values.get(p);
            return v === undefined
                ? code(p)
                : `${code(p)} ${code(JSON.stringify(v.before))} → ${code(JSON.stringify(v.after))}`;
        })
        .join(", ");
}

/**
 * The pull request comment for a diff, read top-down: the verdict (policy violations, then consequences: protected
 * resources `pulumi up` stops on, fleets whose instances are replaced, secrets set again) and the counts; then
 * creates, deletes and replacements; then updates with before → after values and step line diffs; then the
 * sections (diagrams); last the counts per type. Never longer than the budget: whole lines are cut from the bottom,
 * so the verdict, which comes first, is the last thing cut. `sections` may be given alone (the older signature).
 */
export function renderDiffMarkdown(
    diff: PlanDiff,
    stack: string,
    optionsOrSections: DiffMarkdownOptions | readonly MarkdownSection[] = {},
): string {
    const options: DiffMarkdownOptions = isSectionList(optionsOrSections)
        ? { sections: optionsOrSections }
        : optionsOrSections;
    const s = summary(diff);
    const violations = options.violations ?? [];
    const verdict = [
        `## ci-platform plan: stack ${code(stack)}`,
        "",
        ...(options.baseFailed === undefined ? [] : [`:x: **Not a diff:** ${baseFailedText(options.baseFailed)}.`, ""]),
        violations.length === 0
            ? "**Policy pack:** no violations."
            : `**Policy pack:** ${violations.length} violation(s):`,
        ...violations,
        "",
    ];
    const consequences = consequencesOf(diff, options.parents);
    if (consequences.length > 0) {
        verdict.push("**Consequences:**", "");
        for (const c of consequences)
            verdict.push(
                c.kind === "protected"
                    ? `- :no_entry: ${c.text.replace(/: pulumi up stops.*$/, "")}: \`pulumi up\` stops until \`pulumi state unprotect '${c.urn}'\``
                    : `- ${c.kind === "instances" ? ":recycle:" : ":key:"} ${c.text}`,
            );
        verdict.push("");
    }
    const retained = diff.removed.filter((r) => r.retainOnDelete && !r.protect);
    if (retained.length > 0)
        verdict.push(
            `${retained.length} removed resource(s) are retained on delete: they leave the stack but stay in the cloud.`,
            "",
        );
    const total = s.create + s.import + s.update + s.replace + s.delete;
    verdict.push(
        total === 0
            ? "No changes."
            : `**${s.create}** to create, **${s.update}** to update, **${s.replace}** to replace, **${s.delete}** to delete${s.import > 0 ? `, **${s.import}** to import (adopted, not created)` : ""}.`,
        "",
    );
    const created = createdWithSteps(diff);
    const real: string[] = [
        ...diff.added
            .filter(imported)
            .map((r) =>
                changeLine("import", r.type, r.name, ` from id ${code(r.importId ?? "")} (adopted, not created)`),
            ),
        ...diff.added
            .filter((r) => !imported(r))
            .flatMap((r) => {
                const steps = created.shown.get(r);
                return [changeLine("create", r.type, r.name), ...(steps ? [...lineDiffBlocks([steps]), ""] : [])];
            }),
        ...(created.more > 0 ? [`- _the steps of ${created.more} more new pipeline(s) are not shown_`] : []),
        ...diff.removed.map((r) =>
            changeLine(
                "delete",
                r.type,
                r.name,
                `${r.retainOnDelete ? " (retained in the cloud)" : ""}${r.protect ? " **protected**" : ""}`,
            ),
        ),
        ...diff.replaced.map((c) =>
            changeLine("replace", c.type, c.name, `: ${changeDetail(c)}${c.protect ? " **protected**" : ""}`),
        ),
    ];
    const updates = diff.updated.flatMap((c) => [
        changeLine("update", c.type, c.name, `: ${changeDetail(c)}`),
        ...lineDiffBlocks(c.lines),
    ]);
    const detail: string[] = [];
    if (real.length > 0) detail.push("### Creates, deletes and replacements", "", ...real, "");
    if (updates.length > 0) detail.push("### Updates", "", ...updates, "");
    for (const section of options.sections ?? []) detail.push(`### ${section.title}`, "", section.body, "");
    if (total > 0) detail.push(...countsByType(diff));
    return withinBudget(verdict, detail, options.budget ?? COMMENT_BUDGET);
}

function isSectionList(x: DiffMarkdownOptions | readonly MarkdownSection[]): x is readonly MarkdownSection[] {
    return Array.isArray(x);
}

/** The counts per (short) type, folded. */
function countsByType(diff: PlanDiff): string[] {
    const types = new Map<string, { create: number; update: number; replace: number; delete: number }>();
    const bump = (type: string, k: "create" | "update" | "replace" | "delete") => {
        const row = types.get(shortType(type)) ?? { create: 0, update: 0, replace: 0, delete: 0 };
        row[k]++;
        types.set(shortType(type), row);
    };
    diff.added.filter((r) => !imported(r)).forEach((r) => bump(r.type, "create"));
    diff.updated.forEach((c) => bump(c.type, "update"));
    diff.replaced.forEach((c) => bump(c.type, "replace"));
    diff.removed.forEach((r) => bump(r.type, "delete"));
    return [
        "<details><summary>Counts by type</summary>",
        "",
        "| type | create | update | replace | delete |",
        "| --- | ---: | ---: | ---: | ---: |",
        ...[...types.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([type, row]) => `| ${type} | ${row.create} | ${row.update} | ${row.replace} | ${row.delete} |`),
        "",
        "</details>",
        "",
    ];
}

/**
 * The verdict, then as much of the detail as fits in `budget` characters, cut at a line outside any fenced block or
 * `<details>`, with a last line saying how many lines were left out. The verdict is cut the same way only when it
 * alone does not fit.
 */
export function withinBudget(verdict: readonly string[], detail: readonly string[], budget: number): string {
    const lines = [...verdict, ...detail];
    const full = lines.join("\n");
    if (full.length <= budget) return full;
    const note = (n: number) =>
        `_… ${n} more line(s) cut to fit the comment: the full plan is in the CI run's summary and the job log._`;
    const reserve = note(lines.length).length + 2;
    let length = 0;
    let kept = 0;
    let safe = 0; // lines kept at the last point where no fence or <details> was open
    let fence = false;
    let details = 0;
    for (const line of lines) {
        if (length + line.length + 1 + reserve > budget) break;
        length += line.length + 1;
        kept++;
        if (/^\s*```/.test(line)) fence = !fence;
        if (line.startsWith("<details>")) details++;
        if (line.startsWith("</details>")) details--;
        if (!fence && details === 0) safe = kept;
    }
    return [...lines.slice(0, safe), "", note(lines.length - safe)].join("\n");
}

/**
 * The markdown for a whole plan (no base to compare with): the policy verdict, counts per type, the adopted
 * resources, then the extra sections, within the budget as {@link renderDiffMarkdown} is.
 */
export function renderPlanMarkdown(
    plan: PlanDocument,
    optionsOrSections:
        Pick<DiffMarkdownOptions, "violations" | "sections" | "budget"> | readonly MarkdownSection[] = {},
): string {
    const options = isSectionList(optionsOrSections) ? { sections: optionsOrSections } : optionsOrSections;
    const violations = options.violations ?? [];
    const counted = plan.resources.filter((r) => r.type !== STACK_TYPE && !isProvider(r));
    const verdict = [
        `## ci-platform plan: stack ${code(plan.stack)}`,
        "",
        ...(options.violations === undefined
            ? []
            : violations.length === 0
              ? ["**Policy pack:** no violations.", ""]
              : [`**Policy pack:** ${violations.length} violation(s):`, ...violations, ""]),
        `${counted.length} resources.`,
        "",
    ];
    const out = [
        "| type | count |",
        "| --- | ---: |",
        ...countByType(counted.map((r) => ({ type: shortType(r.type) }))).map(([type, n]) => `| ${type} | ${n} |`),
        "",
    ];
    const imports = plan.resources.filter((r) => r.importId);
    if (imports.length > 0)
        out.push(
            `${imports.length} of them adopted by import (\`=\`, \`ci-platform:adopt\`), not created:`,
            "",
            ...imports.map((r) => `- = ${code(r.name)} (${shortType(r.type)}) from id ${code(r.importId ?? "")}`),
            "",
        );
    for (const section of options.sections ?? []) out.push(`### ${section.title}`, "", section.body, "");
    return withinBudget(verdict, out, options.budget ?? COMMENT_BUDGET);
}
