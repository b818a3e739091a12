// The HTTP rows' load generator (tests/benchmarks/http_bench.py): autocannon 7, installed by `make bench` into
// build/bench/node (found through NODE_PATH), driving one or more servers on 127.0.0.1 at once.
//
// The plan comes on stdin, so that no key is ever on a command line (visible to `ps`):
//   {"targets": [{"url", "method", "headers", "body", "expect"}], "connections", "amount", "seconds"}
// `connections` and `amount` are totals, shared evenly by the targets; every target also stops after
// `seconds`. One JSON line on stdout: per target its requests, req/s, latency p50/p99 (ms) and what went wrong.
"use strict";

const autocannon = require("autocannon");

// autocannon's own figures are coarse here (its duration in 10 ms steps, latency in whole milliseconds): each
// run is timed with hrtime and each response's time (a fraction of a millisecond) is kept.
function run(target, connections, amount, seconds) {
  return new Promise((resolve, reject) => {
    const times = [];
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: target.url,
        method: target.method || "GET",
        headers: target.headers || {},
        body: target.body,
        expectBody: target.expect,
        connections,
        amount,
        duration: seconds,
        timeout: Math.max(2, seconds),
      },
      (err, result) => {
        if (err) return reject(err);
        result.elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        result.times = times.sort((a, b) => a - b);
        resolve(result);
      },
    );
    instance.on("response", (client, statusCode, bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
    });
    // `amount` takes precedence over `duration` in autocannon: the time bound is ours.
    const stop = setTimeout(() => instance.stop(), seconds * 1000);
    instance.on("done", () => clearTimeout(stop));
  });
}

async function main() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const plan = JSON.parse(text);
  const count = plan.targets.length;
  const connections = Math.max(1, Math.floor(plan.connections / count));
  const amount = Math.max(connections, Math.floor(plan.amount / count));
  const results = await Promise.all(plan.targets.map((target) => run(target, connections, amount, plan.seconds)));
  const answers = results.map((result) => {
    const ok = result["2xx"];
    const at = (q) => (result.times.length ? result.times[Math.min(result.times.length - 1, Math.floor(q * result.times.length))] : 0);
    return {
      requests: ok,
      seconds: result.elapsed,
      per_s: result.elapsed > 0 ? ok / result.elapsed : 0,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      mismatches: result.mismatches,
      connections,
    };
  });
  process.stdout.write(JSON.stringify(answers) + "\n");
}

main().catch((err) => {
  process.stderr.write(`load.js: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
