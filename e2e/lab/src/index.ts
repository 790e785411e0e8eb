export { LabError, type LabErrorCode } from './errors.js';
export { MAX_NODES, MAX_ROUTERS, planLab, type HostPlan, type HostRole, type LabOptions, type LabPlan } from './plan.js';
export { createLab, listNamespaces, withLab, type Lab, type LabHost, type LabSpawnOptions, type Neighbour, type ProbeResult } from './lab.js';
export { forwardApiServer, kubeconfigServer, loopbackTarget, type ApiForward, type ApiForwardOptions } from './api.js';
export type { HttpResult } from './http.js';
export type { ExecResult, RunOptions } from './run.js';
export { parsePingLine, startPinger, type Ping, type Pinger, type PingerOptions, type PingerSpawner } from './pinger-client.js';
export * from './routers/index.js';
