import type { AgentServiceHandlers } from '../../common/proto/types.js';
import { AgentConnection } from '../agents/agent-connection.js';
import type { CoordinatorContext } from '../context.js';

/** AgentService: one Connect stream per agent, see proto/agent-stream.md. */
export function agentService(ctx: CoordinatorContext): AgentServiceHandlers {
  return {
    Connect: (call) => {
      if (ctx.closing.aborted) {
        call.end();
        return;
      }
      new AgentConnection(ctx, call);
    },
    Exec: (call) => ctx.exec.fromAgent(call),
  };
}
