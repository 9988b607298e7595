// OTel → Prometheus translation for the names waggle exports
// (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/):
// dots become underscores, the unit becomes a suffix (s → _seconds, By → _bytes).

/** `http.server.request.duration` + unit `s` → `http_server_request_duration_seconds`. */
export function prometheusMetricName(otelName: string, unit: 's' | 'By' | '1'): string {
  const base = sanitize(otelName);
  const suffix = unit === 's' ? '_seconds' : unit === 'By' ? '_bytes' : '';
  return base.endsWith(suffix) ? base : `${base}${suffix}`;
}

/** `http.response.status_code` → `http_response_status_code`. */
export function prometheusLabelName(attribute: string): string {
  const s = sanitize(attribute);
  return /^[0-9]/.test(s) ? `key_${s}` : s;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_').replace(/__+/g, '_');
}
