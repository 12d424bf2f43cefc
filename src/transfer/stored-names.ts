import { RftpError } from '../errors.js';
import { listStrict } from '../session/ops.js';
import { remoteBasename, remoteDirname } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { quoteName } from '../ui/redact.js';

/**
 * Names a server may store under another name and still answer success: pure-ftpd turns a
 * trailing space into "_" (MKD and STOR alike), others transcode what is not ASCII. A SIZE of the
 * same name does not show it (the server maps that name the same way); a listing does. Names of
 * printable ASCII without a space at either end are taken as stored as sent: no listing for them.
 */
export const nameAtRisk = (name: string) => !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(name);

/**
 * For each remote path given (files and directories just written, names at risk only), undefined
 * when a listing of its directory shows the name exactly, else why not: what the server stored
 * instead, where one listed name matches but for the characters that are not letters or digits.
 * One listing per directory.
 */
export async function storedNames(session: Session, paths: string[]): Promise<Map<string, string | undefined>> {
  const byDir = new Map<string, string[]>();
  for (const p of paths) {
    const dir = remoteDirname(p);
    byDir.set(dir, [...(byDir.get(dir) ?? []), p]);
  }
  const found = new Map<string, string | undefined>();
  for (const [dir, inDir] of byDir) {
    const { entries } = await session.run(
      `list ${quoteName(dir || '.')}`,
      () => 0,
      (client) => listStrict(client, dir),
    );
    const listed = new Set(entries.map((e) => e.name));
    for (const p of inDir) {
      const name = remoteBasename(p);
      if (listed.has(name)) {
        found.set(p, undefined);
        continue;
      }
      const bare = (n: string) => n.replace(/[^\p{L}\p{N}]/gu, '');
      const other = entries.find((e) => e.name !== name && e.name.length === name.length && bare(e.name) === bare(name));
      const what = other ? `stored it as ${quoteName(other.name)}` : 'does not list it';
      found.set(p, `the server answered success for ${quoteName(name)} but ${what}: rename the local file (a later run would send it again)`);
    }
  }
  return found;
}

/** After one upload: fails (exit 8) when the server stored the file under another name. */
export async function checkStoredName(session: Session, path: string): Promise<void> {
  if (!nameAtRisk(remoteBasename(path))) return;
  const why = (await storedNames(session, [path])).get(path);
  if (why) throw new RftpError('transfer', why);
}
