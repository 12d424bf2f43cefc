// sync --checksum and check: same-size files compared by content, the server's hash against the
// local file's in the same algorithm, one HASH (or XSHA256, …) per file.
import { HashUnavailable, hashMethod, remoteHash, type HashAlgorithm } from '../session/hash.js';
import type { Session } from '../session/session.js';
import { hashOfFile } from '../transfer/verify.js';
import { localPathInside, remotePathOf } from './names.js';
import { type Plan, sameSizePairs, type Tree, withContentVerdicts } from './plan.js';

/** The server's hash algorithm, or undefined when it offers none. */
export function serverHashAlgorithm(session: Session): Promise<HashAlgorithm | undefined> {
  return session.run(
    'FEAT',
    () => 0,
    async (client) => (await hashMethod(client))?.algorithm,
  );
}

export interface ContentSides {
  session: Session;
  direction: 'down' | 'up';
  localRoot: string;
  remoteRoot: string;
  onFile?: (done: number, of: number) => void;
}

/** The plan with every same-size pair decided by content; unchanged when the server cannot hash. */
export async function compareContents(plan: Plan, src: Tree, dst: Tree, sides: ContentSides): Promise<{ plan: Plan; algorithm?: HashAlgorithm; compared: number; unhashed: number }> {
  const paths = sameSizePairs(plan, src, dst);
  const differs = new Map<string, boolean>();
  let algorithm: HashAlgorithm | undefined;
  let unhashed = 0;
  for (const [i, path] of paths.entries()) {
    const remote = await sides.session.run(
      `hash ${path}`,
      () => i,
      (client) => remoteHash(client, remotePathOf(sides.remoteRoot, path)).catch((err) => (err instanceof HashUnavailable ? null : Promise.reject(err))),
    );
    if (remote === undefined) return { plan, compared: 0, unhashed };
    // Refused for this name: its size and time decide, as without --checksum.
    if (remote === null) {
      unhashed++;
      continue;
    }
    algorithm = remote.algorithm;
    differs.set(path, (await hashOfFile(localPathInside(sides.localRoot, path), remote.algorithm)) !== remote.hex);
    sides.onFile?.(i + 1, paths.length);
  }
  return { plan: algorithm ? withContentVerdicts(plan, src, differs, algorithm) : plan, algorithm, compared: paths.length - unhashed, unhashed };
}
