"""The package's exceptions. Each carries a stable ``code`` shared with the platform."""

from __future__ import annotations

from typing import Any, Dict, Optional

NOT_FOUND = "NSML_E_NOT_FOUND"
INVALID_ARGUMENT = "NSML_E_INVALID_ARGUMENT"
INVALID_NAME = "NSML_E_INVALID_NAME"
UNAVAILABLE = "NSML_E_AGENT_UNAVAILABLE"
TOO_LARGE = "NSML_E_TOO_LARGE"
NOTHING_BOUND = "NSML_E_NOTHING_BOUND"
INTERNAL = "NSML_E_INTERNAL"


class NsmlError(Exception):
    """An error of the nsml package or of the platform. Branch on ``code``, not the message."""

    def __init__(self, code: str, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: Dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class CheckpointNotFoundError(NsmlError, LookupError):
    """``load`` asked for a checkpoint that does not exist; ``existing`` lists those that do."""

    def __init__(self, message: str, existing: "list[str]", session: str = "") -> None:
        super().__init__(NOT_FOUND, message, {"existing": list(existing), "session": session})
        self.existing = list(existing)
        self.session = session


class AgentUnavailableError(NsmlError, ConnectionError):
    """The agent's socket could not be reached in time for an operation that needs an answer."""

    def __init__(self, message: str) -> None:
        super().__init__(UNAVAILABLE, message)


def from_wire(error: Any) -> NsmlError:
    """Builds the exception for an error object received from the agent."""
    if not isinstance(error, dict):
        return NsmlError(INTERNAL, f"the agent answered with an error of unexpected shape: {error!r}")
    code = str(error.get("code") or INTERNAL)
    message = str(error.get("message") or "the agent reported an error without a message")
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    if code == NOT_FOUND and isinstance(details.get("existing"), list):
        return CheckpointNotFoundError(message, [str(x) for x in details["existing"]], str(details.get("session", "")))
    return NsmlError(code, message, details)
