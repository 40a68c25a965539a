// The upstream the gateway federates while the official conformance suite tests the gateway:
// implements the tools, prompts and resources the suite's server scenarios call (stdio, SDK v1).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  McpError,
  ErrorCode,
  CreateMessageResultSchema,
  ElicitResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';
const empty = { type: 'object', properties: {} };
const SCHEMA_2020 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

const server = new Server(
  { name: 'palisade-conformance-upstream', version: '1.0.0' },
  { capabilities: { tools: {}, prompts: {}, resources: { subscribe: true }, completions: {}, logging: {} } },
);
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    { name: 'test_simple_text', description: 'Returns simple text.', inputSchema: empty },
    { name: 'test_image_content', description: 'Returns an image.', inputSchema: empty },
    { name: 'test_audio_content', description: 'Returns audio.', inputSchema: empty },
    { name: 'test_embedded_resource', description: 'Returns an embedded resource.', inputSchema: empty },
    { name: 'test_multiple_content_types', description: 'Returns text, image and a resource.', inputSchema: empty },
    { name: 'test_tool_with_logging', description: 'Logs while running.', inputSchema: empty },
    { name: 'test_tool_with_progress', description: 'Reports progress.', inputSchema: empty },
    { name: 'test_error_handling', description: 'Always fails.', inputSchema: empty },
    { name: 'json_schema_2020_12_tool', description: 'Has a 2020-12 input schema.', inputSchema: SCHEMA_2020 },
    {
      name: 'test_sampling',
      description: 'Asks the client to sample.',
      inputSchema: { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] },
    },
    {
      name: 'test_elicitation',
      description: 'Asks the user.',
      inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    },
    { name: 'test_elicitation_sep1034_defaults', description: 'Asks with defaults.', inputSchema: empty },
    { name: 'test_elicitation_sep1330_enums', description: 'Asks with enums.', inputSchema: empty },
    // SEP-2322 scenarios, asked the 2025 way (in-band requests): the gateway turns them into
    // input_required rounds toward 2026-07-28 clients
    { name: 'test_input_required_result_elicitation', description: 'Asks for a name.', inputSchema: empty },
    { name: 'test_input_required_result_sampling', description: 'Asks the model a question.', inputSchema: empty },
    { name: 'test_input_required_result_request_state', description: 'Asks for a confirmation.', inputSchema: empty },
    { name: 'test_input_required_result_multi_round', description: 'Asks twice, one after the other.', inputSchema: empty },
    { name: 'test_input_required_result_multiple_inputs', description: 'Asks for a name and a greeting at once.', inputSchema: empty },
    { name: 'test_input_required_result_tampered_state', description: 'Asks for a name.', inputSchema: empty },
    { name: 'test_input_required_result_capabilities', description: 'Asks for a name and the model at once; either may be refused.', inputSchema: empty },
    // tasks extension (SEP-2663) scenarios: the upstream only declares execution.taskSupport;
    // the gateway runs such calls as its own tasks toward 2026-07-28 clients that negotiate them
    { name: 'greet', description: 'Greets.', inputSchema: { type: 'object', properties: { name: { type: 'string' } } } },
    {
      name: 'slow_compute',
      description: 'Sleeps, then answers.',
      inputSchema: { type: 'object', properties: { seconds: { type: 'number' }, label: { type: 'string' } } },
      execution: { taskSupport: 'optional' },
    },
    { name: 'failing_job', description: 'Fails as a tool after a second.', inputSchema: empty, execution: { taskSupport: 'required' } },
    { name: 'protocol_error_job', description: 'Fails with a protocol error.', inputSchema: empty, execution: { taskSupport: 'optional' } },
    { name: 'confirm_delete', description: 'Asks for a confirmation.', inputSchema: { type: 'object', properties: { filename: { type: 'string' } } }, execution: { taskSupport: 'optional' } },
    { name: 'multi_input', description: 'Asks two questions at once.', inputSchema: empty, execution: { taskSupport: 'optional' } },
    { name: 'test_tool_with_task', description: 'Asks for a name, then works.', inputSchema: empty, execution: { taskSupport: 'required' } },
    {
      name: 'staggered_input',
      description: 'Asks two questions at once, the second one gapMs after the first (as a busy machine can deliver them).',
      inputSchema: { type: 'object', properties: { gapMs: { type: 'number' } } },
      execution: { taskSupport: 'optional' },
    },
  ],
}));
const askName = (extra, message) =>
  extra.sendRequest(
    { method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
    ElicitResultSchema,
  );

server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  switch (req.params.name) {
    case 'test_simple_text':
      return { content: [{ type: 'text', text: 'This is a simple text response for testing.' }] };
    case 'test_image_content':
      return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
    case 'test_audio_content':
      return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
    case 'test_embedded_resource':
      return {
        content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
      };
    case 'test_multiple_content_types':
      return {
        content: [
          { type: 'text', text: 'Multiple content types test:' },
          { type: 'image', data: PNG, mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
        ],
      };
    case 'test_tool_with_logging':
      for (const m of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: m } });
        await sleep(50);
      }
      return { content: [{ type: 'text', text: 'Tool with logging executed successfully' }] };
    case 'test_tool_with_progress': {
      const token = req.params._meta?.progressToken;
      for (const p of [0, 50, 100]) {
        if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p, total: 100 } });
        await sleep(50);
      }
      return { content: [{ type: 'text', text: String(token ?? 'no token') }] };
    }
    case 'test_error_handling':
      return { isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] };
    case 'json_schema_2020_12_tool':
      return { content: [{ type: 'text', text: 'ok' }] };
    case 'test_sampling': {
      const r = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: req.params.arguments.prompt } }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      return { content: [{ type: 'text', text: `LLM response: ${r.content.type === 'text' ? r.content.text : ''}` }] };
    }
    case 'test_elicitation': {
      const r = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: req.params.arguments.message,
            requestedSchema: {
              type: 'object',
              properties: { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } },
              required: ['username', 'email'],
            },
          },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}` }] };
    }
    case 'greet':
      return { content: [{ type: 'text', text: `Hello, ${req.params.arguments?.name ?? 'World'}!` }] };
    case 'slow_compute': {
      const seconds = Number(req.params.arguments?.seconds ?? 1);
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, seconds * 1000);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('cancelled'));
        });
      });
      return { content: [{ type: 'text', text: `computed ${req.params.arguments?.label ?? ''} after ${seconds} s` }] };
    }
    case 'failing_job':
      await sleep(1000);
      return { content: [{ type: 'text', text: 'the job failed' }], isError: true };
    case 'protocol_error_job':
      throw new McpError(ErrorCode.InternalError, 'the job crashed');
    case 'confirm_delete': {
      const r = await extra.sendRequest(
        { method: 'elicitation/create', params: { message: `Delete ${req.params.arguments?.filename ?? 'the file'}?`, requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } } } } },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `delete: ${r.action}` }] };
    }
    case 'multi_input': {
      const [a, b] = await Promise.all([askName(extra, 'First name?'), askName(extra, 'Last name?')]);
      return { content: [{ type: 'text', text: `${a.content?.name ?? ''} ${b.content?.name ?? ''}` }] };
    }
    case 'staggered_input': {
      const first = askName(extra, 'First name?');
      await sleep(req.params.arguments?.gapMs ?? 300);
      const [a, b] = await Promise.all([first, askName(extra, 'Last name?')]);
      return { content: [{ type: 'text', text: `${a.content?.name ?? ''} ${b.content?.name ?? ''}` }] };
    }
    case 'test_tool_with_task':
    case 'test_input_required_result_elicitation':
    case 'test_input_required_result_tampered_state': {
      const r = await askName(extra, 'What is your name?');
      return { content: [{ type: 'text', text: `Hello, ${r.content?.name ?? 'nobody'}!` }] };
    }
    case 'test_input_required_result_capabilities': {
      // what the client cannot answer is refused by the gateway; use what comes back
      const [a, b] = await Promise.allSettled([
        askName(extra, 'What is your name?'),
        extra.sendRequest(
          { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 } },
          CreateMessageResultSchema,
        ),
      ]);
      return { content: [{ type: 'text', text: `elicitation ${a.status}, sampling ${b.status}` }] };
    }
    case 'test_input_required_result_sampling': {
      const r = await extra.sendRequest(
        { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 } },
        CreateMessageResultSchema,
      );
      return { content: [{ type: 'text', text: `Answer: ${r.content.type === 'text' ? r.content.text : ''}` }] };
    }
    case 'test_input_required_result_request_state': {
      const r = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: { message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
        },
        ElicitResultSchema,
      );
      // the gateway validated the requestState before this answer could reach us
      return { content: [{ type: 'text', text: `state-ok: confirmed=${r.content?.ok}` }] };
    }
    case 'test_input_required_result_multi_round': {
      const a = await askName(extra, 'Step 1: What is your name?');
      const b = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: { message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `${a.content?.name} likes ${b.content?.color}` }] };
    }
    case 'test_input_required_result_multiple_inputs': {
      const [a, b] = await Promise.all([
        askName(extra, 'What is your name?'),
        extra.sendRequest(
          { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 } },
          CreateMessageResultSchema,
        ),
      ]);
      return { content: [{ type: 'text', text: `${b.content.type === 'text' ? b.content.text : ''} ${a.content?.name}` }] };
    }
    case 'test_elicitation_sep1034_defaults': {
      const r = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: 'Defaults',
            requestedSchema: {
              type: 'object',
              properties: {
                name: { type: 'string', default: 'John Doe' },
                age: { type: 'integer', default: 30 },
                score: { type: 'number', default: 95.5 },
                status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
                verified: { type: 'boolean', default: true },
              },
            },
          },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}` }] };
    }
    case 'test_elicitation_sep1330_enums': {
      const r = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: 'Enums',
            requestedSchema: {
              type: 'object',
              properties: {
                untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
                titledSingle: {
                  type: 'string',
                  oneOf: [
                    { const: 'value1', title: 'First Option' },
                    { const: 'value2', title: 'Second Option' },
                    { const: 'value3', title: 'Third Option' },
                  ],
                },
                legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
                untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
                titledMulti: {
                  type: 'array',
                  items: {
                    anyOf: [
                      { const: 'value1', title: 'First Choice' },
                      { const: 'value2', title: 'Second Choice' },
                      { const: 'value3', title: 'Third Choice' },
                    ],
                  },
                },
              },
            },
          },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}` }] };
    }
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${req.params.name}`);
  }
});
server.setRequestHandler(ListPromptsRequestSchema, async () => ({
  prompts: [
    { name: 'test_simple_prompt', description: 'A simple prompt.' },
    { name: 'test_input_required_result_prompt', description: 'A prompt that asks the user for context.' },
    {
      name: 'test_prompt_with_arguments',
      description: 'A prompt with arguments.',
      arguments: [
        { name: 'arg1', description: 'First', required: true },
        { name: 'arg2', description: 'Second', required: true },
      ],
    },
    {
      name: 'test_prompt_with_embedded_resource',
      description: 'A prompt with a resource.',
      arguments: [{ name: 'resourceUri', description: 'URI', required: true }],
    },
    { name: 'test_prompt_with_image', description: 'A prompt with an image.' },
  ],
}));
server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
  const a = req.params.arguments ?? {};
  switch (req.params.name) {
    case 'test_input_required_result_prompt': {
      // asks the 2025 way while building the prompt; the gateway makes it a round for 2026-07-28 clients
      const r = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: { message: 'What context should the prompt use?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } },
        },
        ElicitResultSchema,
      );
      return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${r.content?.context ?? 'none'}` } }] };
    }
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] };
    case 'test_prompt_with_arguments':
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` } }] };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: { type: 'resource', resource: { uri: a.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } },
          },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
          { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
        ],
      };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt ${req.params.name}`);
  }
});
server.setRequestHandler(ListResourcesRequestSchema, async () => ({
  resources: [
    { uri: 'test://static-text', name: 'static-text', mimeType: 'text/plain' },
    { uri: 'test://static-binary', name: 'static-binary', mimeType: 'image/png' },
    { uri: 'test://watched-resource', name: 'watched-resource', mimeType: 'text/plain' },
    { uri: 'test://ask-resource', name: 'ask-resource', mimeType: 'text/plain' },
  ],
}));
server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
  resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', mimeType: 'application/json' }],
}));
server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
  const uri = req.params.uri;
  if (uri === 'test://ask-resource') {
    // asks the 2025 way while reading
    const r = await askName(extra, 'Who is reading?');
    return { contents: [{ uri, mimeType: 'text/plain', text: `read by ${r.content?.name ?? 'nobody'}` }] };
  }
  if (uri === 'test://static-text') return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
  if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
  if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'watched' }] };
  const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (m) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }] };
  throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri });
});
server.setRequestHandler(SubscribeRequestSchema, async (req) => {
  setTimeout(() => void server.sendResourceUpdated({ uri: req.params.uri }).catch(() => undefined), 50);
  return {};
});
server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
server.setRequestHandler(CompleteRequestSchema, async () => ({ completion: { values: ['testValue1'], total: 1, hasMore: false } }));
await server.connect(new StdioServerTransport());
