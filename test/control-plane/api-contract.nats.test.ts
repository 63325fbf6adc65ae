/**
 * The API contract (api-contract.suite.ts) against a control plane in NATS mode (docs/design.md
 * §3.12): NANOFAAS_NATS_URL pointing at a real nats-server of this file's own.
 */
import { apiContractSuite } from './api-contract.suite.js';
import { natsSuiteMode } from './suite-mode.js';

apiContractSuite(natsSuiteMode());
