/**
 * @module create-agentd
 * `npm create agentd@latest my-host`: writes a new agentd host (package.json, agentd.config.ts,
 * .env.example, a plugin stub, .gitignore, README). The functions are exported for tests and tools.
 */
export {
  AGENTS,
  type AgentKind,
  CHANNELS,
  type Channel,
  type Choices,
  CreateError,
  packageName,
  parseAgent,
  parseChannels,
} from './choices.js';
export { configFile, pluginStub } from './config-template.js';
export { createProject } from './create.js';
export { projectFiles } from './project-files.js';
