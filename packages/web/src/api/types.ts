// The backend's answers as the dashboard uses them: every type here is an alias of the types
// generated from the server's OpenAPI document (schema.gen.ts, `npm run api:types`), so the
// pages cannot drift from what the server sends. Nothing is written out by hand: a field a
// page needs is added to the route's schema on the server, then the types are regenerated.
import type { components, paths } from './schema.gen';

type Schemas = components['schemas'];
type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body of an operation's answer with the given status. */
export type ResponseOf<P extends keyof paths, M extends Method, S extends number = 200> =
  Operation<P, M> extends { responses: { [K in S]: { content: { 'application/json': infer B } } } } ? B : never;

/** The JSON body an operation takes. */
export type RequestOf<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The query string an operation takes. */
export type QueryOf<P extends keyof paths, M extends Method> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Level = Schemas['Level'];
export type Severity = Schemas['Severity'];
export type Role = Schemas['Role'];

export const LEVELS: Level[] = ['critical', 'high', 'medium', 'low', 'none'];
export const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
export const ROLES: Role[] = ['owner', 'admin', 'analyst', 'viewer'];

/** One page of a list: `{ items, total }`. */
export interface List<T> {
  items: T[];
  total: number;
}

export type User = Schemas['User'];
export type Org = Schemas['Org'];
export type Me = Schemas['Me'];
export type SetupState = Schemas['SetupState'];
/** What an organisation's sign-up link says before the form (its name and the role it gives). */
export type SignupInfo = ResponseOf<'/api/v1/signup/{org}', 'get'>;
export type SignupResult = ResponseOf<'/api/v1/signup/{org}', 'post', 202>;
export type Person = Schemas['Person'];

export type OverrideBadge = Schemas['OverrideBadge'];
export type ServerSummary = Schemas['ServerSummary'];
export type Instance = Schemas['Instance'];
export type ServerTool = Schemas['ServerTool'];
export type ServerFinding = Schemas['ServerFinding'];
export type CrossFinding = Schemas['CrossFinding'];
export type Override = Schemas['Override'];
export type InventoryEvent = Schemas['InventoryEvent'];
export type Advisory = Schemas['ServerAdvisory'];
export type ServerDetail = Schemas['ServerDetail'];
export type HostSummary = Schemas['HostSummary'];
export type HostDetail = Schemas['HostDetail'];
export type Finding = Schemas['Finding'];

export type Alert = Schemas['Alert'];
export type AlertAction = RequestOf<'/api/v1/alerts/bulk', 'post'>['action'];
export type AlertBulkResult = Schemas['AlertBulkResult'];
/** The people an alert can be assigned to. */
export type Assignees = ResponseOf<'/api/v1/alerts/assignees', 'get'>;

export type AdvisoryListItem = Schemas['AdvisoryListItem'];
export type AdvisorySync = Schemas['AdvisorySync'];
export type AdvisoryImportResult = ResponseOf<'/api/v1/advisories/import', 'post'>;

export type LevelCounts = Record<Level, number>;
export type Overview = Schemas['Overview'];

export type AgentKey = Schemas['AgentKey'];
export type NewAgentKey = Schemas['NewAgentKey'];

/** An invitation as listed; a new one also carries its token and link (shown once). */
export type Invitation = ResponseOf<'/api/v1/invitations', 'get'>['items'][number] & Partial<Pick<ResponseOf<'/api/v1/invitations', 'post', 201>, 'token' | 'link'>>;

export type AuditEntry = Schemas['AuditEntry'];

export type Webhook = Schemas['Webhook'];
export type NewWebhook = Schemas['NewWebhook'];
export type WebhookDelivery = Schemas['WebhookDelivery'];

export type OrgSettings = Schemas['OrgSettings'];
