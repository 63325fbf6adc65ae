/**
 * FAKE Kubernetes API server for tests — not Kubernetes. It implements only what the kubernetes
 * workload backend calls, in one namespace: Deployments (apps/v1) and Services (v1) with
 * create/get/replace/patch/delete/list/watch, answering like a real API server does (Status
 * objects, 401/404/409/410/422, resourceVersions, chunked watch streams). Every object it is asked
 * to store is checked against the Kubernetes OpenAPI schema (./schema.ts, kubernetes-models) and
 * a few of the API server's coded checks; a failure is a 422 Invalid Status with field causes. Tests flip a
 * Deployment's readyReplicas to play the kubelet, and can break the watch to force polling.
 * Pods exist only as tests add them (no controller makes them from Deployments), with the log
 * endpoint `nanofaas logs` reads: tailLines, sinceSeconds/sinceTime, follow, timestamps.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { schemaErrors } from './schema.js';

type Obj = Record<string, any>;
type Kind = 'Deployment' | 'Service';

interface Resource {
  kind: Kind;
  group: string;
  plural: string;
  apiVersion: string;
}

const RESOURCES: Record<string, Resource> = {
  'apps/v1/deployments': { kind: 'Deployment', group: 'apps', plural: 'deployments', apiVersion: 'apps/v1' },
  'v1/services': { kind: 'Service', group: '', plural: 'services', apiVersion: 'v1' },
};

const RESOURCES_BY_KIND: Record<Kind, Resource> = {
  Deployment: RESOURCES['apps/v1/deployments']!,
  Service: RESOURCES['v1/services']!,
};

/** Kubernetes' resource.Quantity syntax. */
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

export interface FakeApiServerOptions {
  namespace: string;
  token: string;
  /** Serve HTTPS with this key/cert (for the in-cluster config test). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface FakeApiServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  get(kind: Kind, name: string): Obj | undefined;
  /** Play the kubelet/controller: report this many ready replicas for a Deployment. */
  setReadyReplicas(name: string, ready: number): void;
  /** Mark a Deployment's rollout as failed (Progressing=False, ProgressDeadlineExceeded). */
  failRollout(name: string, message: string): void;
  /** 'fail': watch requests get 500; 'ok': watches work again. Open streams are cut either way. */
  setWatch(mode: 'ok' | 'fail'): void;
  /** Count of watch requests received (successful or not). */
  watchRequests(): number;
  /** Play the kubelet: a pod with these labels and one container (phase Running unless told). */
  addPod(name: string, labels: Record<string, string>, opts?: { phase?: string; container?: string; createdAt?: Date }): void;
  /** A line the pod's container writes, stamped `at` (now by default); followers get it at once. */
  writeLog(pod: string, text: string, at?: Date): void;
  /** Open follow streams of a pod's log. */
  logFollowers(pod: string): number;
  close(): Promise<void>;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: Kind;
  object: Obj;
}

