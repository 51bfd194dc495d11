"""Becoming a session's Unix account in a child process between fork and exec.

Shared by the session supervisor (agent/runner/supervisor.py) and the terminal helper
(agent/exec/exec-helper.py), both started by the agent as root. Standard library only.
"""

import os

PR_SET_NO_NEW_PRIVS = 38


def load_libc():
    """libc for prctl, or None where ctypes is missing."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:
        return None


def checked_user(user):
    """The "user" of launch.json, or None; raises ValueError for anything but an unprivileged account."""
    if user is None:
        return None
    uid, gid = user.get("uid"), user.get("gid")
    if not isinstance(uid, int) or not isinstance(gid, int) or uid <= 0 or gid <= 0:
        raise ValueError("launch.json names no unprivileged account to run as (%r)" % (user,))
    return {"name": str(user.get("name", uid)), "uid": uid, "gid": gid}


def become(user, libc):
    """The account's uid and gid with no other group and no way back (exits 126 should any id
    still be root), umask 022, and no new privileges (PR_SET_NO_NEW_PRIVS) where libc loads."""
    os.setgroups([user["gid"]])
    os.setgid(user["gid"])
    os.setuid(user["uid"])
    if os.getuid() == 0 or os.geteuid() == 0 or os.getgid() == 0 or os.getegid() == 0:
        os._exit(126)
    os.umask(0o022)
    if libc is not None:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
