// The two payload shapes: a generic JSON document, and a Slack-compatible {text, blocks}
// message (Slack incoming webhooks, and the many chat tools that accept the same shape).
import type { Severity } from '@palisade/core';

export interface AlertMessage {
  id: string;
  type: string;
  severity: Severity;
  status: string;
  title: string;
  message: string;
  serverId: string | null;
  hostId: string | null;
  createdAt: string;
}

export type WebhookFormat = 'generic' | 'slack';

const EMOJI: Record<Severity, string> = { critical: ':red_circle:', high: ':large_orange_circle:', medium: ':large_yellow_circle:', low: ':white_circle:', info: ':information_source:' };

// Slack treats <, > and & as markup; escape them so server names cannot inject links.
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function webhookBody(format: WebhookFormat, event: string, alert: AlertMessage, sentAt: Date, dashboardUrl?: string): string {
  if (format === 'generic') return JSON.stringify({ event, alert, sentAt: sentAt.toISOString() });
  const text = `${EMOJI[alert.severity]} Palisade ${alert.severity} alert: ${slackEscape(alert.title)}`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(alert.title)}*\n${slackEscape(alert.message)}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `severity: *${alert.severity}* | type: ${alert.type} | ${alert.createdAt}` }] },
  ];
  if (dashboardUrl) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${dashboardUrl}/alerts/${encodeURIComponent(alert.id)}|Open in Palisade>` } });
  return JSON.stringify({ text, blocks });
}
