"""The traceback of an exception a user's ``call`` function raised, without the package's frames.

An operator who runs ``nsml control S call NAME`` sees where *their* code failed; the frames of
this package (the command loop that called the function, or an ``nsml`` call inside it) say
nothing to them. Chained exceptions (``raise ... from``, or one raised while handling another)
are kept, each filtered the same way.
"""

from __future__ import annotations

import os
import traceback
from typing import Optional

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _ours(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def _strip(te: Optional[traceback.TracebackException], seen: set) -> None:
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if not _ours(f.filename)])
        _strip(te.__cause__, seen)
        te = te.__context__


def user_traceback(err: BaseException, limit_chars: int) -> str:
    """``err``'s traceback as Python prints it, less the package's frames; the last ``limit_chars``."""
    te = traceback.TracebackException(type(err), err, err.__traceback__)
    _strip(te, set())
    return "".join(te.format())[-limit_chars:]
