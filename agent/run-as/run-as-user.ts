/** The Unix account a session's processes run as. */
export interface RunAsUser {
  /** The account's name (USER and LOGNAME of the process). */
  name: string;
  uid: number;
  /** Its primary group; the process gets no supplementary groups. */
  gid: number;
}

/** Whether sessions on this node run apart from each other and from the agent (NodeInventory.isolation). */
export type Isolation = 'users' | 'none';

/** Who runs each nsml user's sessions (agent/run-as/session-users.ts); absent: the agent's own user. */
export interface SessionUsers {
  /** The account for nsml user `user`, creating it when that is the policy; rejects with an NsmlError. */
  resolve(user: string): Promise<RunAsUser>;
}
