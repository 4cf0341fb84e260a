#!/usr/bin/env node
// Builds deploy/grafana/vantage-overview.json: `node deploy/grafana/build-dashboard.mjs`.
// The JSON is what Grafana imports or provisions; this file is what people edit. A test keeps the
// two equal and checks every query with promtool against the agent's metrics catalogue.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SELECT = 'region=~"$region",carrier=~"$carrier",agent=~"$agent",target=~"$target"';
const sel = (extra = '') => `{${SELECT}${extra ? `,${extra}` : ''}}`;

/** Panels laid out left to right in rows of 24 columns; a row panel starts a new line. */
function layout(sections) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const { row, panels: items } of sections) {
    panels.push({
      type: 'row',
      id: id++,
      title: row,
      collapsed: false,
      gridPos: { x: 0, y: y++, w: 24, h: 1 },
      panels: [],
    });
    let x = 0;
    let lineHeight = 0;
    for (const item of items) {
      const { w = 12, h = 8, ...panel } = item;
      if (x + w > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push({
        id: id++,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { x, y, w, h },
        ...panel,
      });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return panels;
}

function timeseries(title, description, unit, targets, extra = {}) {
  return {
    type: 'timeseries',
    title,
    description,
    fieldConfig: {
      defaults: {
        unit,
        custom: {
          lineWidth: 1,
          fillOpacity: extra.stacked ? 60 : 0,
          stacking: { mode: extra.stacked ? 'normal' : 'none' },
          drawStyle: extra.bars ? 'bars' : 'line',
        },
        ...(extra.max === undefined ? {} : { max: extra.max }),
        min: 0,
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targets.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat })),
    ...(extra.w ? { w: extra.w } : {}),
  };
}

function stat(title, description, unit, expr, thresholds, w = 6) {
  return {
    type: 'stat',
    title,
    description,
    w,
    h: 5,
    fieldConfig: {
      defaults: {
        unit,
        thresholds: { mode: 'absolute', steps: thresholds.map(([color, value]) => ({ color, value })) },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'value',
    },
    // One value over the whole range: an instant query, not one evaluation per graph step.
    targets: [{ refId: 'A', expr, instant: true }],
  };
}

function table(title, description, expr, w = 12) {
  return {
    type: 'table',
    title,
    description,
    w,
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showHeader: true, footer: { show: false } },
    transformations: [
      { id: 'labelsToFields', options: { mode: 'columns' } },
      { id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true } } },
    ],
    targets: [{ refId: 'A', expr, instant: true, format: 'table' }],
  };
}

