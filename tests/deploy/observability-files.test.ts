import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * The Prometheus rules and the Grafana dashboard in deploy/ name only metrics the app exposes
 * (or rules recorded from them), and every alert says what it is and where its runbook is.
 */
const root = path.resolve(import.meta.dirname, '../..');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (
  parse(readFileSync(path.join(root, 'deploy/prometheus/rules.yml'), 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  }
).groups.flatMap((group) => group.rules);
const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/food-delivery.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'rate',
  'by',
  'and',
  'or',
  'unless',
  'time',
  'clamp_min',
  'histogram_quantile',
  'humanizeDuration',
  'humanizePercentage',
]);

/** Metric names in a PromQL expression: label matchers, groupings and strings taken out first. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((match) => match[0])
    .filter((name) => !PROMQL_WORDS.has(name) && !/^\d/.test(name) && name.includes('_'));
}

let testApp: TestApp;
let exposed: Set<string>;
beforeAll(async () => {
  testApp = await createTestApp();
  const body = (await testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
  exposed = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
});
afterAll(async () => testApp?.close());

describe('deploy/prometheus/rules.yml and deploy/grafana/food-delivery.json', () => {
  it('every expression names metrics the app exposes, or rules recorded from them', () => {
    const recorded = new Set(rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
    const expressions = [
      ...rules.map((rule) => ({ where: rule.record ?? rule.alert!, expr: rule.expr })),
      ...dashboard.panels.flatMap((panel) =>
        panel.targets.map((target) => ({ where: panel.title, expr: target.expr })),
      ),
    ];
    const unknown = expressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .map((name) =>
          name.replace(/_(bucket|count|sum|total)$/, (suffix) => (exposed.has(name) ? suffix : '')),
        )
        .filter((name) => !recorded.has(name) && !exposed.has(name) && !exposed.has(`${name}_total`))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    expect(expressions.length).toBeGreaterThan(20);
  });

  it('covers each objective with an alert that has a severity, a summary and a runbook in the repository', () => {
    const alerts = rules.filter((rule) => rule.alert !== undefined);
    expect(alerts.map((alert) => alert.alert)).toEqual(
      expect.arrayContaining([
        'ApiLatencyHigh',
        'ApiErrorRateHigh',
        'PaymentFailureRateHigh',
        'ProjectionLagging',
        'PayoutBacklogOld',
        'LedgerVerificationFailed',
      ]),
    );
    for (const alert of alerts) {
      expect(['page', 'warn'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      const runbook = alert.annotations!.runbook!.split('#')[0]!;
      expect(existsSync(path.join(root, runbook)), `${alert.alert}: ${runbook}`).toBe(true);
    }
  });
});
