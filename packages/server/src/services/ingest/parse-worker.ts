// The worker thread parse-pool.ts starts: answers its requests with the accept work
// (parse-pool.ts acceptBody, rereadBody). Nothing here touches a database or logs; an error
// goes back as a code and a sentence meant for the agent, never a value from the body.
import { parentPort, workerData } from 'node:worker_threads';
import { answerParse, type ParseRequest } from './parse-pool.js';

if (parentPort && (workerData as { palisadeParseWorker?: boolean } | null)?.palisadeParseWorker === true) {
  const port = parentPort;
  port.on('message', (req: ParseRequest) => port.postMessage(answerParse(req)));
}
