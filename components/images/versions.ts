/*
 * The image version pins in `agent-images/versions.json`: `{ "<image>": { "version": "YYYY.MM.N", "digest":
 * "sha256:<hex>" } }`: the pinned version and the content digest of the Dockerfile it was pinned for
 * ({@link imageContentDigest}; `images:bump` writes both). The digest is what makes a tag immutable by construction:
 * the config checks refuse a Dockerfile whose content no longer matches its version's digest (check.ts).
 *
 * A version is a calendar version: the year, the zero-padded month, and the release number within that month
 * starting at 1 (`2026.11.1`, `2026.11.2`, `2026.12.1`). One version covers every variant of an image, and each
 * variant's tag is `<variant>-<version>` (see image-ref.ts). Data in, data out: reading the file is files.ts's job.
 */

/** Where the pins live, relative to the repository root. */
export const VERSIONS_FILE = "agent-images/versions.json";

/** Image name to its pinned calendar version. */
export type ImageVersions = Readonly<Record<string, string>>;

/**
 * One version ever pinned for an image, as `images:bump` recorded it: what its pushes were built from. Its tags
 * (`<variant>-<version>`) exist in the IMMUTABLE repositories from the first `pulumi up` after the bump, and the
 * docker provider never deletes a pushed image (pulumi/pulumi-docker v5.1.0 provider/provider.go: Delete does
 * nothing for an Image), so no later change may build this version with other inputs or for another variant.
 */
export interface ImageVersionEntry {
    /** The calendar version, `YYYY.MM.N`. */
    readonly version: string;
    /** `sha256:<hex>` of the Dockerfile's content ({@link imageContentDigest}). */
    readonly digest: string;
    /** The variants this version was released with, in declared order. */
    readonly variants: readonly string[];
    /** The `SOURCE_URL` build argument of its pushes, fixed at bump time (a later owner change does not alter it). */
    readonly sourceUrl: string;
}

/**
 * One image of `versions.json`: the pinned version and the history of every version ever pinned, oldest first,
 * the pin's own entry last: `{ "version": "2026.11.2", "history": [{ "version": "2026.11.1", ... }, { "version":
 * "2026.11.2", ... }] }`. The older form `{ "version", "digest" }` (or a bare version) reads with an empty history,
 * which the config checks refuse until `images:bump` records one.
 */
export interface ImageVersionRecord {
    /** The pinned calendar version, `YYYY.MM.N`. */
    readonly version: string;
    /** The digest recorded for the pinned version: its history entry's, else the older form's; undefined if none. */
    readonly digest: string | undefined;
    /** Every version ever pinned, oldest first; empty in the older forms. */
    readonly history: readonly ImageVersionEntry[];
}

/** Image name to its entry in `versions.json`. */
export type ImageVersionRecords = Readonly<Record<string, ImageVersionRecord>>;

/** The history entry of the pinned version, if the history has one. */
export function pinnedEntry(record: ImageVersionRecord): ImageVersionEntry | undefined {
    return record.history.find((e) => e.version === record.version);
}

/**
 * The `SOURCE_URL` an image's version records: the image's directory in `<owner>/ci-platform` on GitHub. Recorded at
 * bump time and read back from the history by the program, so a later change of `ci-platform:github.owner` leaves
 * every pushed version's build arguments as they were.
 */
export function imageSourceUrl(owner: string, image: string): string {
    return `https://github.com/${owner}/ci-platform/tree/main/agent-images/${image}`;
}

/** `sha256:` and 64 lowercase hex digits. */
export const CONTENT_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `YYYY.MM.N`: a four-digit year, a two-digit month 01-12, a release number from 1 without leading zeros. */
export const CALENDAR_VERSION = /^(\d{4})\.(0[1-9]|1[0-2])\.([1-9]\d*)$/;

/** A parsed calendar version. */
export interface CalendarVersion {
    readonly year: number;
    readonly month: number;
    readonly release: number;
}

/** Parses `2026.11.1`; undefined when the text is not a calendar version. */
export function parseCalendarVersion(text: string): CalendarVersion | undefined {
    const m = CALENDAR_VERSION.exec(text);
    if (!m) return undefined;
    return { year: Number(m[1]), month: Number(m[2]), release: Number(m[3]) };
}

/** Formats a calendar version as `YYYY.MM.N`. */
export function formatCalendarVersion(v: CalendarVersion): string {
    return `${String(v.year).padStart(4, "0")}.${String(v.month).padStart(2, "0")}.${v.release}`;
}

/** Orders two calendar versions: negative when `a` is older than `b`. Throws on text that is not a version. */
export function compareVersions(a: string, b: string): number {
    const pa = parseCalendarVersion(a);
    const pb = parseCalendarVersion(b);
    if (!pa || !pb) throw new Error(`not calendar versions: "${a}", "${b}"`);
    return pa.year - pb.year || pa.month - pb.month || pa.release - pb.release;
}

