/*
 * The benchmark's figures from its paired rounds (scripts/bench.ts): each round runs the SDK-loading baseline, and
 * for every stack its plan and its SDK floor (scripts/bench/replay.ts: the SDKs registering the plan's resources and
 * nothing else), one after the other, so a plan's ratios to the baseline and to its floor are taken within its round
 * (the same load on the machine) and the table gives the median of those ratios. Pure: samples in, rows out.
 */

/** One measured process: wall time, CPU time (user + system, of the whole process) and peak resident memory. */
export interface Sample {
    readonly wallMs: number;
    readonly userMs: number;
    readonly systemMs: number;
    readonly maxRssMb: number;
}

/** One round: the baseline, each plan and each plan's SDK floor, by label, measured one after the other. */
export interface Round {
    readonly baseline: Sample;
    readonly plans: Readonly<Record<string, Sample>>;
    /** Per plan label, the replay of its resources (absent from rounds measured without floors). */
    readonly floors?: Readonly<Record<string, Sample>>;
}

/** A plan's SDK floor over the rounds: the replay of its resources. */
export interface FloorFigures {
    /** Median CPU time of the replay, ms. */
    readonly cpuMs: number;
    /** Median peak RSS of the replay, MiB. */
    readonly maxRssMb: number;
    /** Median over the rounds of (the plan's CPU / the same round's replay CPU). */
    readonly cpuRatio: number;
}

/** A row of the table: medians over the rounds. */
export interface Row {
    readonly label: string;
    /** Median CPU time (user + system), ms. */
    readonly cpuMs: number;
    readonly wallMs: number;
    /** Median and largest peak RSS over the rounds, MiB. */
    readonly maxRssMb: number;
    readonly largestRssMb: number;
    /** Median over the rounds of (this CPU / the same round's baseline CPU); 1 for the baseline. */
    readonly cpuRatio: number;
    /** The plan's SDK floor, when every round measured it (never for the baseline). */
    readonly floor?: FloorFigures;
}

/** The median of a non-empty list (the mean of the middle two for an even length). */
export function median(xs: readonly number[]): number {
    if (xs.length === 0) throw new Error("median of no samples");
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const cpu = (s: Sample) => s.userMs + s.systemMs;

/** The rows of the table: the baseline first, then each plan in the order of `labels`. */
export function summarise(rounds: readonly Round[], labels: readonly string[]): Row[] {
    const row = (label: string, samples: readonly Sample[], ratios: readonly number[]): Row => ({
        label,
        cpuMs: median(samples.map(cpu)),
        wallMs: median(samples.map((s) => s.wallMs)),
        maxRssMb: median(samples.map((s) => s.maxRssMb)),
        largestRssMb: Math.max(...samples.map((s) => s.maxRssMb)),
        cpuRatio: median(ratios),
    });
    const baselines = rounds.map((r) => r.baseline);
    return [
        row(
            "SDK-loading baseline",
            baselines,
            baselines.map(() => 1),
        ),
        ...labels.map((label) => {
            const paired = rounds.map((r) => {
                const sample = r.plans[label];
                if (sample === undefined) throw new Error(`round without a sample of ${label}`);
                return { sample, ratio: cpu(sample) / cpu(r.baseline) };
            });
            const floors = rounds.map((r) => r.floors?.[label]);
            const measured = floors.filter((f): f is Sample => f !== undefined);
            if (measured.length > 0 && measured.length < rounds.length)
                throw new Error(`${label}: an SDK floor in some rounds only`);
            return {
                ...row(
                    label,
                    paired.map((p) => p.sample),
                    paired.map((p) => p.ratio),
                ),
                ...(measured.length === 0
                    ? {}
                    : {
                          floor: {
                              cpuMs: median(measured.map(cpu)),
                              maxRssMb: median(measured.map((f) => f.maxRssMb)),
                              cpuRatio: median(paired.map((p, i) => cpu(p.sample) / cpu(measured[i]))),
                          },
                      }),
            };
        }),
    ];
}
