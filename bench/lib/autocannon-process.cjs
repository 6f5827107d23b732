// Runs autocannon in a process of its own and reports exact latency percentiles (p95 included,
// which autocannon's summary lacks) from every response's time. Used by benchmarks whose goal is
// stated as a p95: `fork(this file)`, send { url, connections, duration, setupRequest }, receive
// { requestsPerSecond, latency: { p50, p90, p95, p97_5, p99, max }, errors, non2xx, ... }.
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS child process */
'use strict';
const autocannon = require('autocannon');

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

process.once('message', async (options) => {
  const times = [];
  const requests = [{ setupRequest: require(options.setupRequest) }];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    requests,
  });
  instance.on('response', (_client, _statusCode, _bytes, responseTime) => times.push(responseTime));
  const result = await instance;
  times.sort((a, b) => a - b);
  const round = (value) => Math.round(value * 10) / 10;
  process.send({
    requestsPerSecond: Math.round(result.requests.average),
    responses: times.length,
    latency: {
      p50: round(percentile(times, 50)),
      p90: round(percentile(times, 90)),
      p95: round(percentile(times, 95)),
      p97_5: round(percentile(times, 97.5)),
      p99: round(percentile(times, 99)),
      max: round(times.at(-1) ?? 0),
    },
    errors: result.errors,
    non2xx: result.non2xx,
    connections: result.connections,
    durationSeconds: result.duration,
  });
});
