// Preloaded by scripts/bench.ts into each measured process: writes the process's peak memory and CPU time at exit
// (Node's process.resourceUsage(): getrusage(2) of the whole process, all threads; times in microseconds).
const fs = require("node:fs");
process.on("exit", () => {
    const file = process.env.BENCH_USAGE_FILE;
    if (!file) return;
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    fs.writeFileSync(file, JSON.stringify({ maxRSS, userCPUTime, systemCPUTime }));
});
