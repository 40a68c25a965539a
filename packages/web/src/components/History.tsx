import type { InventoryEvent } from '../api/types';
import { formatDate } from '../format';
import { SeverityBadge } from './badges';

export function History({ events }: { events: InventoryEvent[] }) {
  if (events.length === 0) return <p className="muted">No changes recorded yet.</p>;
  return (
    <ol className="history">
      {events.map((e) => (
        <li key={e.id}>
          <time dateTime={e.createdAt}>{formatDate(e.createdAt)}</time> <SeverityBadge severity={e.severity} /> {e.summary}
        </li>
      ))}
    </ol>
  );
}
