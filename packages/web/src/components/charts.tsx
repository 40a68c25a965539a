// Hand-written SVG charts: no runtime styles, so they live happily under a strict CSP.
import type { Level, LevelCounts } from '../api/types';
import { levelLabel } from '../format';
import { Link } from '../router';

const ORDER: Level[] = ['critical', 'high', 'medium', 'low', 'none'];

/** Servers by level as labelled horizontal bars; each bar links to the filtered list. */
export function LevelBars({ counts }: { counts: LevelCounts }) {
  const max = Math.max(1, ...ORDER.map((l) => counts[l] ?? 0));
  return (
    <ul className="level-bars" aria-label="Servers by risk level">
      {ORDER.map((l) => {
        const n = counts[l] ?? 0;
        return (
          <li key={l}>
            <Link to={`/servers?level=${l}`} className="level-bar-label">
              {levelLabel[l]}
            </Link>
            <svg className="level-bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
              <rect className="track" x="0" y="0" width="100" height="10" />
              <rect className={`fill-${l}`} x="0" y="0" width={(n / max) * 100} height="10" />
            </svg>
            <span className="level-bar-count" data-level={l}>
              {n}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** Stacked areas of servers per level over the last days. */
export function TrendChart({ trend }: { trend: Array<{ day: string; byLevel: LevelCounts }> }) {
  const W = 600;
  const H = 160;
  const PAD = 24;
  if (trend.length === 0) return <p className="muted">No history yet: the trend starts with the first report.</p>;
  const totals = trend.map((t) => ORDER.reduce((s, l) => s + (t.byLevel[l] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const x = (i: number) => PAD + (trend.length === 1 ? (W - 2 * PAD) / 2 : (i / (trend.length - 1)) * (W - 2 * PAD));
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  // stack from the least to the most severe so critical sits on top
  const stackOrder = [...ORDER].reverse();
  const base = trend.map(() => 0);
  const areas = stackOrder.map((l) => {
    const lower = [...base];
    trend.forEach((t, i) => (base[i] = base[i]! + (t.byLevel[l] ?? 0)));
    const upper = [...base];
    const top = upper.map((v, i) => `${x(i)},${y(v)}`);
    const bottom = lower.map((v, i) => `${x(i)},${y(v)}`).reverse();
    const d = trend.length === 1 ? `M${x(0) - 4},${y(upper[0]!)}h8V${y(lower[0]!)}h-8Z` : `M${top.join('L')}L${bottom.join('L')}Z`;
    return <path key={l} className={`fill-${l}`} d={d} />;
  });
  const first = trend[0]!;
  const last = trend[trend.length - 1]!;
  return (
    <figure className="trend">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Servers per risk level from ${first.day} to ${last.day}; now ${totals[totals.length - 1]} servers.`}
      >
        <line className="axis" x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} />
        {areas}
        <text className="axis-label" x={PAD} y={H - 6}>
          {first.day}
        </text>
        <text className="axis-label" x={W - PAD} y={H - 6} textAnchor="end">
          {last.day}
        </text>
        <text className="axis-label" x={PAD} y={PAD - 8}>
          {max} servers
        </text>
      </svg>
      <figcaption className="legend">
        {ORDER.map((l) => (
          <span key={l}>
            <svg viewBox="0 0 10 10" className="swatch" aria-hidden="true">
              <rect className={`fill-${l}`} width="10" height="10" />
            </svg>
            {levelLabel[l]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
