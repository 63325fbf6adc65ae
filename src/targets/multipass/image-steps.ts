import { join } from 'node:path';
import type { Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { hostExec } from '../host/step-exec.js';
import { buildImages, buildPlan, staleBuilds } from '../../images/build.js';
import { pushImages, pushPlan } from '../../images/push.js';
import { type ImageBuild, imageBuilds, inRegistry } from '../cluster/images.js';
import type { UpContext } from '../target.js';
import { registryPort } from './config.js';
import type { UpKit } from './kit.js';
import { archiveProject } from './project-sync.js';
import { writeRegistryMirror } from './provision/registry-mirror.js';
import { probeScript, runScript, script, sh, showScript } from './provision/script.js';
import { REGISTRIES_YAML, REGISTRY_CONTAINER, VM_PROJECT_DIR, VM_SYNC_MARKER, VM_TARBALL, registriesYaml } from './vm-scripts.js';

/** What the registry is asked for, so it answers with the digest `docker push` printed. */
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

/** `nanofaas/x:0.1.0` → [`nanofaas/x`, `0.1.0`]. */
function splitRef(nameTag: string): [string, string] {
  const at = nameTag.lastIndexOf(':');
  return [nameTag.slice(0, at), nameTag.slice(at + 1)];
}

/** docker in the VM runs as root, as for the registry container: no shell in between, argv only. */
const VM_DOCKER = ['sudo', 'docker'] as const;

/** The project and its images: sync into the VM, local registry, k3s mirror, build, push. */
export function imageSteps(kit: UpKit): Step<UpContext>[] {
  const { input, cfg, run, vm, live, show } = kit;
  const registry = cfg.localRegistry;
  const builds = imageBuilds(input.rootDir, input.functions);
  // Built under their registry references, so a push needs no `docker tag`.
  const tag = (b: ImageBuild) => inRegistry(registry, b.image);
  const pushes = builds.map((b) => ({ source: tag(b), ref: tag(b) }));
  // The same build and push code as on this machine, through the VM: the hash comes from the local
  // tree (the VM's copy is that tree), the base image ids and the labels from the VM's docker.
  const inVm = { host: vm, docker: VM_DOCKER };
  const buildOptions = {
    ...inVm,
    rootDir: input.rootDir,
    repoDir: VM_PROJECT_DIR,
    tag,
    hint: (b: ImageBuild) => `the Dockerfile is ${b.dockerfile}; rebuild by hand with \`multipass shell ${cfg.vmName}\``,
  };
  const desiredMirror = registriesYaml(registry);
  /** The images the build step's skip check found missing or stale (all, until it ran). */
  let stale: ImageBuild[] | undefined;
  const registryHealth = ['curl', '-fsS', `http://${registry}/v2/`];
  /**
   * One script for every ref: `<ref> <the registry's digest for its tag, or -> <the local image's
   * RepoDigests>` a line. A ref is pushed already when its local image carries that digest.
   */
  const digestCheck = script(
    'the registry digest check',
    true,
    pushes.map(({ ref }) => {
      const [name, tag] = splitRef(ref.slice(registry.length + 1));
      const url = `http://${registry}/v2/${name}/manifests/${tag}`;
      return sh`printf '%s %s %s\n' ${ref} "$(curl -fsSI -H ${`Accept: ${MANIFEST_V2}`} ${url} 2>/dev/null | tr -d '\r' | sed -n 's/^docker-content-digest: *//Ip' || true)" "$(docker image inspect --format '{{json .RepoDigests}}' ${ref} 2>/dev/null || true)"`;
    }),
  );
  const unpushed = async (): Promise<string[]> => {
    const out = await probeScript(vm, digestCheck, 60_000);
    if (out.exitCode !== 0) return pushes.map((p) => p.ref);
    const pushed = new Set(
      out.stdout.split('\n').flatMap((line) => {
        const [ref, digest, repoDigests] = line.split(' ');
        if (!ref || !digest?.startsWith('sha256:') || !repoDigests?.startsWith('[')) return [];
        return repoDigests.includes(`"${ref.slice(0, ref.lastIndexOf(':'))}@${digest}"`) ? [ref] : [];
      }),
    );
    return pushes.map((p) => p.ref).filter((ref) => !pushed.has(ref));
  };
  const removeRegistry = ['sudo', 'docker', 'rm', '-f', REGISTRY_CONTAINER];
  const startRegistry = [
    'sudo',
    'docker',
    'run',
    '-d',
    '--restart=always',
    '--name',
    REGISTRY_CONTAINER,
    '-p',
    `${registryPort(registry)}:5000`,
    'registry:2',
  ];
  return [
    {
      title: `Project synced into the VM (${VM_PROJECT_DIR})`,
      skip: async (_ctx, { dryRun }) => {
        if (dryRun) return false;
        live.archive = await archiveProject(run, input.rootDir, input.workDir);
        const marker = await vm.exec(['cat', VM_SYNC_MARKER], { timeoutMs: 30_000 });
        return marker.exitCode === 0 && marker.stdout.trim() === live.archive.sha256
          ? `unchanged since the last sync (${live.archive.files} files)`
          : false;
      },
      plan: () => [
        `git -C ${input.rootDir} ls-files -z --cached --others --exclude-standard | tar -cf ${join(input.workDir, 'project.tar')} -T -`,
        formatArgv(vm.copyCommandFor(join(input.workDir, 'project.tar'), VM_TARBALL)),
        show(['rm', '-rf', VM_PROJECT_DIR]),
        show(['mkdir', '-p', VM_PROJECT_DIR]),
        show(['tar', '-xf', VM_TARBALL, '-C', VM_PROJECT_DIR]),
        show(['tee', VM_SYNC_MARKER]),
      ],
      run: async (_ctx, io) => {
        const archive = live.archive ?? (await archiveProject(run, input.rootDir, input.workDir));
        const exec = hostExec(vm, io);
        io.log(`${archive.files} files, sha256 ${archive.sha256.slice(0, 12)}`);
        io.target(formatArgv(vm.copyCommandFor(archive.path, VM_TARBALL)));
        await vm.copy(archive.path, VM_TARBALL);
        await exec(['rm', '-rf', VM_PROJECT_DIR]);
        await exec(['mkdir', '-p', VM_PROJECT_DIR]);
        await exec(['tar', '-xf', VM_TARBALL, '-C', VM_PROJECT_DIR]);
        await exec(['tee', VM_SYNC_MARKER], { input: archive.sha256 + '\n' });
      },
    },
    {
      title: `Local registry ${registry} (registry:2)`,
      skip: async (_ctx, { dryRun }) => {
        if (dryRun) return false;
        const health = await vm.exec(registryHealth, { timeoutMs: 30_000 });
        return health.exitCode === 0 ? 'healthy (kept)' : false;
      },
      plan: () => [show(registryHealth), show(removeRegistry), show(startRegistry)],
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        await exec(removeRegistry, { allowFailure: true });
        await exec(startRegistry);
      },
    },
    {
      title: `k3s registry mirror (${REGISTRIES_YAML})`,
      skip: async (_ctx, { dryRun }) => {
        if (dryRun) return false;
        const current = await vm.exec(['sudo', 'cat', REGISTRIES_YAML], { timeoutMs: 30_000 });
        return current.exitCode === 0 && current.stdout === desiredMirror ? 'unchanged (k3s not restarted)' : false;
      },
      plan: () => [
        show(['sudo', 'cat', REGISTRIES_YAML]),
        `${showScript(vm, writeRegistryMirror(registry))}   (rewrites the file and restarts k3s only when its content differs)`,
      ],
      run: async (_ctx, io) => {
        await runScript(vm, io, writeRegistryMirror(registry), { timeoutMs: 450_000 });
      },
    },
    {
      title: `Build ${builds.length} images in the VM`,
      skip: async (_ctx, { dryRun }) => {
        if (input.skipBuild) return 'SKIP_BUILD=true';
        if (dryRun) return false;
        stale = await staleBuilds(builds, buildOptions);
        return stale.length === 0 ? `all ${builds.length} up to date (their inputs hash is unchanged)` : false;
      },
      plan: () => buildPlan(builds, buildOptions),
      run: async (_ctx, io) => {
        // The skip check found which images are stale: those are built without asking their labels again.
        await buildImages(stale ?? builds, { ...buildOptions, ...(stale ? { force: true } : {}), io });
      },
    },
    {
      title: `Push images to ${registry}`,
      skip: async (_ctx, { dryRun }) => {
        if (input.skipBuild) return 'SKIP_BUILD=true (images already in the registry)';
        if (dryRun) return false;
        return (await unpushed()).length === 0 ? `all ${pushes.length} already in ${registry} (same digests)` : false;
      },
      plan: () => [
        `${showScript(vm, digestCheck)}   (skipped when every image is in the registry with its digest)`,
        ...pushPlan(pushes, inVm),
      ],
      run: async (_ctx, io) => {
        await pushImages(pushes, { ...inVm, io, hint: `is the registry up? ${show(['curl', '-s', `http://${registry}/v2/_catalog`])}` });
      },
    },
  ];
}
