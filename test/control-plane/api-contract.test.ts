/** The API contract (api-contract.suite.ts) against a control plane in memory mode, the default. */
import { apiContractSuite } from './api-contract.suite.js';
import { MEMORY_MODE } from './suite-mode.js';

apiContractSuite(MEMORY_MODE);