/**
 * The version after `current`, released on `today` (a `YYYY-MM-DD` date, read in UTC). The next release in the
 * same month increments the release number; the first release of a later month restarts it at 1. Versions never
 * go backwards: if `current` is already in a later month than `today` (a clock set wrong), its release number
 * is incremented. Without a current version, the result is today's first release.
 */
export function bumpVersion(current: string | undefined, today: string): string {
    const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(today);
    if (!date || Number(date[2]) < 1 || Number(date[2]) > 12)
        throw new Error(`"${today}" is not a date; write it as YYYY-MM-DD`);
    const first: CalendarVersion = { year: Number(date[1]), month: Number(date[2]), release: 1 };
    if (current === undefined) return formatCalendarVersion(first);
    const parsed = parseCalendarVersion(current);
    if (!parsed) throw new Error(`"${current}" is not a calendar version YYYY.MM.N`);
    const sameOrLaterMonth = parsed.year > first.year || (parsed.year === first.year && parsed.month >= first.month);
    return formatCalendarVersion(sameOrLaterMonth ? { ...parsed, release: parsed.release + 1 } : first);
}

/** A problem in `versions.json`: the image key it concerns (if any), and what is wrong. */
export interface VersionsProblem {
    readonly image?: string;
    readonly message: string;
}

/**
 * Validates the parsed JSON of `versions.json`: an object whose keys are image names and whose values are
 * `{ "version": "YYYY.MM.N", "digest": "sha256:<hex>" }` (or, in the older form, a bare version string, read with
 * no digest). Returns the entries, or every problem found.
 */
export function parseVersionRecords(
    raw: unknown,
): { ok: true; value: ImageVersionRecords; error?: never } | { ok: false; value?: never; error: VersionsProblem[] } {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
        return {
            ok: false,
            error: [{ message: `${VERSIONS_FILE} must hold a JSON object of image name to version` }],
        };
    const problems: VersionsProblem[] = [];
    const out: Record<string, ImageVersionRecord> = {};
    for (const [image, entry] of Object.entries(raw as Record<string, unknown>)) {
        const isObject = entry !== null && typeof entry === "object" && !Array.isArray(entry);
        const fields = isObject ? (entry as Record<string, unknown>) : {};
        const version = isObject ? fields.version : entry;
        const digest = isObject ? fields.digest : undefined;
        const unknown = Object.keys(fields).filter((k) => !["version", "digest", "history"].includes(k));
        const history = parseHistory(image, fields.history);
        if (typeof version !== "string" || !CALENDAR_VERSION.test(version))
            problems.push({
                image,
                message: `${VERSIONS_FILE} pins "${image}" to ${JSON.stringify(version)}, which is not a calendar version YYYY.MM.N (such as 2026.11.1)`,
            });
        else if (isObject && digest !== undefined && (typeof digest !== "string" || !CONTENT_DIGEST.test(digest)))
            problems.push({
                image,
                message: `${VERSIONS_FILE} records ${JSON.stringify(digest)} as the content digest of "${image}" ${version}, which is not sha256:<64 hex digits>`,
            });
        else if (isObject && digest === undefined && fields.history === undefined)
            problems.push({
                image,
                message: `${VERSIONS_FILE} records ${JSON.stringify(digest)} as the content digest of "${image}" ${version}, which is not sha256:<64 hex digits>`,
            });
        else if (unknown.length > 0)
            problems.push({
                image,
                message: `${VERSIONS_FILE} entry "${image}" has unknown field(s) ${unknown.join(", ")}; an entry is {"version", "history"}`,
            });
        else if (!history.ok) problems.push(...history.error);
        else {
            const record = { version, digest: undefined, history: history.value };
            const own = pinnedEntry(record)?.digest ?? (typeof digest === "string" ? digest : undefined);
            out[image] = { ...record, digest: own };
        }
    }
    return problems.length > 0 ? { ok: false, error: problems } : { ok: true, value: out };
}

/** The pins alone, image name to version (see {@link parseVersionRecords}). */
export function parseVersions(
    raw: unknown,
): { ok: true; value: ImageVersions; error?: never } | { ok: false; value?: never; error: VersionsProblem[] } {
    const parsed = parseVersionRecords(raw);
    if (!parsed.ok) return parsed;
    return { ok: true, value: Object.fromEntries(Object.entries(parsed.value).map(([k, r]) => [k, r.version])) };
}

