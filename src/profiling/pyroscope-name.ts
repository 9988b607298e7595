// The `name` query parameter of Pyroscope's POST /ingest: `app{key=value,…}`
// (github.com/grafana/pyroscope api/model/labelset). The application name may
// hold only [A-Za-z0-9_./-]; label names [A-Za-z0-9_.], not starting with "__"
// (reserved); a value ends at ',' or '}' and is trimmed.
//
// For format=pprof, Pyroscope sets `service_name` to the application name
// itself and then appends the request's labels, so the service name is the
// application name and is not sent again as a label (a second service_name
// would be a duplicate label).

const APP_CHAR = /[^A-Za-z0-9_./-]/g;
const LABEL_NAME = /^[A-Za-z0-9_.]+$/;

/** A service name as a Pyroscope application name: other characters become '_'. */
export function pyroscopeAppName(service: string): string {
  const s = service.trim().replace(APP_CHAR, '_');
  return s === '' ? 'unknown' : s.slice(0, 256);
}

/** Why a static label cannot be sent, or undefined when it can. */
export function pyroscopeLabelProblem(name: string, value: string): string | undefined {
  if (!LABEL_NAME.test(name)) return `label name ${JSON.stringify(name)} may hold only letters, digits, '_' and '.'`;
  if (name.startsWith('__')) return `label name ${JSON.stringify(name)} is reserved (it starts with "__")`;
  if (name === 'service_name') return 'service_name is set by the agent (the service of each profile)';
  if (value.trim() === '') return `label ${name} has an empty value`;
  if (/[,}]/.test(value)) return `the value of label ${name} may not contain ',' or '}'`;
  return undefined;
}

/** `app{k=v,…}`, labels sorted; labels are assumed valid (pyroscopeLabelProblem). */
export function pyroscopeIngestName(service: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]!.trim()}`);
  return `${pyroscopeAppName(service)}{${pairs.join(',')}}`;
}
