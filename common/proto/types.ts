// Re-exports of the generated message types that the rest of the code uses, so that imports
// read `from '../common/proto/types.js'` rather than reaching into generated/.
export type { GpuInfo, GpuInfo__Output } from './generated/nsml/v1/GpuInfo.js';
export type { GpuProcess, GpuProcess__Output } from './generated/nsml/v1/GpuProcess.js';
export type { NodeInventory, NodeInventory__Output } from './generated/nsml/v1/NodeInventory.js';
export type { LogLine, LogLine__Output } from './generated/nsml/v1/LogLine.js';
export type { Session, Session__Output } from './generated/nsml/v1/Session.js';
export type { SubmitRequest, SubmitRequest__Output } from './generated/nsml/v1/SubmitRequest.js';
export type { Placement, Placement__Output } from './generated/nsml/v1/Placement.js';
export type { AgentMessage, AgentMessage__Output } from './generated/nsml/v1/AgentMessage.js';
export type { CoordinatorMessage, CoordinatorMessage__Output } from './generated/nsml/v1/CoordinatorMessage.js';
export type { StartSession, StartSession__Output } from './generated/nsml/v1/StartSession.js';
export type { StopSession, StopSession__Output } from './generated/nsml/v1/StopSession.js';
export type { RunningProcess, RunningProcess__Output } from './generated/nsml/v1/RunningProcess.js';
export type { SessionStatus, SessionStatus__Output } from './generated/nsml/v1/SessionStatus.js';
export type { LogBatch, LogBatch__Output } from './generated/nsml/v1/LogBatch.js';
export type { LogAck, LogAck__Output } from './generated/nsml/v1/LogAck.js';
export type { BlobChunk, BlobChunk__Output } from './generated/nsml/v1/BlobChunk.js';
export type { Node, Node__Output } from './generated/nsml/v1/Node.js';
export type { SessionServiceClient, SessionServiceHandlers } from './generated/nsml/v1/SessionService.js';
export type { AgentServiceClient, AgentServiceHandlers } from './generated/nsml/v1/AgentService.js';
export type { BlobServiceClient, BlobServiceHandlers } from './generated/nsml/v1/BlobService.js';
export type { AdminServiceClient, AdminServiceHandlers } from './generated/nsml/v1/AdminService.js';
export type { HealthClient, HealthHandlers } from './generated/grpc/health/v1/Health.js';
