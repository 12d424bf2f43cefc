import type { DownloadState } from './state.js';
import type { RemoteInfo } from '../session/remote.js';

/** A file that keeps changing under us is not chased forever: restarts from zero, at most, per transfer. */
export const MAX_RESTARTS = 3;

export type ResumeDecision = { action: 'fresh' } | { action: 'resume'; offset: number } | { action: 'restart'; reason: string };

/**
 * Whether a partial download may be continued. Only a partial whose recorded remote identity
 * (URL, size, modification time) still matches is continued; anything that cannot be proven
 * restarts from zero, with the reason said to the user. The overlap check during the transfer
 * is the second proof.
 */
export function decideDownloadResume(partialSize: number | undefined, state: DownloadState | undefined, url: string, remote: RemoteInfo): ResumeDecision {
  if (partialSize === undefined || partialSize === 0) return { action: 'fresh' };
  if (!state) return { action: 'restart', reason: 'no record of which remote file the partial data came from' };
  if (state.url !== url) return { action: 'restart', reason: 'the partial data came from another URL' };
  if (remote.size === undefined) return { action: 'restart', reason: 'the server does not tell the file size, so a resume cannot be checked' };
  if (remote.size !== state.remoteSize) return { action: 'restart', reason: `the remote file changed size (${state.remoteSize} -> ${remote.size} bytes)` };
  const recorded = state.remoteMtimeMs ?? undefined;
  if (recorded !== remote.mtimeMs) {
    return { action: 'restart', reason: remote.mtimeMs === undefined ? 'the remote modification time is no longer available' : 'the remote file was modified since the partial download' };
  }
  if (partialSize > remote.size) return { action: 'restart', reason: 'the partial file is larger than the remote file' };
  return { action: 'resume', offset: partialSize };
}

/** Which local file an upload reads and which remote names it writes. */
export interface UploadIdentity {
  url: string;
  tempPath: string;
  localSize: number;
  localMtimeMs: number;
}

export function decideUploadResume(remotePartial: number | undefined, state: UploadIdentity | undefined, local: UploadIdentity): ResumeDecision {
  if (remotePartial === undefined) return { action: 'fresh' };
  if (!state) return { action: 'restart', reason: 'a remote partial exists but there is no record that it came from this local file' };
  if (state.url !== local.url || state.tempPath !== local.tempPath) return { action: 'restart', reason: 'the remote partial belongs to another upload' };
  if (state.localSize !== local.localSize || state.localMtimeMs !== local.localMtimeMs) return { action: 'restart', reason: 'the local file changed since the partial upload' };
  if (remotePartial > local.localSize) return { action: 'restart', reason: 'the remote partial is larger than the local file' };
  return remotePartial === 0 ? { action: 'fresh' } : { action: 'resume', offset: remotePartial };
}
