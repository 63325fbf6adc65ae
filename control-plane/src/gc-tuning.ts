/**
 * V8 tuning for the control-plane program, imported first by main.ts (embedders of
 * createControlPlane keep their own flags).
 *
 * Allocation-site pretenuring off. V8 starts allocating an allocation site's objects straight
 * into the old generation once most of them survive young collections. The control plane keeps
 * up to NANOFAAS_EXECUTION_MAX_RECORDS finished executions, so the sites that build an
 * execution's pieces look long-lived and get pretenured; but a record dies when it is evicted,
 * and until the next full collection each dead old-space record still holds what it points to
 * in the young generation, so every scavenge copies the request's objects along with it and
 * then promotes them. `npm run bench:cp-alloc`: 3,500–3,700 bytes promoted per sync call with
 * pretenuring, 360 without (the bare hop promotes about 100), and a fifth of the GC pause per
 * call (BENCHMARKS.md). The flag is read at each collection, so setting it at startup takes effect.
 * (Measured while records were objects. Since they became columns (invocation/finished-records.ts)
 * a kept record's only object is its output text; the flag has not been measured again.)
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
