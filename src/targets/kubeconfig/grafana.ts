import { join } from 'node:path';

/** The compose stack `loadtest` starts (grafana/docker-compose.yml); `down` stops it. */
export function grafanaDownArgv(rootDir: string): string[] {
  return ['docker', 'compose', '-f', join(rootDir, 'grafana', 'docker-compose.yml'), 'down'];
}
