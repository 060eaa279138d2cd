import { CronExpressionParser } from "cron-parser";

/*
 * Buildkite's cron dialect for pipeline schedules (buildkite/docs pages/pipelines/configure/workflows/
 * scheduled_builds.md, "Schedule intervals"):
 * - one of the predefined intervals @hourly, @daily, @midnight, @weekly, @monthly, @yearly;
 * - or five fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6) and, optionally, a time
 *   zone as the last segment: an IANA name such as Europe/Berlin, or an offset such as +09:00;
 * - extensions: `/` steps, `L` or `last` in the day of month (also `-2-L`, the last two days), and a modulo in the
 *   day of week (`0%3`, `0%3+1`);
 * - the `~` random-value operator is rejected, and intervals under 10 minutes are not supported.
 * The fields themselves are parsed with cron-parser; the Buildkite-only extensions are checked here and replaced by
 * their base before it sees them.
 */

/** Buildkite's predefined intervals (scheduled_builds.md, "Predefined intervals"). */
export const PREDEFINED_INTERVALS = ["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly"] as const;

/** The shortest interval Buildkite schedules ("does not support intervals less than 10 minutes"). */
export const MIN_INTERVAL_MINUTES = 10;

const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"] as const;
const UTC_OFFSET = /^[+-](0\d|1[0-4]):[0-5]\d$/;

/** Whether `zone` is an IANA time zone name this runtime knows (Node ships the full tz database). */
function isTimeZoneName(zone: string): boolean {
    if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(zone)) return false;
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
        return true;
    } catch {
        return false;
    }
}

/** The day-of-month field with `last` / `-N-L` replaced by cron-parser's `L`, or a problem. */
function dayOfMonthField(field: string): { field: string } | { problem: string } {
    const parts = field.split(",").map((part) => {
        const lower = part.toLowerCase();
        if (lower === "last") return "L";
        const fromEnd = /^-(\d+)-(?:l|last)$/.exec(lower);
        if (fromEnd) return Number(fromEnd[1]) >= 1 && Number(fromEnd[1]) <= 30 ? "L" : "";
        return part;
    });
    if (parts.includes("")) return { problem: "day of month: -N-L takes N from 1 to 30" };
    return { field: parts.join(",") };
}

/** The day-of-week field without Buildkite's modulo extension (`d%n` or `d%n+o`), or a problem. */
function dayOfWeekField(field: string): { field: string } | { problem: string } {
    if (!field.includes("%")) return { field };
    const parts = field.split(",").map((part) => {
        if (!part.includes("%")) return part;
        const modulo = /^([^%]+)%(\d+)(?:\+(\d+))?$/.exec(part);
        if (!modulo || Number(modulo[2]) < 1) return "";
        return modulo[1];
    });
    if (parts.includes("")) return { problem: "day of week: a modulo is written d%n or d%n+offset, with n at least 1" };
    return { field: parts.join(",") };
}

/**
 * The shortest time in minutes between two runs of a line with these minute and hour values: between two minutes of
 * one hour, or from the last minute of an hour to the first of the next when both hours run (counting 23 and 0, which
 * over-reports only for lines whose days are not consecutive: conservative).
 */
function shortestGap(minutes: readonly number[], hours: readonly number[]): number {
    const m = [...minutes].sort((a, b) => a - b);
    let gap = Infinity;
    for (let i = 1; i < m.length; i++) gap = Math.min(gap, m[i] - m[i - 1]);
    const hourSet = new Set(hours);
    if (hours.some((h) => hourSet.has((h + 1) % 24))) gap = Math.min(gap, 60 - m[m.length - 1] + m[0]);
    return gap;
}

/**
 * Why `line` is not a cron interval Buildkite accepts, or undefined when it is. The message says what to write
 * instead.
 */
export function cronLineProblem(line: string): string | undefined {
    const trimmed = line.trim();
    if (trimmed === "")
        return "is empty; give five cron fields such as 0 2 * * * or a predefined interval such as @daily";
    if (trimmed.startsWith("@")) {
        return (PREDEFINED_INTERVALS as readonly string[]).includes(trimmed)
            ? undefined
            : `"${trimmed}" is not one of Buildkite's predefined intervals (${PREDEFINED_INTERVALS.join(", ")})`;
    }
    if (trimmed.includes("~"))
        return "the ~ random-value operator is not supported in Buildkite schedules; give explicit values";
    const fields = trimmed.split(/\s+/);
    if (fields.length === 6) {
        const last = fields[5];
        if (UTC_OFFSET.test(last) || isTimeZoneName(last)) fields.pop();
        else if (/^[0-9*]/.test(last))
            return "has six fields; Buildkite cron lines have five (minute hour day-of-month month day-of-week), no seconds, then an optional time zone";
        else return `"${last}" is not a time zone; use an IANA name such as Europe/Berlin or an offset such as +09:00`;
    }
    if (fields.length !== 5)
        return `has ${fields.length} fields; Buildkite cron lines have five (minute hour day-of-month month day-of-week) and an optional time zone`;
    for (const [i, field] of fields.entries()) {
        // cron-parser also reads `?` and Jenkins' `H`; neither is POSIX cron nor a documented Buildkite extension.
        if (!/^[0-9A-Za-z*,/%+#-]+$/.test(field) || /[?]/.test(field) || /(^|[,/-])H/.test(field))
            return `${FIELD_NAMES[i]} field "${field}" holds characters Buildkite's cron syntax does not accept`;
    }
    const dom = dayOfMonthField(fields[2]);
    if ("problem" in dom) return dom.problem;
    const dow = dayOfWeekField(fields[4]);
    if ("problem" in dow) return dow.problem;
    const expression = [fields[0], fields[1], dom.field, fields[3], dow.field].join(" ");
    let minutes: number[];
    let hours: number[];
    try {
        // Seconds fixed at 0: Buildkite's lines have no seconds field.
        const parsed = CronExpressionParser.parse(`0 ${expression}`, {
            currentDate: new Date(Date.UTC(2026, 0, 1)),
            tz: "UTC",
        });
        parsed.next(); // a line that never fires (a day no month has) throws here
        minutes = parsed.fields.minute.values.map(Number);
        hours = parsed.fields.hour.values.map(Number);
    } catch (e) {
        return `is not a valid cron line (${(e as Error).message}); fields are minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6`;
    }
    const gap = shortestGap(minutes, hours);
    if (gap < MIN_INTERVAL_MINUTES)
        return `runs ${gap} minute${gap === 1 ? "" : "s"} apart; Buildkite does not schedule intervals under ${MIN_INTERVAL_MINUTES} minutes (use a step of at least 10, such as */10)`;
    return undefined;
}
