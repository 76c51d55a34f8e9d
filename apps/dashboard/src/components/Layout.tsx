import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { useSession } from '../hooks/session';

const LINKS = [
  { to: '/experiments', label: 'Experiments' },
  { to: '/layers', label: 'Layers' },
  { to: '/metrics', label: 'Metrics' },
  { to: '/api-keys', label: 'API keys' },
  { to: '/audit', label: 'Audit log' },
];

/** App shell: top bar with navigation that collapses behind a menu button on phones. */
export function Layout() {
  const { signOut } = useSession();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const [lastPath, setLastPath] = useState(location.pathname);
  if (lastPath !== location.pathname) {
    setLastPath(location.pathname);
    setOpen(false);
  }
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/experiments" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ▚
          </span>
          Strata
        </NavLink>
        <button
          type="button"
          className="btn btn-ghost nav-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="main-nav" className={`nav${open ? ' nav-open' : ''}`} aria-label="Main">
          {LINKS.map((l) => (
            <NavLink key={l.to} to={l.to} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
              {l.label}
            </NavLink>
          ))}
          <button
            type="button"
            className="btn btn-ghost nav-signout"
            onClick={() => {
              queryClient.clear();
              signOut();
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
