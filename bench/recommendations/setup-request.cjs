// autocannon calls this per request: GET /v1/recommendations at the next place in turn, signed in
// as the next customer in turn (RECOMMENDATIONS_BENCH_MODE=signed-in) or as a guest (guest).
/* global require, process, module */
/* eslint-disable @typescript-eslint/no-require-imports -- autocannon loads CommonJS files */
'use strict';
const { readFileSync } = require('node:fs');

const fixture = JSON.parse(readFileSync(process.env.RECOMMENDATIONS_BENCH_FIXTURE, 'utf8'));
const signedIn = process.env.RECOMMENDATIONS_BENCH_MODE === 'signed-in';
let next = 0;

module.exports = function setupRequest(request) {
  next = (next + 1) % fixture.places.length;
  const place = fixture.places[next];
  request.method = 'GET';
  request.path = `/v1/recommendations?lat=${place.latitude}&lng=${place.longitude}`;
  request.headers = signedIn
    ? { ...request.headers, authorization: `Bearer ${fixture.tokens[next % fixture.tokens.length]}` }
    : { ...request.headers };
  return request;
};
