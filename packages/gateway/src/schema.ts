// The gateway config file's JSON Schema (draft-07). The same object validates the file at
// start and is published as schema/gateway.schema.json (a test keeps the two equal).

const NAME = '^[a-zA-Z0-9_-]{1,64}$';

const envMap = {
  type: 'object',
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: { type: 'string', maxLength: 8192 },
};

const allowDeny = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allow: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 1000 },
    deny: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 1000 },
  },
};

const level = { enum: ['critical', 'high', 'medium', 'low', 'none'] };

const rateRule = {
  type: 'object',
  additionalProperties: false,
  required: ['limit', 'windowSeconds'],
  properties: { limit: { type: 'integer', minimum: 1 }, windowSeconds: { type: 'integer', minimum: 1, maximum: 86400 } },
} as const;

export const gatewayConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://palisade.dev/schema/gateway.schema.json',
  title: 'Palisade gateway configuration',
  description:
    'The config file of `palisade gateway` (YAML or JSON). Secret values (upstream env values, header values, redis, backend key) are given only as ${ENV} references.',
  type: 'object',
  additionalProperties: false,
  required: ['upstreams'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 255, description: 'Address to bind; default 127.0.0.1. Anything but loopback needs auth.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Default 8090; 0 picks a free port.' },
        allowedHosts: {
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 255 },
          description: 'Host header values accepted (DNS-rebinding protection). Default: localhost, 127.0.0.1, [::1] (with the port).',
        },
        allowedOrigins: {
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 512 },
          description: 'Origin header values accepted. Requests with no Origin are accepted; any other Origin is refused.',
        },
        publicUrl: { type: 'string', pattern: '^https?://', description: "The gateway's external base URL (behind a proxy); used for the OAuth resource URL." },
      },
    },
    store: {
      type: 'string',
      minLength: 1,
      description: 'Folder of the SQLite store (pins, approvals, tokens, audit); relative to the config file. Default ./.palisade-gateway',
    },
    upstreams: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          command: { type: 'string', minLength: 1, maxLength: 4096 },
          args: { type: 'array', items: { type: 'string', maxLength: 8192 }, maxItems: 256 },
          env: envMap,
          cwd: { type: 'string', minLength: 1 },
          url: { type: 'string', minLength: 1, maxLength: 4096 },
          transport: { enum: ['stdio', 'http', 'sse'] },
          headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 } },
          allowPrivateAddress: { type: 'boolean' },
          prefix: {
            type: 'string',
            pattern: '^[a-zA-Z0-9_-]{0,48}$',
            description: 'Prefix of federated names; default the upstream name. "" means no prefix.',
          },
          rename: {
            type: 'object',
            propertyNames: { maxLength: 256 },
            additionalProperties: { type: 'string', pattern: NAME },
            description: 'upstream tool/prompt name -> federated name',
          },
          timeoutMs: { type: 'integer', minimum: 100, maximum: 3600000 },
          protocol: {
            enum: ['legacy', 'auto'],
            description: 'legacy: 2025 initialize handshake (default); auto: probe 2026-07-28 server/discover first (HTTP upstreams).',
          },
          disabled: { type: 'boolean' },
          isolation: {
            enum: ['shared', 'per-user'],
            description:
              'shared (default): one instance of this upstream serves every principal. per-user: one instance per principal (its own process for stdio, its own connection for http/sse); implied by auth.type oauth.',
          },
          maxInstances: {
            type: 'integer',
            minimum: 1,
            maximum: 10000,
            description: 'per-user upstreams: how many per-principal instances may run at once in one gateway process (default 50); a call beyond it is refused.',
          },
          auth: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'clientId'],
            description:
              "Per-user OAuth to a remote upstream: each principal authorizes once (authorization code + PKCE) and that principal's calls use only its own token. Needs tokenEncryptionKey.",
            properties: {
              type: { const: 'oauth' },
              clientId: { type: 'string', minLength: 1, maxLength: 512 },
              clientSecret: { type: 'string', minLength: 1, maxLength: 4096, description: 'An ${ENV} reference; absent for a public client.' },
              scopes: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 100 },
              authorizationServer: {
                type: 'string',
                pattern: '^https?://',
                description: "The authorization server's issuer URL, when the upstream does not publish protected resource metadata (RFC 9728).",
              },
            },
          },
        },
        oneOf: [
          { required: ['command'], not: { required: ['url'] } },
          { required: ['url'], not: { required: ['command'] } },
        ],
      },
    },
    virtualServers: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['upstreams'],
        properties: {
          upstreams: { type: 'array', items: { type: 'string', pattern: NAME }, minItems: 1 },
          tools: allowDeny,
          resources: allowDeny,
          prompts: allowDeny,
        },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tokens: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'sha256'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 128 },
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
              virtualServers: { type: 'array', items: { type: 'string', pattern: NAME } },
              expiresAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})$' },
            },
          },
        },
        oauth: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer'],
          properties: {
            issuer: { type: 'string', minLength: 1 },
            audience: { type: 'string', minLength: 1, description: "The gateway's resource URL; default http://HOST:PORT/mcp" },
            jwksUri: { type: 'string', minLength: 1, description: "Default: the issuer's jwks_uri from its metadata, else ISSUER/.well-known/jwks.json" },
            scopes: { type: 'array', items: { type: 'string' } },
            virtualServersClaim: { type: 'string', description: 'Claim listing the virtual servers a token may use; absent = all' },
          },
        },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        blockLevel: level,
        pinning: { type: 'boolean' },
        stripHiddenText: { type: 'boolean' },
        redactSecretsInResults: { type: 'boolean' },
        allowUpstreams: { type: 'array', items: { type: 'string' }, description: 'Upstreams allowed although their risk is at or above blockLevel.' },
        allowTools: {
          type: 'array',
          items: { type: 'string' },
          description: 'Federated tool names (globs) allowed although their risk is at or above blockLevel.',
        },
        relistIntervalMs: { type: 'integer', minimum: 0, description: 'Re-read tool lists this often even without list_changed (0 = only on notifications).' },
        alertWebhook: { type: 'string', description: 'URL (or ${ENV} reference) POSTed a JSON alert when a tool is quarantined.' },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxMessageBytes: { type: 'integer', minimum: 1024 },
        maxDepth: { type: 'integer', minimum: 2, maximum: 30 },
        maxStringLength: { type: 'integer', minimum: 1 },
        maxArrayLength: { type: 'integer', minimum: 1 },
        maxResultBytes: { type: 'integer', minimum: 1024 },
        callsPerMinute: { type: 'integer', minimum: 1 },
        callTimeoutMs: { type: 'integer', minimum: 100 },
        pageSize: { type: 'integer', minimum: 1, maximum: 1000, description: 'Items per page of the lists the gateway serves (clients follow nextCursor).' },
        rate: {
          type: 'object',
          additionalProperties: false,
          description: 'Sliding-window rate limits, shared through Redis when "redis" is set (else per process).',
          properties: { principal: rateRule, virtualServer: rateRule, tool: rateRule },
        },
        concurrency: {
          type: 'object',
          additionalProperties: false,
          description: 'Calls in flight per principal and per upstream (per process), with a bounded queue.',
          properties: {
            perPrincipal: { type: 'integer', minimum: 1 },
            perUpstream: { type: 'integer', minimum: 1 },
            queue: { type: 'integer', minimum: 0, maximum: 100000 },
            queueTimeoutMs: { type: 'integer', minimum: 1, maximum: 600000 },
          },
        },
        upstreamIdleMs: { type: 'integer', minimum: 0, description: 'Stop a stdio upstream after this long without calls (0: never); the next call starts it again.' },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        file: { type: 'string', description: 'Also append every audit record as a JSON line to this file.' },
        logPayloads: { type: 'boolean', description: 'Keep arguments in audit records (off by default: payloads are never logged).' },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      description: 'The admin API (off by default): pins, quarantine, approvals, status; loopback only, needs the admin token.',
      properties: {
        enabled: { type: 'boolean' },
        host: { type: 'string', description: 'A loopback address: 127.0.0.1 (default), ::1 or localhost.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Default 8091.' },
        token: { type: 'string', description: 'The admin token, as an ${ENV} reference (never a literal).' },
        tokenSha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'Or the hex SHA-256 of the admin token.' },
      },
    },
    redis: { type: 'string' },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      description:
        'OpenTelemetry traces over OTLP/HTTP: one span per client call, one child span per upstream call (never arguments, results or tokens). Off unless otlpEndpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) is set.',
      properties: {
        enabled: { type: 'boolean', description: 'false: no traces even when OTEL_EXPORTER_OTLP_ENDPOINT is set.' },
        otlpEndpoint: { type: 'string', description: 'The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (may be an ${ENV} reference).' },
        serviceName: { type: 'string', minLength: 1, maxLength: 200, description: 'service.name of the spans (default palisade-gateway, or OTEL_SERVICE_NAME).' },
        sampleRatio: { type: 'number', minimum: 0, maximum: 1, description: 'Share of new traces recorded (default 1); a sampled parent from the client is followed.' },
      },
    },
    tokenEncryptionKey: {
      type: 'string',
      minLength: 1,
      description:
        'An ${ENV} reference to a key of at least 32 characters: per-user upstream OAuth tokens are stored encrypted with AES-256-GCM under it. Required when an upstream has auth.type oauth.',
    },
    backend: {
      type: 'object',
      additionalProperties: false,
      properties: { url: { type: 'string' }, key: { type: 'string' } },
    },
  },
} as const;
