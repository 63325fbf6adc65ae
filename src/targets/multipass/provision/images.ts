import { dockerBuildArgv, type ImageBuild } from '../../cluster/images.js';
import { VM_PROJECT_DIR } from '../vm-scripts.js';
import { type HostScript, script, sh } from './script.js';

/** `docker build` of one image from the project copy in the VM, tagged for the local registry. */
export function buildImage(build: ImageBuild, tag: string): HostScript {
  return script('docker', true, [sh`${dockerBuildArgv(build, tag, VM_PROJECT_DIR)}`]);
}

export function pushImage(tag: string): HostScript {
  return script('docker', true, [sh`docker push ${tag}`]);
}