function parseHistory(
    image: string,
    raw: unknown,
): { ok: true; value: ImageVersionEntry[] } | { ok: false; error: VersionsProblem[] } {
    if (raw === undefined) return { ok: true, value: [] };
    const bad = (what: string): { ok: false; error: VersionsProblem[] } => ({
        ok: false,
        error: [
            {
                image,
                message: `${VERSIONS_FILE} history of "${image}" ${what}; each entry is {"version": "YYYY.MM.N", "digest": "sha256:<hex>", "variants": [...], "sourceUrl": "https://..."}, oldest first`,
            },
        ],
    });
    if (!Array.isArray(raw)) return bad("is not a list");
    const out: ImageVersionEntry[] = [];
    for (const [i, e] of (raw as unknown[]).entries()) {
        if (e === null || typeof e !== "object" || Array.isArray(e)) return bad(`has entry ${i} that is not an object`);
        const f = e as Record<string, unknown>;
        const extra = Object.keys(f).filter((k) => !["version", "digest", "variants", "sourceUrl"].includes(k));
        if (
            typeof f.version !== "string" ||
            !CALENDAR_VERSION.test(f.version) ||
            typeof f.digest !== "string" ||
            !CONTENT_DIGEST.test(f.digest) ||
            !Array.isArray(f.variants) ||
            f.variants.length === 0 ||
            !(f.variants as unknown[]).every((v) => typeof v === "string" && v !== "") ||
            typeof f.sourceUrl !== "string" ||
            f.sourceUrl === "" ||
            extra.length > 0
        )
            return bad(`has a malformed entry ${i} (${JSON.stringify(f.version ?? null)})`);
        if (out.length > 0 && compareVersions(out[out.length - 1].version, f.version) >= 0)
            return bad(
                `is not in increasing version order at entry ${i} (${f.version} after ${out[out.length - 1].version})`,
            );
        out.push({
            version: f.version,
            digest: f.digest,
            variants: [...(f.variants as string[])],
            sourceUrl: f.sourceUrl,
        });
    }
    return { ok: true, value: out };
}

function parseJson(text: string): { ok: true; raw: unknown } | { ok: false; error: VersionsProblem[] } {
    try {
        return { ok: true, raw: JSON.parse(text) };
    } catch (e) {
        return { ok: false, error: [{ message: `${VERSIONS_FILE} is not valid JSON: ${(e as Error).message}` }] };
    }
}

/** Parses the text of `versions.json` into the pins (see {@link parseVersions}). */
export function parseVersionsText(text: string): ReturnType<typeof parseVersions> {
    const json = parseJson(text);
    return json.ok ? parseVersions(json.raw) : json;
}

/** Parses the text of `versions.json` into its entries (see {@link parseVersionRecords}). */
export function parseVersionRecordsText(text: string): ReturnType<typeof parseVersionRecords> {
    const json = parseJson(text);
    return json.ok ? parseVersionRecords(json.raw) : json;
}

/**
 * The text of `versions.json`: keys sorted, each entry `{ "version", "history" }` (the older `digest` kept only
 * for an entry with no history yet), two-space indentation, a trailing newline. Same entries, same bytes.
 */
export function formatVersions(records: ImageVersionRecords): string {
    const sorted = Object.fromEntries(
        Object.keys(records)
            .sort()
            .map((k) => {
                const r = records[k];
                const history = r.history.map((e) => ({
                    version: e.version,
                    digest: e.digest,
                    variants: [...e.variants],
                    sourceUrl: e.sourceUrl,
                }));
                // An older entry stays in its own form, so the file always reads back.
                if (history.length > 0) return [k, { version: r.version, history }];
                return [k, r.digest === undefined ? r.version : { version: r.version, digest: r.digest }];
            }),
    );
    return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** What a new version is built from, recorded by {@link bumpImage}. */
export interface BumpInputs {
    /** The content digest of the Dockerfile the version is built from. */
    readonly digest: string;
    /** The variants it is released with. */
    readonly variants: readonly string[];
    /** Its `SOURCE_URL` build argument. */
    readonly sourceUrl: string;
}

/**
 * A copy of `records` with `image` set to its next version (see {@link bumpVersion}), newer than every version in
 * its history, and that version appended to the history with what it is built from. The history is only ever
 * appended to: a version once pinned keeps its entry, so a later pin of it (a revert) is refused by the checks.
 */
export function bumpImage(
    records: ImageVersionRecords,
    image: string,
    today: string,
    inputs: BumpInputs,
): { records: ImageVersionRecords; from: string | undefined; to: string } {
    if (!CONTENT_DIGEST.test(inputs.digest)) throw new Error(`"${inputs.digest}" is not a content digest sha256:<hex>`);
    if (inputs.variants.length === 0) throw new Error(`image "${image}" has no variants to record`);
    const current = records[image];
    const from = current?.version;
    const newest = [from, ...(current?.history ?? []).map((e) => e.version)]
        .filter((v): v is string => v !== undefined)
        .sort(compareVersions)
        .pop();
    const to = bumpVersion(newest, today);
    const entry: ImageVersionEntry = {
        version: to,
        digest: inputs.digest,
        variants: [...inputs.variants],
        sourceUrl: inputs.sourceUrl,
    };
    return {
        records: {
            ...records,
            [image]: { version: to, digest: inputs.digest, history: [...(current?.history ?? []), entry] },
        },
        from,
        to,
    };
}
