import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PATH = fileURLToPath(new URL('../../grafana/dashboards/nanofaas-functions.json', import.meta.url));

export interface PanelTarget {
  expr: string;
  refId: string;
  legendFormat?: string;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  targets: PanelTarget[];
}
export interface Dashboard {
  uid: string;
  refresh: string;
  time: { from: string; to: string };
  panels: Panel[];
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Grafana's interval macros, replaced the way Grafana would for a short range and 1 s scrapes. */
export function expandMacros(expr: string, window = '15s'): string {
  return expr.replaceAll('$__rate_interval', window).replaceAll('$__interval', window).replaceAll('$__range', '5m');
}

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Metric names an expression reads (series selectors named function_*), histogram suffixes removed. */
export function metricNames(expr: string): string[] {
  const names = expr.match(/\bfunction_[a-z_]+\b/g) ?? [];
  return [...new Set(names.map((n) => (n.endsWith('_total') ? n : n.replace(HISTOGRAM_SUFFIX, ''))))];
}
