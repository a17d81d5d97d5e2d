import { openMemoryStore } from '../testing/memory-store.js';
import { describeRolesContract } from '../testing/roles-contract.js';

// The contract over the memory store here; integration/store-contracts.test.ts runs it over every store.
describeRolesContract('memory', () => openMemoryStore().state);
