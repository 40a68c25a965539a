import { makeVsCode } from './vscode-family.js';

export const vscode = makeVsCode('vscode', 'VS Code', 'Code', '.vscode-server', ['.vscode/mcp.json']);
