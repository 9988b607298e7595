// The web app's entry: live connection, theme, routes.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { Shell, useTheme } from './components/layout.js';
import { LiveContext, useApi, useLiveConnection } from './live.js';
import { HealthPage } from './pages/health.js';
import { OverviewPage } from './pages/overview.js';
import { ProfilingPage } from './pages/profiling.js';
import { SecurityPage } from './pages/security.js';
import { ServiceMapPage } from './pages/service-map.js';
import { ServicePage } from './pages/service.js';
import { SpanDetailPage } from './pages/span-detail.js';
import { TraceListPage, TracePage } from './pages/trace.js';
import { TracesPage } from './pages/traces.js';
import { useRoute } from './router.js';

interface Meta {
  features: { security: boolean; profiling: boolean };
}

function App() {
  const live = useLiveConnection();
  const [theme, toggleTheme] = useTheme();
  return (
    <LiveContext.Provider value={live}>
      <Routes theme={theme} toggleTheme={toggleTheme} />
    </LiveContext.Provider>
  );
}

function Routes(props: { theme: 'light' | 'dark'; toggleTheme: () => void }) {
  const route = useRoute();
  const meta = useApi<Meta>('/api/meta', { paused: true }).data;
  const [page, sub] = route.parts;
  let body;
  let active = page ?? '';
  switch (page) {
    case undefined:
      body = <OverviewPage />;
      break;
    case 'services':
      body = <ServicePage route={route} profiling={meta?.features.profiling ?? false} />;
      active = '';
      break;
    case 'map':
      body = <ServiceMapPage route={route} />;
      break;
    case 'traces':
      body = sub ? <SpanDetailPage route={route} /> : <TracesPage route={route} />;
      break;
    case 'trace':
      body = sub ? <TracePage route={route} /> : <TraceListPage route={route} />;
      active = 'traces';
      break;
    case 'health':
      body = <HealthPage />;
      break;
    case 'security':
      body = <SecurityPage enabled={meta?.features.security ?? false} />;
      break;
    case 'profiling':
      body = <ProfilingPage enabled={meta?.features.profiling ?? false} />;
      break;
    default:
      body = (
        <div class="empty-state">
          <h2>No page here</h2>
          <p>
            <a href="#/">Go to the services overview</a>
          </p>
        </div>
      );
  }
  return (
    <Shell active={active} theme={props.theme} toggleTheme={props.toggleTheme}>
      {/* Remount the page when the route's page changes, so its state starts fresh. */}
      <div key={`${page ?? ''}/${sub ?? ''}`} class="page">
        {body}
      </div>
    </Shell>
  );
}

render(<App />, document.getElementById('app')!);
