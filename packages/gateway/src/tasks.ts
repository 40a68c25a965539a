// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) toward 2026-07-28 clients: a
// tools/call for a tool whose upstream declares execution.taskSupport "optional" or "required",
// from a request that declares the extension, runs as a task held by this gateway process. The
// upstream is called as usual (any spec version); the client polls tasks/get, answers input
// through tasks/update and stops the call with tasks/cancel.
//
// Tasks are bound to the principal (another principal's task id is unknown: -32602), bounded
// (100 per principal, 10,000 per process) and kept for their ttlMs (1 hour) after creation;
// a task still working when it expires is cancelled. They live in this process only, like
// input_required rounds: several gateway processes need sticky routing for them.
import { randomBytes } from 'node:crypto';
import { ERR_INVALID_PARAMS, GatewayError, type CallContext, type Scope } from './gateway.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
export const ERR_MISSING_CAPABILITY = -32021;
const TTL_MS = 60 * 60_000;
const POLL_INTERVAL_MS = 500;
const MAX_PER_PRINCIPAL = 100;
const MAX_TASKS = 10_000;

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

interface PendingInput {
  method: 'sampling/createMessage' | 'elicitation/create';
  params: Record<string, unknown>;
  resolve: (r: Record<string, unknown>) => void;
}

interface Task {
  id: string;
  principal: string;
  status: Status;
  createdAt: string;
  lastUpdatedAt: string;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  inputs: Map<string, PendingInput>;
  counter: number;
  /** the pending input requests were shown to the client (tasks/get) and not all answered yet */
  delivered: boolean;
  abort: AbortController;
  timer: NodeJS.Timeout;
}

/** Whether this 2026-07-28 request's envelope declares the tasks extension. */
export function declaresTasks(envelope: Record<string, unknown> | undefined): boolean {
  const caps = envelope?.['io.modelcontextprotocol/clientCapabilities'] as { extensions?: Record<string, unknown> } | undefined;
  return !!caps?.extensions && typeof caps.extensions === 'object' && caps.extensions[TASKS_EXTENSION] !== undefined;
}

export function missingTasksCapability(what: string): GatewayError {
  return new GatewayError(ERR_MISSING_CAPABILITY, `${what} needs the ${TASKS_EXTENSION} extension: declare it in the request's client capabilities.`, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });
}

const unknownTask = () =>
  new GatewayError(ERR_INVALID_PARAMS, 'Unknown task: it does not exist, expired, or belongs to another caller.', { reason: 'unknown_task' });

/** An input request's key toward the client: the upstream's own (2026-07-28 upstreams) when it is a valid, unused key; else one the gateway makes. */
export function inputKeyFor(upstreamKey: string | undefined, inUse: Map<string, unknown>, make: () => string): string {
  if (upstreamKey !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(upstreamKey) && !inUse.has(upstreamKey) && !/^(elicitation|sampling)-\d+$/.test(upstreamKey))
    return upstreamKey;
  let key = make();
  while (inUse.has(key)) key = make();
  return key;
}

export class GatewayTasks {
  private readonly byId = new Map<string, Task>();

