/** The conformance vectors through a control plane in memory mode, the default (control-plane.suite.ts). */
import { MEMORY_MODE } from '../control-plane/suite-mode.js';
import { conformanceSuite } from './control-plane.suite.js';

conformanceSuite(MEMORY_MODE);
