import { makeVsCode } from './vscode-family.js';

// Insiders shares workspace files (.vscode/mcp.json) with VS Code; they are reported once, under VS Code.
export const vscodeInsiders = makeVsCode('vscode-insiders', 'VS Code Insiders', 'Code - Insiders', '.vscode-server-insiders');
