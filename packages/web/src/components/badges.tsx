import type { Level, OverrideBadge as Badge, Severity } from '../api/types';
import { formatDate, levelLabel, severityLabel } from '../format';

export function LevelBadge({ level }: { level: Level }) {
  return <span className={`badge level-${level}`}>{levelLabel[level]}</span>;
}

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`badge level-${severity === 'info' ? 'none' : severity}`}>{severityLabel[severity]}</span>;
}

/** Everyone sees an accepted risk: never silent. */
export function OverrideBadge({ override }: { override: Badge | null }) {
  if (!override) return null;
  const what = override.decision === 'benign' ? 'Marked benign' : 'Risk accepted';
  const label = override.status === 'pending' ? `${what} (awaiting approval)` : what;
  return (
    <span className="badge override" title={`until ${formatDate(override.expiresAt)}`}>
      {label}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}
