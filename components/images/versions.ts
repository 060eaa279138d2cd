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

/** One entry of `versions.json`: the pinned version and the content digest its tags were built from. */
export interface ImageVersionRecord {
    /** The calendar version, `YYYY.MM.N`. */
    readonly version: string;
    /**
     * `sha256:<hex>` of the Dockerfile's content at this version ({@link imageContentDigest}); undefined for an
     * entry in the older form (a bare version string), which the config checks refuse.
     */
    readonly digest: string | undefined;
}

/** Image name to its entry in `versions.json`. */
export type ImageVersionRecords = Readonly<Record<string, ImageVersionRecord>>;

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
        const unknown = Object.keys(fields).filter((k) => k !== "version" && k !== "digest");
        if (typeof version !== "string" || !CALENDAR_VERSION.test(version))
            problems.push({
                image,
                message: `${VERSIONS_FILE} pins "${image}" to ${JSON.stringify(version)}, which is not a calendar version YYYY.MM.N (such as 2026.11.1)`,
            });
        else if (isObject && (typeof digest !== "string" || !CONTENT_DIGEST.test(digest)))
            problems.push({
                image,
                message: `${VERSIONS_FILE} records ${JSON.stringify(digest)} as the content digest of "${image}" ${version}, which is not sha256:<64 hex digits>`,
            });
        else if (unknown.length > 0)
            problems.push({
                image,
                message: `${VERSIONS_FILE} entry "${image}" has unknown field(s) ${unknown.join(", ")}; an entry is {"version", "digest"}`,
            });
        else out[image] = { version, digest: typeof digest === "string" ? digest : undefined };
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
 * The text of `versions.json`: keys sorted, each entry `{ "version", "digest" }`, two-space indentation, a trailing
 * newline. Same entries, same bytes.
 */
export function formatVersions(records: ImageVersionRecords): string {
    const sorted = Object.fromEntries(
        Object.keys(records)
            .sort()
            .map((k) => [k, { version: records[k].version, digest: records[k].digest }]),
    );
    return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * A copy of `records` with `image` set to its next version (see {@link bumpVersion}) and `digest`, the content
 * digest of the Dockerfile that version is built from.
 */
export function bumpImage(
    records: ImageVersionRecords,
    image: string,
    today: string,
    digest: string,
): { records: ImageVersionRecords; from: string | undefined; to: string } {
    if (!CONTENT_DIGEST.test(digest)) throw new Error(`"${digest}" is not a content digest sha256:<hex>`);
    const from = records[image]?.version;
    const to = bumpVersion(from, today);
    return { records: { ...records, [image]: { version: to, digest } }, from, to };
}
