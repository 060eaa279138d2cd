/*
 * The benchmark's figures from its paired rounds (scripts/bench.ts): each round runs the SDK-loading baseline and
 * every plan once, one after the other, so a plan's ratio to the baseline is taken within its round (the same load
 * on the machine) and the table gives the median of those ratios. Pure: samples in, rows out.
 */

/** One measured process: wall time, CPU time (user + system, of the whole process) and peak resident memory. */
export interface Sample {
    readonly wallMs: number;
    readonly userMs: number;
    readonly systemMs: number;
    readonly maxRssMb: number;
}

/** One round: the baseline and each plan, by label, measured one after the other. */
export interface Round {
    readonly baseline: Sample;
    readonly plans: Readonly<Record<string, Sample>>;
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
            return row(
                label,
                paired.map((p) => p.sample),
                paired.map((p) => p.ratio),
            );
        }),
    ];
}