export async function startFakeApiServer(opts: FakeApiServerOptions): Promise<FakeApiServer> {
  const ns = opts.namespace;
  const store = { Deployment: new Map<string, Obj>(), Service: new Map<string, Obj>() };
  const history: WatchEvent[] = [];
  const streams = new Set<{ kind: Kind; selector: Record<string, string>; res: ServerResponse }>();
  const requests: RecordedRequest[] = [];
  let rv = 1000;
  let watchMode: 'ok' | 'fail' = 'ok';
  let watchCount = 0;
  let nextIp = 10;
  const pods = new Map<
    string,
    { pod: Obj; lines: { at: number; text: string }[]; followers: Set<{ res: ServerResponse; stamps: boolean }> }
  >();

  const clone = <T>(o: T): T => structuredClone(o);

  function status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    send(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    });
  }

  function send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function parseSelector(s: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const part of (s ?? '').split(',').filter(Boolean)) {
      const [k, v] = part.split('=');
      out[k!] = v ?? '';
    }
    return out;
  }

  function matches(o: Obj, selector: Record<string, string>): boolean {
    const labels = o.metadata?.labels ?? {};
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
  }

  function record(type: WatchEvent['type'], kind: Kind, object: Obj): void {
    const ev: WatchEvent = { rv, type, kind, object: clone(object) };
    history.push(ev);
    for (const s of streams) {
      if (s.kind === kind && matches(object, s.selector)) s.res.write(JSON.stringify({ type, object: ev.object }) + '\n');
    }
  }

  function bump(o: Obj): void {
    o.metadata.resourceVersion = String(++rv);
  }

  /** Field errors a real API server would give (a small, honest subset), as Status causes. */
  function validate(kind: Kind, body: Obj, name: string): { field: string; message: string; reason: string }[] {
    const causes: { field: string; message: string; reason: string }[] = [];
    if (!DNS_LABEL.test(name) || name.length > 63) {
      causes.push({
        field: 'metadata.name',
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
      });
    }
    if (kind === 'Deployment') {
      const containers: Obj[] = body.spec?.template?.spec?.containers ?? [];
      if (containers.length === 0)
        causes.push({ field: 'spec.template.spec.containers', reason: 'FieldValueRequired', message: 'Required value' });
      const sel = body.spec?.selector?.matchLabels ?? {};
      if (!matches(body.spec?.template ?? {}, sel) || Object.keys(sel).length === 0) {
        causes.push({
          field: 'spec.template.metadata.labels',
          reason: 'FieldValueInvalid',
          message: 'Invalid value: `selector` does not match template `labels`',
        });
      }
      containers.forEach((c, i) => {
        if (!c.image)
          causes.push({ field: `spec.template.spec.containers[${i}].image`, reason: 'FieldValueRequired', message: 'Required value' });
        for (const section of ['requests', 'limits'] as const) {
          for (const [res, q] of Object.entries<string>(c.resources?.[section] ?? {})) {
            if (!QUANTITY.test(String(q))) {
              causes.push({
                field: `spec.template.spec.containers[${i}].resources.${section}[${res}]`,
                reason: 'FieldValueInvalid',
                message: `Invalid value: "${q}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
              });
            }
          }
        }
      });
      if (typeof body.spec?.replicas === 'number' && body.spec.replicas < 0) {
        causes.push({
          field: 'spec.replicas',
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${body.spec.replicas}: must be greater than or equal to 0`,
        });
      }
    }
    // The schema's errors after the coded ones; a quantity the coded check already named (in the
    // server's `requests[cpu]` spelling) is not reported twice.
    const named = new Set(causes.map((c) => c.field));
    for (const c of schemaErrors({ ...body, apiVersion: RESOURCES_BY_KIND[kind].apiVersion, kind })) {
      const field = c.field.replace(/\.resources\.(requests|limits)\.([^.[]+)$/, '.resources.$1[$2]');
      if (!named.has(field)) causes.push({ field, reason: c.reason, message: c.message });
    }
    return causes;
  }

  function invalid(res: ServerResponse, r: Resource, name: string, causes: ReturnType<typeof validate>): void {
    const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    status(res, 422, 'Invalid', `${r.kind} "${name}" is invalid: ${summary}`, { name, group: r.group, kind: r.kind, causes });
  }

  function notFound(res: ServerResponse, r: Resource, name: string): void {
    status(res, 404, 'NotFound', `${r.plural}${r.group ? `.${r.group}` : ''} "${name}" not found`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  }

  function stamp(r: Resource, body: Obj, name: string, prev?: Obj): Obj {
    const o = clone(body);
    o.apiVersion = r.apiVersion;
    o.kind = r.kind;
    o.metadata = {
      ...o.metadata,
      name,
      namespace: ns,
      uid: prev?.metadata?.uid ?? `uid-${r.plural}-${name}-${rv}`,
      creationTimestamp: prev?.metadata?.creationTimestamp ?? new Date().toISOString(),
    };
    delete o.metadata.resourceVersion;
    if (r.kind === 'Deployment') {
      o.spec.replicas ??= 1;
      const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(o.spec);
      o.metadata.generation = (prev?.metadata?.generation ?? 0) + (specChanged ? 1 : 0);
      o.status = prev?.status ?? { observedGeneration: o.metadata.generation, replicas: 0 };
    } else {
      o.spec.clusterIP ||= prev?.spec?.clusterIP ?? `10.43.0.${nextIp++}`;
      o.spec.clusterIPs ??= [o.spec.clusterIP];
      o.status = {};
    }
    bump(o);
    return o;
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  function applyJsonPatch(target: Obj, ops: Obj[]): string | undefined {
    for (const op of ops) {
      const keys = String(op.path)
        .split('/')
        .slice(1)
        .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
      const last = keys.pop();
      let parent: Obj = target;
      for (const k of keys) {
        if (parent[k] === undefined) return `the server rejected our request due to an error in our request: path ${op.path} not found`;
        parent = parent[k];
      }
      if (last === undefined) return 'empty path';
      if (op.op === 'replace' || op.op === 'add') {
        if (op.op === 'replace' && !(last in parent)) return `replace operation does not apply: doc is missing key: ${op.path}`;
        parent[last] = op.value;
      } else if (op.op === 'remove') delete parent[last];
      else return `unsupported JSON patch op ${op.op}`;
    }
    return undefined;
  }

  function mergePatch(target: Obj, patch: Obj): Obj {
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete target[k];
      else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) mergePatch(target[k], v);
      else target[k] = v;
    }
    return target;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
    };
    requests.push(entry);
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0-fake' });
    const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)(\/log)?)?$/.exec(url.pathname);
    if (podPath)
      return handlePods(podPath[1]!, podPath[2] ? decodeURIComponent(podPath[2]) : undefined, Boolean(podPath[3]), req, res, query);

    const m = /^\/(?:api\/(v1)|apis\/(apps\/v1))\/namespaces\/([^/]+)\/(deployments|services)(?:\/([^/]+))?$/.exec(url.pathname);
    const r = m ? RESOURCES[`${m[1] ?? m[2]}/${m[4]}`] : undefined;
    if (!m || !r) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (m[3] !== ns) return status(res, 403, 'Forbidden', `${r.plural} is forbidden: namespace ${m[3]} is not served by this fake`);
    const name = m[5] ? decodeURIComponent(m[5]) : undefined;
    const objects = store[r.kind];
    const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readBody(req);
    if (body !== undefined) entry.body = body;

    if (!name) {
      if (req.method === 'GET' && query.watch === 'true') return openWatch(r, query, res);
      if (req.method === 'GET') {
        const selector = parseSelector(query.labelSelector);
        let items = [...objects.values()].filter((o) => matches(o, selector)).map(clone);
        if (query.limit) items = items.slice(0, Number(query.limit));
        return send(res, 200, { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata: { resourceVersion: String(rv) }, items });
      }
      if (req.method === 'POST') {
        const b = body as Obj;
        const objName = String(b?.metadata?.name ?? '');
        if (objects.has(objName)) {
          return status(res, 409, 'AlreadyExists', `${r.plural}${r.group ? `.${r.group}` : ''} "${objName}" already exists`, {
            name: objName,
            group: r.group,
            kind: r.plural,
          });
        }
        const causes = validate(r.kind, b, objName);
        if (causes.length) return invalid(res, r, objName, causes);
        const o = stamp(r, b, objName);
        objects.set(objName, o);
        record('ADDED', r.kind, o);
        return send(res, 201, o);
      }
      return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }

    const current = objects.get(name);
    if (!current) return notFound(res, r, name);
    switch (req.method) {
      case 'GET':
        return send(res, 200, current);
      case 'PUT': {
        const b = body as Obj;
        const sentRv = b?.metadata?.resourceVersion;
        if (sentRv && sentRv !== current.metadata.resourceVersion) {
          return status(
            res,
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${r.plural}${r.group ? `.${r.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            { name, group: r.group, kind: r.plural },
          );
        }
        if (r.kind === 'Service' && b.spec?.clusterIP && b.spec.clusterIP !== current.spec.clusterIP) {
          return invalid(res, r, name, [
            { field: 'spec.clusterIP', reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable' },
          ]);
        }
        if (r.kind === 'Deployment' && JSON.stringify(b.spec?.selector) !== JSON.stringify(current.spec.selector)) {
          return invalid(res, r, name, [
            { field: 'spec.selector', reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable' },
          ]);
        }
        const causes = validate(r.kind, b, name);
        if (causes.length) return invalid(res, r, name, causes);
        const o = stamp(r, b, name, current);
        objects.set(name, o);
        record('MODIFIED', r.kind, o);
        return send(res, 200, o);
      }
      case 'PATCH': {
        const ct = String(req.headers['content-type'] ?? '').split(';')[0];
        const next = clone(current);
        if (ct === 'application/json-patch+json') {
          const err = applyJsonPatch(next, body as Obj[]);
          if (err) return status(res, 422, 'Invalid', err);
        } else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') {
          mergePatch(next, body as Obj);
        } else {
          return status(
            res,
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
          );
        }
        const causes = validate(r.kind, next, name);
        if (causes.length) return invalid(res, r, name, causes);
        const o = stamp(r, next, name, current);
        objects.set(name, o);
        record('MODIFIED', r.kind, o);
        return send(res, 200, o);
      }
      case 'DELETE': {
        objects.delete(name);
        bump(current);
        record('DELETED', r.kind, current);
        return send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group: r.group, kind: r.plural, uid: current.metadata.uid },
        });
      }
      default:
        return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  function handlePods(
    namespace: string,
    name: string | undefined,
    log: boolean,
    req: IncomingMessage,
    res: ServerResponse,
    query: Record<string, string>,
  ) {
    if (namespace !== ns) return status(res, 403, 'Forbidden', `pods is forbidden: namespace ${namespace} is not served by this fake`);
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', 'fake: pods are read-only here');
    if (!name) {
      const selector = parseSelector(query.labelSelector);
      const items = [...pods.values()]
        .map((p) => p.pod)
        .filter((p) => matches(p, selector))
        .map(clone);
      return send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items });
    }
    const entry = pods.get(name);
    if (!entry) return status(res, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    if (!log) return send(res, 200, clone(entry.pod));
    const container = entry.pod.spec.containers[0].name as string;
    if (query.container && query.container !== container) {
      return status(res, 400, 'BadRequest', `container ${query.container} is not valid for pod ${name}`);
    }
    if (entry.pod.status.phase === 'Pending') {
      return status(res, 400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    }
    if (query.sinceSeconds && query.sinceTime) {
      return status(res, 400, 'BadRequest', 'at most one of sinceTime or sinceSeconds may be specified');
    }
    const since = query.sinceSeconds
      ? Date.now() - Number(query.sinceSeconds) * 1000
      : query.sinceTime
        ? Date.parse(query.sinceTime)
        : undefined;
    let lines = entry.lines.filter((l) => since === undefined || l.at >= since);
    if (query.tailLines) lines = lines.slice(-Number(query.tailLines));
    const stamps = query.timestamps === 'true';
    const format = (l: { at: number; text: string }) => `${stamps ? `${new Date(l.at).toISOString()} ` : ''}${l.text}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.write(lines.map(format).join(''));
    if (query.follow !== 'true') {
      res.end();
      return;
    }
    const follower = { res, stamps };
    entry.followers.add(follower);
    res.on('close', () => entry.followers.delete(follower));
  }

  function openWatch(r: Resource, query: Record<string, string>, res: ServerResponse): void {
    watchCount++;
    if (watchMode === 'fail') {
      status(res, 500, 'InternalError', 'fake: watch is switched off');
      return;
    }
    const selector = parseSelector(query.labelSelector);
    const from = Number(query.resourceVersion || 0);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const oldest = history[0]?.rv ?? rv;
    if (from && from < oldest - 1) {
      res.write(
        JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Expired',
            code: 410,
            message: 'too old resource version',
          },
        }) + '\n',
      );
      res.end();
      return;
    }
    for (const ev of history) {
      if (ev.kind === r.kind && ev.rv > from && matches(ev.object, selector))
        res.write(JSON.stringify({ type: ev.type, object: ev.object }) + '\n');
    }
    const stream = { kind: r.kind, selector, res };
    streams.add(stream);
    res.on('close', () => streams.delete(stream));
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) status(res, 500, 'InternalError', `fake: ${String(err)}`);
      else res.destroy();
    });
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  function updateStatus(name: string, change: (o: Obj) => void): void {
    const o = store.Deployment.get(name);
    if (!o) throw new Error(`fake: no Deployment ${name}`);
    change(o);
    bump(o);
    record('MODIFIED', 'Deployment', o);
  }

  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    get: (kind, name) => (store[kind].has(name) ? clone(store[kind].get(name)!) : undefined),
    setReadyReplicas(name, ready) {
      updateStatus(name, (o) => {
        o.status = {
          ...o.status,
          observedGeneration: o.metadata.generation,
          replicas: Math.max(ready, o.spec.replicas),
          readyReplicas: ready,
          availableReplicas: ready,
          updatedReplicas: ready,
        };
        if (ready === 0) delete o.status.readyReplicas;
      });
    },
    failRollout(name, message) {
      updateStatus(name, (o) => {
        o.status = { ...o.status, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message }] };
      });
    },
    setWatch(mode) {
      watchMode = mode;
      for (const s of streams) s.res.end();
      streams.clear();
    },
    watchRequests: () => watchCount,
    addPod(name, labels, opts = {}) {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: ns,
          labels,
          uid: `uid-pods-${name}`,
          creationTimestamp: (opts.createdAt ?? new Date()).toISOString(),
          resourceVersion: String(++rv),
        },
        spec: { containers: [{ name: opts.container ?? 'function', image: 'fake' }] },
        status: { phase: opts.phase ?? 'Running' },
      };
      pods.set(name, { pod, lines: [], followers: new Set() });
    },
    writeLog(pod, text, at = new Date()) {
      const entry = pods.get(pod);
      if (!entry) throw new Error(`fake: no pod ${pod}`);
      const line = { at: at.getTime(), text };
      entry.lines.push(line);
      for (const f of entry.followers) f.res.write(`${f.stamps ? `${at.toISOString()} ` : ''}${text}\n`);
    },
    logFollowers: (pod) => pods.get(pod)?.followers.size ?? 0,
    async close() {
      for (const s of streams) s.res.destroy();
      streams.clear();
      for (const p of pods.values()) for (const f of p.followers) f.res.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
