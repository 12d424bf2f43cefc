import { ExitCode, type RftpError } from '../errors.js';
import type { FileResult } from '../transfer/download.js';

export type ResultWord = 'ok' | 'skipped' | 'error' | 'interrupted';

/** The --json summary: one object on stdout, the same shape for every transfer command. */
export interface Report {
  command: string;
  result: ResultWord;
  exitCode: number;
  files: FileResult[];
  bytesTransferred: number;
  bytesResumed: number;
  seconds: number;
  error?: string;
}

export function makeReport(command: string, files: FileResult[], startedAt: number, err?: RftpError): Report {
  const exitCode = err ? err.exitCode : ExitCode.ok;
  const result: ResultWord = err ? (err.kind === 'interrupted' ? 'interrupted' : 'error') : files.length > 0 && files.every((f) => f.skipped) ? 'skipped' : 'ok';
  return {
    command,
    result,
    exitCode,
    files,
    bytesTransferred: files.reduce((n, f) => n + f.bytesTransferred, 0),
    bytesResumed: files.reduce((n, f) => n + f.resumedFrom, 0),
    seconds: Math.round((Date.now() - startedAt) / 10) / 100,
    ...(err ? { error: err.message } : {}),
  };
}
