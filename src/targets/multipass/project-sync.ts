import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../host/run-local.js';

export interface ProjectArchive {
  path: string;
  sha256: string;
  files: number;
}

/**
 * The files the VM needs: everything git tracks plus untracked files that are not ignored (so
 * uncommitted work is deployed), minus paths deleted from the working tree. An uncompressed tar
 * of unchanged files has the same bytes, so its hash tells whether the VM copy is current.
 */
export async function archiveProject(run: Runner, rootDir: string, outDir: string): Promise<ProjectArchive> {
  const ls = await run(['git', '-C', rootDir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { timeoutMs: 60_000 });
  if (ls.exitCode !== 0) throw new Error(`git ls-files failed in ${rootDir}: ${ls.stderr.trim()} (the project must be a git checkout)`);
  const files = [...new Set(ls.stdout.split('\0').filter((f) => f && existsSync(join(rootDir, f))))].sort();
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'project.tar');
  const tar = await run(['tar', '-C', rootDir, '--null', '--no-recursion', '-T', '-', '-cf', path], {
    input: files.join('\0') + '\0',
    timeoutMs: 120_000,
  });
  if (tar.exitCode !== 0) throw new Error(`tar of the project failed: ${tar.stderr.trim()}`);
  return { path, sha256: await sha256File(path), files: files.length };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
