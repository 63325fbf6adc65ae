/**
 * Who function processes run as (NANOFAAS_FUNCTION_USER, validated in config.ts):
 *   unset     → `nobody` when the control plane runs as root, otherwise the control plane's user;
 *   `inherit` → the control plane's user, whatever it is;
 *   a name    → that user, looked up in /etc/passwd (no shell, no NSS: plain file parsing);
 *   uid[:gid] → those ids (gid: the uid's passwd entry, else the uid itself).
 * Switching user needs root; the kernel then keeps the function out of root-only files, e.g.
 * /proc/<control-plane pid>/environ (mode 0400, owned by the control plane's user).
 */
import { readFileSync } from 'node:fs';

export interface FunctionUser {
  uid: number;
  gid: number;
  /** The passwd home directory, or /nonexistent (the conventional home of nobody). */
  home: string;
  /** For messages: the name, or the numeric spec. */
  label: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export class FunctionUserError extends Error {
  override name = 'FunctionUserError';
}

/** Lines `name:password:uid:gid:gecos:home:shell`; comments and malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length < 7) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!fields[0] || !/^\d+$/.test(fields[2]!) || !/^\d+$/.test(fields[3]!)) continue;
    entries.push({ name: fields[0], uid, gid, home: fields[5] || '/nonexistent' });
  }
  return entries;
}

export interface Identity {
  /** The control plane's uid (process.getuid()); undefined where there are no uids (Windows). */
  uid: number | undefined;
  /** /etc/passwd contents; read lazily only when a name or a gid must be looked up. */
  passwd: () => string;
}

const systemIdentity: Identity = {
  uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
  passwd: () => readFileSync('/etc/passwd', 'utf8'),
};

/**
 * The user to switch function processes to, or undefined to keep the control plane's own.
 * Throws FunctionUserError for an unknown name or for a switch that needs root.
 */
export function resolveFunctionUser(setting: string | undefined, identity: Identity = systemIdentity): FunctionUser | undefined {
  if (identity.uid === undefined || setting === 'inherit') return undefined;
  const isRoot = identity.uid === 0;
  const wanted = setting ?? (isRoot ? 'nobody' : undefined);
  if (wanted === undefined) return undefined;

  let entries: PasswdEntry[] | undefined;
  const passwd = () => (entries ??= parsePasswdSafely(identity));
  let user: FunctionUser;
  const numeric = /^(\d+)(?::(\d+))?$/.exec(wanted);
  if (numeric) {
    const uid = Number(numeric[1]);
    const entry = passwd().find((e) => e.uid === uid);
    const gid = numeric[2] !== undefined ? Number(numeric[2]) : (entry?.gid ?? uid);
    user = { uid, gid, home: entry?.home ?? '/nonexistent', label: wanted };
  } else {
    const entry = passwd().find((e) => e.name === wanted);
    if (!entry) {
      throw new FunctionUserError(
        `NANOFAAS_FUNCTION_USER: there is no user "${wanted}" in /etc/passwd` +
          (setting === undefined
            ? ' (the default when the control plane runs as root; set NANOFAAS_FUNCTION_USER to a user or uid[:gid])'
            : ''),
      );
    }
    user = { uid: entry.uid, gid: entry.gid, home: entry.home, label: wanted };
  }
  if (user.uid === identity.uid) return undefined; // already that user
  if (!isRoot) {
    throw new FunctionUserError(
      `NANOFAAS_FUNCTION_USER=${wanted} needs the control plane to run as root (it runs as uid ${identity.uid}); unset it or use "inherit"`,
    );
  }
  return user;
}

function parsePasswdSafely(identity: Identity): PasswdEntry[] {
  try {
    return parsePasswd(identity.passwd());
  } catch {
    return [];
  }
}
