import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { errorMessage, POST } from '../api/client';
import { SETTINGS_TABS } from '../pages/Settings';
import { Link, navigate, useLocation } from '../router';
import { useCan, useSession } from '../session';

interface NavItem {
  to: string;
  label: string;
  /** shown when the role has any of these */
  permissions?: string[];
}
const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/servers', label: 'Servers' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/advisories', label: 'Advisories' },
  { to: '/gateways', label: 'Gateways' },
  { to: '/audit', label: 'Audit log', permissions: ['audit:read'] },
  { to: '/settings', label: 'Settings', permissions: SETTINGS_TABS.map((t) => t.permission) },
];

/**
 * On narrow screens a wide table scrolls sideways inside itself (styles.css). A keyboard user
 * must be able to scroll it too: a table that overflows and holds no focusable control becomes
 * a tab stop (and stops being one when it fits again). Watches the page for new tables and the
 * window for size changes, so every page gets this without doing anything.
 */
function useScrollableTablesFocusable(): void {
  useEffect(() => {
    const main = document.getElementById('main');
    if (!main) return;
    let frame = 0;
    const mark = () => {
      frame = 0;
      for (const table of Array.from(main.querySelectorAll('table'))) {
        labelCells(table);
        const scrolls = table.scrollWidth > table.clientWidth + 1;
        const ownStop = table.dataset.scrollStop === '1';
        if (scrolls && !ownStop && !table.hasAttribute('tabindex')) {
          table.tabIndex = 0;
          table.dataset.scrollStop = '1';
        } else if (!scrolls && ownStop) {
          table.removeAttribute('tabindex');
          delete table.dataset.scrollStop;
        }
      }
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(mark);
    };
    const observer = new MutationObserver(schedule);
    // characterData: a header's text may change (a count, a sort arrow)
    observer.observe(main, { childList: true, subtree: true, characterData: true });
    window.addEventListener('resize', schedule);
    schedule();
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', schedule);
      if (frame) cancelAnimationFrame(frame);
    };
  }, []);
}

/**
 * On a phone a table's rows become cards (styles.css, `table[data-cards]`): each cell shows its
 * column's name before it, taken from the table's header row here, for every page's tables.
 */
function labelCells(table: HTMLTableElement): void {
  const heads = Array.from(table.tHead?.rows[0]?.cells ?? []).map((th) => th.textContent?.trim() ?? '');
  if (heads.length === 0) return;
  if (table.dataset.cards !== '1') table.dataset.cards = '1';
  for (const body of Array.from(table.tBodies)) {
    for (const row of Array.from(body.rows)) {
      let col = 0;
      for (const cell of Array.from(row.cells)) {
        const label = cell.colSpan > 1 ? '' : (heads[col] ?? '');
        if (cell.dataset.label !== label) cell.dataset.label = label;
        col += cell.colSpan;
      }
    }
  }
}

function isCurrent(to: string, path: string) {
  return to === '/' ? path === '/' : path === to || path.startsWith(to + '/');
}

export function Layout({ children }: { children: ReactNode }) {
  const me = useSession();
  const can = useCan();
  const qc = useQueryClient();
  const { path } = useLocation();
  const [signOutError, setSignOutError] = useState<string | null>(null);
  useScrollableTablesFocusable();
  // Below 900 px the menu folds behind a button: closed at first, closed again after each page change.
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  // After a page change, screen readers and keyboards start at the new page, and the tab says where we are.
  const firstRender = useRef(true);
  useEffect(() => {
    const section = NAV.find((n) => isCurrent(n.to, path));
    document.title = section ? `${section.label} · Palisade` : 'Palisade';
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  const signOut = async () => {
    try {
      await POST('/api/v1/auth/logout');
      qc.clear();
      navigate('/login', { replace: true });
    } catch (err) {
      setSignOutError(errorMessage(err));
    }
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          ref={menuButton}
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidenav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <span className="menu-icon" aria-hidden="true" />
          Menu
        </button>
        <Link to="/" className="brand">
          Palisade
        </Link>
        <span className="org">{me.org.name}</span>
        <span className="spacer" />
        <span className="whoami">
          <span className="email">{me.user.email}</span> <span className="role">{me.user.role}</span>
        </span>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {signOutError && (
        <div className="error-box" role="alert">
          <strong>Sign-out failed.</strong> {signOutError}
        </div>
      )}
      <nav id="sidenav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
        <ul>
          {NAV.filter((n) => !n.permissions || n.permissions.some(can)).map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={isCurrent(n.to, path) ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
