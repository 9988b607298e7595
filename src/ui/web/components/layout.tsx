// The frame around every page: navigation, the live indicator, the window
// picker and the theme switch.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLive } from '../live.js';
import { href } from '../router.js';

export interface NavItem {
  id: string;
  label: string;
  icon: ComponentChildren;
  /** Shown dimmed with a note, the page explains what will appear. */
  soon?: boolean;
}

const icon = (d: string) => (
  <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d={d} />
  </svg>
);

export const NAV: NavItem[] = [
  { id: '', label: 'Services', icon: icon('M4 6h16M4 12h16M4 18h10') },
  { id: 'map', label: 'Service map', icon: icon('M6 6a2 2 0 1 0 0 .01M18 6a2 2 0 1 0 0 .01M12 18a2 2 0 1 0 0 .01M7.5 7.5 11 16M16.5 7.5 13 16M8 6h8') },
  { id: 'traces', label: 'Traces', icon: icon('M4 6h9M7 10h11M10 14h6M6 18h8') },
  { id: 'security', label: 'Security', icon: icon('M12 3 5 6v5c0 4.5 3 8.5 7 10 4-1.5 7-5.5 7-10V6l-7-3z') },
  { id: 'profiling', label: 'Profiling', icon: icon('M4 20h16M4 16h12M4 12h8M4 8h14M4 4h6') },
  { id: 'health', label: 'Agent health', icon: icon('M3 12h4l3-7 4 14 3-7h4') },
];

export const WINDOWS: Array<[number, string]> = [
  [60_000, '1 min'],
  [300_000, '5 min'],
  [900_000, '15 min'],
  [3_600_000, '1 h'],
];

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('waggle.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return [
    theme,
    () =>
      setTheme((t) => {
        const next = t === 'dark' ? 'light' : 'dark';
        localStorage.setItem('waggle.theme', next);
        return next;
      }),
  ];
}

export function Shell(props: { active: string; children: ComponentChildren; theme: Theme; toggleTheme: () => void }) {
  return (
    <div class="shell">
      <aside class="sidebar-col">
      <nav class="sidebar" aria-label="main">
        <a class="brand" href="#/">
          <span class="logo" aria-hidden="true">
            <svg viewBox="0 0 24 24" width="22" height="22">
              <ellipse cx="12" cy="13" rx="6" ry="7.5" fill="#f59e0b" />
              <path d="M7 11h10M6.4 14h11.2M7.4 17h9.2" stroke="#1f2937" stroke-width="1.6" />
              <ellipse cx="7" cy="5.5" rx="3.2" ry="2.2" fill="#93c5fd" opacity=".85" transform="rotate(-25 7 5.5)" />
              <ellipse cx="17" cy="5.5" rx="3.2" ry="2.2" fill="#93c5fd" opacity=".85" transform="rotate(25 17 5.5)" />
            </svg>
          </span>
          waggle
        </a>
        <ul>
          {NAV.map((n) => (
            <li key={n.id}>
              <a href={href(n.id ? [n.id] : [])} class={props.active === n.id ? 'active' : ''} data-nav={n.id || 'services'}>
                {n.icon}
                <span>{n.label}</span>
              </a>
            </li>
          ))}
        </ul>
        <div class="sidebar-foot">
          <LiveBadge />
          <button type="button" class="ghost small" onClick={props.toggleTheme} title="Switch light/dark">
            {props.theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
        </div>
      </nav>
      </aside>
      <main class="content">
        <UnauthorizedBanner />
        {props.children}
      </main>
    </div>
  );
}

function UnauthorizedBanner() {
  const { unauthorized } = useLive();
  if (!unauthorized) return null;
  return (
    <div class="notice bad page" role="alert">
      The agent refuses this page without its token (it may have restarted with a new one). Open the URL it printed, which carries the token.
    </div>
  );
}

function LiveBadge() {
  const { connected, receivedAt, tick } = useLive();
  const [, force] = useState(0);
  useEffect(() => {
    const t = setInterval(() => force((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  const age = receivedAt ? Math.round((Date.now() - receivedAt) / 1000) : null;
  const fresh = connected && age !== null && age < 20;
  return (
    <div class={`live ${fresh ? 'on' : 'off'}`} id="live-indicator" data-version={tick?.version ?? ''} title={receivedAt ? `last update ${new Date(receivedAt).toLocaleTimeString()}` : 'waiting for the agent'}>
      <span class="dot" />
      {fresh ? 'Live' : connected ? 'Idle' : 'Reconnecting…'}
    </div>
  );
}

export function PageHeader(props: { title: ComponentChildren; subtitle?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="subtitle">{props.subtitle}</p>}
      </div>
      <div class="page-actions">{props.children}</div>
    </header>
  );
}

export function WindowPicker(props: { value: number; onChange: (ms: number) => void; options?: Array<[number, string]>; label?: string }) {
  return (
    <div class="segmented" role="group" aria-label={props.label ?? 'time window'}>
      {(props.options ?? WINDOWS).map(([ms, label]) => (
        <button type="button" key={ms} class={ms === props.value ? 'on' : ''} onClick={() => props.onChange(ms)}>
          {label}
        </button>
      ))}
    </div>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; sub?: ComponentChildren; tone?: string }) {
  return (
    <div class={`stat ${props.tone ?? ''}`}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.sub !== undefined && <div class="stat-sub">{props.sub}</div>}
    </div>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state">
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}
