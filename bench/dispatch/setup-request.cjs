// autocannon calls this per request: the next driver in turn (round-robin from a random start,
// so one driver is never in flight twice), a position a fraction of a metre from that driver's
// last one, recorded now. Every fix is one the rules accept.
/* global require, process, module */
/* eslint-disable @typescript-eslint/no-require-imports -- autocannon loads CommonJS files */
'use strict';
const { readFileSync } = require('node:fs');

const fixture = JSON.parse(readFileSync(process.env.DISPATCH_BENCH_FIXTURE, 'utf8'));
const positions = fixture.starts.map((start) => ({ ...start }));
let next = Math.floor(Math.random() * fixture.tokens.length);

module.exports = function setupRequest(request) {
  next = (next + 1) % fixture.tokens.length;
  const position = positions[next];
  // about ±0.3 m per fix: well under any speed limit however close two fixes come
  position.latitude += (Math.random() - 0.5) * 0.000006;
  position.longitude += (Math.random() - 0.5) * 0.000006;
  request.method = 'PUT';
  request.path = '/v1/drivers/me/location';
  request.headers = {
    ...request.headers,
    'content-type': 'application/json',
    authorization: `Bearer ${fixture.tokens[next]}`,
  };
  request.body = JSON.stringify({
    latitude: position.latitude,
    longitude: position.longitude,
    accuracyMeters: 8,
    recordedAt: new Date().toISOString(),
    heading: 90,
  });
  return request;
};