function variable(name, label, query) {
  return {
    type: 'query',
    name,
    label,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    query: { query, refId: `${name}-values` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

export function dashboard() {
  return {
    uid: 'vantage-overview',
    title: 'Vantage: reachability by region and carrier',
    description: 'Is it DNS, the carrier, the path or the endpoint? Filter by region, carrier, agent and target.',
    tags: ['vantage', 'synthetic-monitoring'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    templating: {
      list: [
        { type: 'datasource', name: 'datasource', label: 'Prometheus', query: 'prometheus', current: {} },
        variable('region', 'Region', 'label_values(probe_success, region)'),
        variable('carrier', 'Carrier', 'label_values(probe_success{region=~"$region"}, carrier)'),
        variable('agent', 'Agent', 'label_values(probe_success{region=~"$region",carrier=~"$carrier"}, agent)'),
        variable(
          'target',
          'Target',
          'label_values(probe_success{region=~"$region",carrier=~"$carrier",agent=~"$agent"}, target)',
        ),
      ],
    },
    annotations: {
      list: [
        {
          name: 'Route changes',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          enable: true,
          iconColor: 'orange',
          expr: `changes(probe_traceroute_route_hash${sel()}[2m]) > 0`,
          titleFormat: 'route to {{ip}} changed',
          textFormat: '{{agent}} ({{carrier}}) to {{target}}',
        },
      ],
    },
    panels: layout([
      {
        row: 'Reachability',
        panels: [
          stat(
            'Success ratio',
            'Share of successful runs over the time range, every selected check.',
            'percentunit',
            `avg(avg_over_time(probe_success${sel()}[$__range]))`,
            [
              ['red', null],
              ['orange', 0.95],
              ['green', 0.99],
            ],
          ),
          stat(
            'Failing now',
            'Target, IP and agent combinations whose last run failed.',
            'none',
            `count(probe_success${sel()} == 0) or vector(0)`,
            [
              ['green', null],
              ['red', 1],
            ],
          ),
          stat(
            'DNS answers hijacked',
            'Resolvers whose last answer looked hijacked.',
            'none',
            `count(probe_dns_hijacked${sel()} == 1) or vector(0)`,
            [
              ['green', null],
              ['red', 1],
            ],
          ),
          stat(
            'Agents reporting',
            'Agents with at least one check result in the range.',
            'none',
            `count(count by (agent) (probe_success${sel()}))`,
            [['blue', null]],
          ),
          timeseries(
            'Success by target and carrier',
            'Where a line drops for one carrier only, the carrier or path is at fault; for all, the endpoint.',
            'percentunit',
            [
              [
                `avg by (target, carrier) (avg_over_time(probe_success${sel()}[$__rate_interval]))`,
                '{{target}} via {{carrier}}',
              ],
            ],
            { max: 1 },
          ),
          timeseries(
            'Failures by code',
            'The failure code names the phase: DNS_*, TCP_*, ICMP_*, TLS_*, HTTP_*.',
            'short',
            [[`sum by (code) (increase(vantage_check_failures_total${sel()}[$__rate_interval]))`, '{{code}}']],
            { stacked: true, bars: true },
          ),
        ],
      },
      {
        row: 'DNS',
        panels: [
          timeseries(
            'Lookup time by resolver',
            'Per resolver (the ip label); "system" is what apps on the agent see.',
            's',
            [
              [
                `avg by (target, ip, carrier) (probe_dns_lookup_time_seconds${sel()})`,
                '{{target}} via {{ip}} ({{carrier}})',
              ],
            ],
            { w: 8 },
          ),
          timeseries(
            'Hijacked answers by reason',
            'Answers outside the expected set, resolver disagreement, NXDOMAIN rewriting, bogons.',
            'short',
            [[`sum by (target, ip, reason) (probe_dns_hijack${sel()})`, '{{target}} via {{ip}}: {{reason}}']],
            { w: 8, stacked: true },
          ),
          timeseries(
            'Answer set changes',
            'A resolver handing out other addresses than before: failover, geo-DNS, or a hijack starting.',
            'short',
            [
              [
                `sum by (target, ip) (increase(probe_dns_answer_set_changes_total${sel()}[$__rate_interval]))`,
                '{{target}} via {{ip}}',
              ],
            ],
            { w: 8, bars: true },
          ),
        ],
      },
      {
        row: 'Path (ICMP and traceroute)',
        panels: [
          timeseries(
            'RTT by target and carrier',
            'Mean RTT of the last run (kernel receive stamps), averaged over the agents, and its jitter. ' +
              'A p95 needs histograms: true on the checks (probe_icmp_rtt_seconds_bucket).',
            's',
            [
              [`avg by (target, carrier) (probe_icmp_rtt_avg_seconds${sel()})`, '{{target}} via {{carrier}}'],
              [`avg by (target, carrier) (probe_icmp_rtt_stddev_seconds${sel()})`, '{{target}} via {{carrier}} jitter'],
            ],
            { w: 8 },
          ),
          timeseries(
            'Packet loss',
            'Fraction of echo requests without a reply, last run.',
            'percentunit',
            [[`max by (target, ip, agent) (probe_icmp_loss_ratio${sel()})`, '{{target}} {{ip}} from {{agent}}']],
            { w: 8, max: 1 },
          ),
          timeseries(
            'Jitter',
            "Standard deviation of the last run's round-trip times.",
            's',
            [[`avg by (target, carrier) (probe_icmp_rtt_stddev_seconds${sel()})`, '{{target}} via {{carrier}}']],
            { w: 8 },
          ),
          timeseries(
            'Hops to destination',
            'Hop count, or the last responding hop when the destination was not reached.',
            'short',
            [[`max by (target, ip, agent) (probe_traceroute_hop_count${sel()})`, '{{target}} {{ip}} from {{agent}}']],
            { w: 8 },
          ),
          timeseries(
            'Destination reached',
            '0: the trace ended before the destination (blackhole or filter).',
            'short',
            [[`min by (target, ip, agent) (probe_traceroute_reached${sel()})`, '{{target}} {{ip}} from {{agent}}']],
            { w: 8, max: 1 },
          ),
          timeseries(
            'Route changes',
            'Traces whose path differed from the previous one.',
            'short',
            [
              [
                `sum by (target, agent) (increase(probe_traceroute_route_changes_total${sel()}[$__rate_interval]))`,
                '{{target}} from {{agent}}',
              ],
            ],
            { w: 8, bars: true },
          ),
        ],
      },
      {
        row: 'HTTPS',
        panels: [
          timeseries(
            'Phases of the last run',
            'Stacked: dns, connect, tls, request, firstByte (server), headers, transfer.',
            's',
            [[`avg by (phase) (probe_http_duration_seconds${sel('phase!="total"')})`, '{{phase}}']],
            { stacked: true },
          ),
          timeseries(
            'Time to first byte',
            'From the first byte read off the socket after the request went out, last run, averaged over the ' +
              'agents. A p95 needs histograms: true on the checks (probe_http_phase_seconds_bucket).',
            's',
            [
              [
                `avg by (target, carrier) (probe_http_duration_seconds${sel('phase="firstByte"')})`,
                '{{target}} via {{carrier}}',
              ],
            ],
          ),
          timeseries(
            'Status code',
            '0 means no response.',
            'none',
            [[`max by (target, ip) (probe_http_status_code${sel()})`, '{{target}} {{ip}}']],
            { w: 8 },
          ),
          timeseries(
            'Certificate days left',
            'Earliest notAfter in the presented chain.',
            'd',
            [[`min by (target) ((probe_ssl_earliest_cert_expiry${sel()} - time()) / 86400)`, '{{target}}']],
            { w: 8 },
          ),
          timeseries(
            'Certificate verified',
            '0: expired, untrusted or wrong name (or TLS interception on this carrier).',
            'short',
            [[`min by (target, carrier) (probe_tls_cert_authorized${sel()})`, '{{target}} via {{carrier}}']],
            { w: 8, max: 1 },
          ),
        ],
      },
      {
        row: 'Network quality',
        panels: [
          timeseries(
            'Weak paths: vantage points seeing Bad or Offline',
            "Per target, the agents whose quality model says Bad or Offline (README 'Network quality').",
            'short',
            [[`sum by (target, state) (vantage_quality_class${sel('state=~"bad|offline"')})`, '{{target}} {{state}}']],
            { w: 8, stacked: true },
          ),
          timeseries(
            'Agents whose own network is weak',
            'Agents whose targets are mostly Bad (median of their figures), or that reach none (Offline).',
            'short',
            [
              [
                'sum by (agent, state) (vantage_agent_quality_class' +
                  '{region=~"$region",carrier=~"$carrier",agent=~"$agent",state=~"bad|offline"})',
                '{{agent}} {{state}}',
              ],
            ],
            { w: 8, bars: true },
          ),
          timeseries(
            'Quality RTTs by target and carrier',
            'Weighted medians over the window: HTTP RTT (request to first byte) and transport RTT (connect, echo).',
            's',
            [
              [
                `avg by (target, carrier) (vantage_quality_http_rtt_seconds${sel()})`,
                '{{target}} via {{carrier}} http',
              ],
              [
                `avg by (target, carrier) (vantage_quality_transport_rtt_seconds${sel()})`,
                '{{target}} via {{carrier}} transport',
              ],
            ],
            { w: 8 },
          ),
        ],
      },
      {
        row: 'Fastest endpoint',
        panels: [
          table(
            'Fastest endpoint per region x carrier',
            "Per server set, the target with the lowest median score over the pair's agents (README 'Fastest " +
              "endpoint'; vantage fleet ranking lists them all).",
            'bottomk by (set, region, carrier) (1, quantile by (set, target, region, carrier) (0.5, ' +
              'vantage_endpoint_score_seconds{region=~"$region",carrier=~"$carrier"}))',
          ),
          timeseries(
            'Leader changes per region x carrier',
            "How often the pair's agents saw their set's fastest target change: many means targets within the " +
              'margin of each other, or a flapping path.',
            'short',
            [
              [
                'sum by (set, region, carrier) (increase(vantage_endpoint_leader_changes_total' +
                  '{region=~"$region",carrier=~"$carrier"}[$__rate_interval]))',
                '{{set}} {{region}}/{{carrier}}',
              ],
            ],
            { w: 12, bars: true },
          ),
        ],
      },
      {
        row: 'Agents',
        panels: [
          table(
            'Egress IP per agent',
            'The public address each agent leaves from (carrier NAT).',
            'vantage_egress_ip_info{region=~"$region",carrier=~"$carrier",agent=~"$agent"}',
            8,
          ),
          timeseries(
            'Scheduler lag p99',
            'How late runs start: an overloaded agent shows here first.',
            's',
            [
              [
                'histogram_quantile(0.99, sum by (le, agent) (rate(vantage_scheduler_lag_seconds_bucket' +
                  '{region=~"$region",carrier=~"$carrier",agent=~"$agent"}[$__rate_interval])))',
                '{{agent}}',
              ],
            ],
            { w: 8 },
          ),
          timeseries(
            'Agent problems',
            'Rejected config, no raw ICMP socket, dropped events, skipped runs.',
            'short',
            [
              [
                'sum by (agent) (1 - ' +
                  'vantage_config_last_reload_successful{region=~"$region",carrier=~"$carrier",agent=~"$agent"})',
                '{{agent}} config rejected',
              ],
              [
                'sum by (agent) (1 - vantage_icmp_available{region=~"$region",carrier=~"$carrier",agent=~"$agent"})',
                '{{agent}} no ICMP socket',
              ],
              [
                'sum by (agent) (increase(vantage_event_sink_dropped_total' +
                  '{region=~"$region",carrier=~"$carrier",agent=~"$agent"}[$__rate_interval]))',
                '{{agent}} events dropped',
              ],
              [
                'sum by (agent, reason) (increase(vantage_check_runs_skipped_total' +
                  '{region=~"$region",carrier=~"$carrier",agent=~"$agent"}[$__rate_interval]))',
                '{{agent}} runs skipped ({{reason}})',
              ],
            ],
            { w: 8, bars: true },
          ),
        ],
      },
    ]),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL('./vantage-overview.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify(dashboard(), null, 2)}\n`);
  console.log(`wrote ${out}`);
}
