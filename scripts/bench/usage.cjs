// Preloaded by scripts/bench.ts into each measured process: writes the process's peak memory at exit.
const fs = require("node:fs");
process.on("exit", () => {
    const file = process.env.BENCH_USAGE_FILE;
    if (file) fs.writeFileSync(file, JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }));
});
