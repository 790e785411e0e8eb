/**
 * @herald/cli: the `herald` command's modules, for tests and tools that want its reports
 * as data. The binary is dist/main.js.
 * @packageDocumentation
 */
export { COMMANDS, DEFAULT_NAMESPACE, helpText, parseArgs, parseServiceRef, type Command, type CommandName, type GlobalOptions, type OutputFormat } from './args.js';
export { KubeClusterApi, loadClusterConfig, type ClusterApi, type CrdInfo, type ListCustom } from './api.js';
export { EXIT, UsageError, exitCodeFor, type ExitCode } from './errors.js';
export { explain, explainAllocation, explainAnnouncements, loadExplain, renderExplanation, type AllocationReport, type ExplainInput, type Explanation, type IPAnnouncement, type NodeLine, type PoolLine } from './explain.js';
export { convertMetalLB, hasLoss, loadMetalLBFromCluster, parseDocuments, problemLines, renderImport, unknownFields, type HeraldObject, type ImportProblem, type ImportResult, type Severity } from './metallb.js';
export { speakersFromLeases, type SpeakerLease, type SessionRow } from './objects.js';
export { buildStatus, loadStatus, renderStatus, type PoolRow, type ServiceRow, type StatusInput, type StatusReport } from './status.js';
export { formatData, run, type RunDeps, type RunResult } from './run.js';
