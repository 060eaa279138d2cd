import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cronLineProblem, MIN_INTERVAL_MINUTES, PREDEFINED_INTERVALS } from "../../components/config/cron";

/* Buildkite's cron dialect for schedules (buildkite/docs pages/pipelines/configure/workflows/scheduled_builds.md,
 * "Schedule intervals": predefined intervals, five fields and an optional time zone, `L`/`last`/`-N-L`, a day-of-week
 * modulo, no `~`, nothing under 10 minutes). The accepted lines of the docs: bad-config.test.ts. */

describe("cronLineProblem", () => {
    it("accepts each predefined interval Buildkite documents, and no other @word", () => {
        assert.deepEqual(
            [...PREDEFINED_INTERVALS],
            ["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly"],
        );
        for (const interval of PREDEFINED_INTERVALS) assert.equal(cronLineProblem(interval), undefined);
        assert.match(cronLineProblem("@annually") ?? "", /"@annually" is not one of Buildkite's predefined intervals/);
        assert.match(cronLineProblem("@reboot") ?? "", /@hourly, @daily/);
    });

    it("an empty line says what to write", () => {
        assert.match(cronLineProblem("   ") ?? "", /is empty; give five cron fields such as 0 2 \* \* \*/);
    });

    it("refuses the ~ random-value operator", () => {
        assert.match(cronLineProblem("0 ~ * * *") ?? "", /~ random-value operator is not supported/);
    });

    it("tells six fields with seconds from a time zone, and names a zone it does not know", () => {
        assert.match(cronLineProblem("0 0 2 * * *") ?? "", /six fields; .* no seconds/);
        assert.match(cronLineProblem("0 2 * * * Mars/Olympus") ?? "", /"Mars\/Olympus" is not a time zone/);
        assert.equal(cronLineProblem("0 2 * * * Europe/Berlin"), undefined);
        assert.equal(cronLineProblem("0 2 * * * -05:30"), undefined);
        assert.match(cronLineProblem("0 2 * * * +15:00") ?? "", /is not a time zone/);
    });

    it("counts the fields it was given", () => {
        assert.match(cronLineProblem("0 2 *") ?? "", /has 3 fields; Buildkite cron lines have five/);
        assert.match(cronLineProblem("0 2 * * * UTC extra") ?? "", /has 7 fields/);
    });

    it("refuses Quartz's ? and Jenkins' H, which cron-parser would read, naming the field", () => {
        assert.match(cronLineProblem("0 2 ? * *") ?? "", /day of month field "\?" holds characters/);
        assert.match(cronLineProblem("H 2 * * *") ?? "", /minute field "H" holds characters/);
        assert.match(cronLineProblem("0 H/2 * * *") ?? "", /hour field "H\/2"/);
    });

    it("takes -N-L for N from 1 to 30 only, and a day-of-week modulo d%n with n at least 1", () => {
        assert.equal(cronLineProblem("0 0 -30-L * *"), undefined);
        assert.match(cronLineProblem("0 0 -31-L * *") ?? "", /-N-L takes N from 1 to 30/);
        assert.equal(cronLineProblem("0 0 last * *"), undefined);
        assert.equal(cronLineProblem("0 0 * * 1%2,3"), undefined);
        assert.match(cronLineProblem("0 0 * * 1%0") ?? "", /d%n or d%n\+offset, with n at least 1/);
        assert.match(cronLineProblem("0 0 * * %2") ?? "", /with n at least 1/);
    });

    it("refuses values out of range and a line that never fires, with the fields' ranges", () => {
        assert.match(cronLineProblem("60 * * * *") ?? "", /is not a valid cron line .*minute 0-59/);
        assert.match(cronLineProblem("0 0 31 2 *") ?? "", /is not a valid cron line/);
    });

    it(`refuses runs under ${MIN_INTERVAL_MINUTES} minutes apart, within an hour and across the hour`, () => {
        assert.match(cronLineProblem("*/5 * * * *") ?? "", /runs 5 minutes apart/);
        assert.match(cronLineProblem("0,1 3 * * *") ?? "", /runs 1 minute apart/);
        // 55 and 0 of consecutive hours are 5 minutes apart.
        assert.match(cronLineProblem("0,55 * * * *") ?? "", /runs 5 minutes apart/);
        assert.match(cronLineProblem("0,55 23,0 * * *") ?? "", /runs 5 minutes apart/);
        // The same minutes in hours that are not consecutive are far apart.
        assert.equal(cronLineProblem("0,55 3,9 * * *"), undefined);
        assert.equal(cronLineProblem("*/10 * * * *"), undefined);
        assert.equal(cronLineProblem("0,50 * * * *"), undefined);
    });
});
