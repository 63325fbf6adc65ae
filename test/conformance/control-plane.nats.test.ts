/**
 * The conformance vectors through a control plane in NATS mode (control-plane.suite.ts,
 * docs/design.md §3.12): NANOFAAS_NATS_URL pointing at a real nats-server of this file's own.
 */
import { natsSuiteMode } from '../control-plane/suite-mode.js';
import { conformanceSuite } from './control-plane.suite.js';

conformanceSuite(natsSuiteMode());