  /** Start `run` as a task and answer the CreateTaskResult (the task exists before this returns). */
  create(scope: Scope, run: (cc: CallContext) => Promise<unknown>, canAsk: (need: 'elicitation' | 'sampling') => boolean): Record<string, unknown> {
    const mine = [...this.byId.values()].filter((t) => t.principal === scope.principal.id);
    if (mine.length >= MAX_PER_PRINCIPAL || this.byId.size >= MAX_TASKS)
      throw new GatewayError(
        ERR_INVALID_PARAMS,
        `Too many tasks (${MAX_PER_PRINCIPAL} per caller) are kept for ${scope.principal.name}: let some expire or cancel them.`,
      );
    const now = new Date().toISOString();
    const task: Task = {
      id: randomBytes(24).toString('base64url'),
      principal: scope.principal.id,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      inputs: new Map(),
      counter: 0,
      delivered: false,
      abort: new AbortController(),
      timer: undefined as unknown as NodeJS.Timeout,
    };
    task.timer = setTimeout(() => {
      task.abort.abort(new Error('the task expired'));
      this.byId.delete(task.id);
    }, TTL_MS);
    task.timer.unref();
    this.byId.set(task.id, task);
    const touch = (status: Status) => {
      task.status = status;
      task.lastUpdatedAt = new Date().toISOString();
    };
    run({
      signal: task.abort.signal,
      // requests the upstream sends together all reach this task until its client has seen them
      awaitingClient: () => task.delivered,
      request: (method, params, inputKey) => {
        const need = method === 'elicitation/create' ? 'elicitation' : 'sampling';
        if (!canAsk(need))
          return Promise.reject(
            new GatewayError(ERR_INVALID_PARAMS, `The client did not declare the ${need} capability, so Palisade gateway cannot ask it (${method}).`),
          );
        return new Promise<Record<string, unknown>>((resolve) => {
          task.inputs.set(
            inputKeyFor(inputKey, task.inputs, () => `${need}-${++task.counter}`),
            { method, params, resolve },
          );
          if (task.status === 'working') touch('input_required');
        });
      },
    }).then(
      (result) => {
        if (task.status === 'cancelled') return;
        task.result = result;
        touch('completed');
      },
      (err: unknown) => {
        if (task.status === 'cancelled') return;
        const e = err as { code?: unknown; message?: unknown; data?: unknown };
        task.error = {
          code: typeof e.code === 'number' ? e.code : -32603,
          message: String(e.message ?? err).slice(0, 1000),
          ...(e.data !== undefined ? { data: e.data } : {}),
        };
        touch('failed');
      },
    );
    return { resultType: 'task', ...this.envelope(task) };
  }

  private envelope(t: Task): Record<string, unknown> {
    return { taskId: t.id, status: t.status, createdAt: t.createdAt, lastUpdatedAt: t.lastUpdatedAt, ttlMs: TTL_MS, pollIntervalMs: POLL_INTERVAL_MS };
  }

  private find(scope: Scope, id: unknown): Task {
    const t = typeof id === 'string' ? this.byId.get(id) : undefined;
    if (!t || t.principal !== scope.principal.id) throw unknownTask();
    return t;
  }

  /** tasks/get: the DetailedTask, with the result, the error or the pending input requests inlined. */
  get(scope: Scope, id: unknown): Record<string, unknown> {
    const t = this.find(scope, id);
    const out: Record<string, unknown> = { resultType: 'complete', ...this.envelope(t) };
    if (t.status === 'completed') out.result = t.result;
    if (t.status === 'failed') out.error = t.error;
    if (t.status === 'input_required') t.delivered = true;
    if (t.status === 'input_required')
      out.inputRequests = Object.fromEntries([...t.inputs.entries()].map(([k, i]) => [k, { method: i.method, params: i.params }]));
    return out;
  }

  /** tasks/update: answers to some or all of the pending input requests; unknown keys are ignored. */
  update(scope: Scope, id: unknown, responses: unknown): Record<string, unknown> {
    const t = this.find(scope, id);
    if (!responses || typeof responses !== 'object' || Array.isArray(responses))
      throw new GatewayError(ERR_INVALID_PARAMS, 'tasks/update needs inputResponses: an object keyed by the ids of the task inputRequests.');
    for (const [key, value] of Object.entries(responses as Record<string, unknown>)) {
      const input = t.inputs.get(key);
      if (!input || !value || typeof value !== 'object' || Array.isArray(value)) continue;
      t.inputs.delete(key);
      input.resolve(value as Record<string, unknown>);
    }
    if (t.inputs.size === 0) t.delivered = false;
    if (t.status === 'input_required' && t.inputs.size === 0) {
      t.status = 'working';
      t.lastUpdatedAt = new Date().toISOString();
    }
    return { resultType: 'complete' };
  }

  /** tasks/cancel: stops a running task (its upstream call is cancelled); a finished one is left as it is. */
  cancel(scope: Scope, id: unknown): Record<string, unknown> {
    const t = this.find(scope, id);
    if (t.status === 'working' || t.status === 'input_required') {
      t.status = 'cancelled';
      t.lastUpdatedAt = new Date().toISOString();
      t.inputs.clear();
      t.abort.abort(new Error('cancelled by the client (tasks/cancel)'));
    }
    return { resultType: 'complete' };
  }

  close(): void {
    for (const t of this.byId.values()) {
      clearTimeout(t.timer);
      t.abort.abort(new Error('the gateway is closing'));
    }
    this.byId.clear();
  }
}
