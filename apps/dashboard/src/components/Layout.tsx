import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { useSession } from '../hooks/session';

const LINKS = [
  { to: '/experiments', label: 'Experiments', admin: false },
  { to: '/layers', label: 'Layers', admin: false },
  { to: '/metrics', label: 'Metrics', admin: false },
  { to: '/holdouts', label: 'Holdouts', admin: false },
  { to: '/api-keys', label: 'API keys', admin: true },
  { to: '/users', label: 'Users', admin: true },
  { to: '/audit', label: 'Audit log', admin: false },
];

/** App shell: top bar with navigation that collapses behind a menu button on phones. */
export function Layout() {
  const { signOut, who, can } = useSession();
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
          {LINKS.filter((l) => can.admin || !l.admin).map((l) => (
            <NavLink key={l.to} to={l.to} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
              {l.label}
            </NavLink>
          ))}
          <a className="nav-link" href="/docs" target="_blank" rel="noopener noreferrer">
            API docs <span className="visually-hidden">(opens in a new tab)</span>
          </a>
          {who && (
            <span className="nav-user" data-testid="signed-in-as">
              <span className="visually-hidden">Signed in as </span>
              {who.name} <span aria-hidden="true">·</span> <span className="role-badge">{who.role}</span>
            </span>
          )}
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
