import { posix } from 'node:path';
import { REGISTRIES_YAML, registriesYaml } from '../vm-scripts.js';
import { waitNodeReadyLines } from './k3s.js';
import { type HostScript, script, sh } from './script.js';

/**
 * Writes k3s's registries.yaml for `registry` and restarts k3s, only when the file's content
 * differs: an unchanged mirror never costs a k3s restart.
 */
export function writeRegistryMirror(registry: string, file = REGISTRIES_YAML): HostScript {
  return script('the registry mirror update', true, [
    sh`desired=${registriesYaml(registry)}`,
    sh`if printf %s "$desired" | cmp -s - ${file}; then echo unchanged: k3s not restarted; exit 0; fi`,
    sh`mkdir -p ${posix.dirname(file)}`,
    sh`printf %s "$desired" > ${file}`,
    sh`systemctl restart k3s`,
    ...waitNodeReadyLines(),
  ]);
}
