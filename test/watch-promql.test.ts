// The metric names a PromQL expression selects: what the watch looks up in Prometheus before it starts.
import { describe, expect, it } from 'vitest';
import { metricNames } from '../src/watch/prometheus.ts';

describe('metricNames', () => {
  it('finds selected metrics, not functions, keywords, label names, durations or strings', () => {
    expect(metricNames('(sum(rate(http_requests_total{status=~"5..", route!="x_y"}[1m])) or vector(0)) / sum(rate(http_requests_total[1m]))')).toEqual(['http_requests_total']);
    expect(metricNames('1000 * histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m] offset 1h30m)))')).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNames('a_total / on(instance) group_left(job) b:recorded:rate5m > bool 1e3')).toEqual(['a_total', 'b:recorded:rate5m']);
    expect(metricNames('{__name__="up", job="app"} unless absent(node_load1)')).toEqual(['up', 'node_load1']);
    expect(metricNames('sum without (pod) (x) and ignoring(le) y')).toEqual(['x', 'y']);
    expect(metricNames('vector(1) + scalar(time())')).toEqual([]);
  });
});
