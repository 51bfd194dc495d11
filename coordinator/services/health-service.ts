import { EventEmitter } from 'node:events';
import { echo } from '../../common/echo.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { toServiceError } from '../../common/grpc/status.js';
import type { HealthHandlers } from '../../common/proto/types.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** The services a health check may name; "" is the whole server. */
export const HEALTH_SERVICES = ['', 'nsml.v1.SessionService', 'nsml.v1.AgentService', 'nsml.v1.BlobService', 'nsml.v1.AdminService'];

/** Serving status of the coordinator, observable. */
export class HealthState extends EventEmitter {
  status: ServingStatus = 'SERVING';

  set(status: ServingStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit('change', status);
  }
}

/** grpc.health.v1.Health: Check and Watch. */
export function healthService(state: HealthState): HealthHandlers {
  return {
    Check: (call, callback) => {
      if (!HEALTH_SERVICES.includes(call.request.service)) {
        callback(toServiceError(new NsmlError(ErrorCodes.NOT_FOUND, `unknown service ${echo(call.request.service)}; ask about "" (the whole server) or one of ${HEALTH_SERVICES.slice(1).join(', ')}`)));
        return;
      }
      callback(null, { status: state.status });
    },
    Watch: (call) => {
      const known = HEALTH_SERVICES.includes(call.request.service);
      call.write({ status: known ? state.status : 'SERVICE_UNKNOWN' });
      if (!known) return;
      const onChange = (s: ServingStatus) => {
        call.write({ status: s });
        if (s === 'NOT_SERVING') {
          state.off('change', onChange);
          call.end();
        }
      };
      state.on('change', onChange);
      call.on('cancelled', () => state.off('change', onChange));
    },
  };
}
