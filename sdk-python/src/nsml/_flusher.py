"""The background flusher: turns records into wire form and delivers them in batches."""

from __future__ import annotations

import itertools
import operator
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _report
from ._transport import Transport, TransportError
from ._warn import warn_once

#: A record with more keys than this travels as several records with the same time and step.
MAX_KEYS_PER_RECORD = 2000
BATCH_RECORDS = 2000
#: The longest the background thread converts records before it rests.
SLICE_S = 0.005


class Flusher:
    """Drains the report buffer every ``interval_s`` on its own thread, or on demand.

    Undelivered data stays here (bounded like the buffer) and is retried at the next tick.
    Every failure is counted and warned about once; nothing is raised into the thread.
    """

    def __init__(self, transport: Callable[[], Transport], interval_s: float) -> None:
        self._transport = transport
        self.interval_s = interval_s
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._unsent: Deque[Dict[str, Any]] = deque()
        self._messages: Deque[Dict[str, Any]] = deque()
        self._names: Dict[Tuple[str, ...], Tuple[str, ...]] = {}
        self._last_step: Any = None
        self._count = 0
        self._dropped_seen = 0
        self._dropped_unsent = 0
        self.summary: Dict[str, Any] = {}
        self.failures = 0
        self.delivered = 0
        #: Records taken from the buffer so far.
        self.converted = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="nsml-flusher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._work_off_backlog()

    def _work_off_backlog(self) -> None:
        """Flushes in slices of at most ``SLICE_S``. While the script keeps reporting (a burst),
        each slice is followed by a rest three times as long, so the flusher takes at most a
        quarter of the GIL from the training loop; once the burst is over it drains at full speed."""
        buffer = _report.buffer()
        while True:
            started = time.monotonic()
            before = len(buffer) + self.converted
            self.flush(SLICE_S)
            if not buffer or self._stop.is_set():
                return
            reporting = len(buffer) + self.converted > before
            rest = 3 * (time.monotonic() - started) if reporting else 0.0
            self._stop.wait(max(0.0005, rest))

    def current_step(self) -> Any:
        """The step of the last record taken (0 before any)."""
        with self._lock:
            self._drain()
            return self._last_step if self._last_step is not None else max(0, self._count - 1)

    def reset_steps(self) -> None:
        """Forgets the step history, as at the start of a session."""
        with self._lock:
            self._drain()
            self._last_step = None
            self._count = 0

    def add_message(self, message: Dict[str, Any]) -> None:
        """Queues an ``event`` or ``result``; it is sent after the records taken before it."""
        with self._lock:
            self._drain()
            self._messages.append(message)

    def flush(self, budget_s: Optional[float] = None) -> bool:
        """Delivers everything buffered now (or what ``budget_s`` seconds of conversion allow);
        returns True when nothing is left undelivered."""
        with self._lock:
            try:
                self._drain(budget_s)
                self._send_records()
                self._send_messages()
            except Exception as err:  # noqa: BLE001 - the flusher must outlive any bug
                self.failures += 1
                warn_once("flush-bug", f"the metric flusher failed ({type(err).__name__}: {err}); it keeps going")
            return not self._unsent and not self._messages

    def close(self, timeout: float) -> bool:
        """Stops the thread and makes a last delivery; True when nothing was left behind."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            return self.flush()
        finally:
            self._lock.release()

    def _drain(self, budget_s: Optional[float] = None) -> None:
        buffer = _report.buffer()
        wire = self._wire
        unsent = self._unsent
        pop = buffer.popleft
        if budget_s is None:
            while buffer:
                wire(pop(), unsent)
        else:
            deadline = time.monotonic() + budget_s
            while buffer and time.monotonic() < deadline:
                for _ in range(min(256, len(buffer))):
                    wire(pop(), unsent)
        dropped = _report.STATE.dropped
        if dropped != self._dropped_seen:
            self._dropped_unsent += dropped - self._dropped_seen
            self._dropped_seen = dropped
            warn_once("dropped", f"the metric buffer overflowed; {dropped} record(s) were dropped (counted and reported)")
        limit = _report.capacity()
        while len(unsent) > limit:
            unsent.popleft()
            self._dropped_unsent += 1

    def _wire(self, record: _report.Record, out: Deque[Dict[str, Any]]) -> None:
        self._count += 1
        self.converted += 1
        # The metric keys come first, then the integer keys report() added (TS, STEP, SUMMARY).
        keys = tuple(record)
        names = self._names.get(keys)
        if names is None:
            names = self._names_of(keys)
        if not names:
            return
        values = dict(zip(names, record.values()))
        step = record[_report.STEP]
        if type(step) is int:
            self._last_step = step
        else:
            step = self._step(step)
        ts_ms = int(record[_report.TS] * 1000)
        summary = _report.SUMMARY in record
        if summary:
            self.summary.update(values)
        if len(values) <= MAX_KEYS_PER_RECORD:
            out.append({"ts_ms": ts_ms, "step": step, "values": values, "summary": True} if summary
                       else {"ts_ms": ts_ms, "step": step, "values": values})
            return
        items = list(values.items())
        for i in range(0, len(items), MAX_KEYS_PER_RECORD):
            part = dict(items[i:i + MAX_KEYS_PER_RECORD])
            out.append({"ts_ms": ts_ms, "step": step, "values": part, "summary": bool(summary)})

    def _names_of(self, keys: Tuple[Any, ...]) -> Tuple[str, ...]:
        """Stored names of the metric keys (the string ones), cached per key tuple."""
        names = tuple(_report.KEY_MAP.get(k) or k.replace("__", "/") for k in keys if isinstance(k, str))
        if len(self._names) < 10_000:
            self._names[keys] = names
        return names

    def _step(self, step: Any) -> Any:
        if step is None:
            return self._last_step if self._last_step is not None else self._count - 1
        if type(step) is not int:
            step = _coerce_step(step)
            if step is None:
                return self._last_step if self._last_step is not None else self._count - 1
        self._last_step = step
        return step

    def _send_records(self) -> None:
        unsent = self._unsent
        while unsent or self._dropped_unsent:
            batch = list(itertools.islice(unsent, BATCH_RECORDS))
            try:
                sent = self._transport().send_metrics(batch, self._dropped_unsent)
            except TransportError as err:
                self._failed(err)
                return
            self._dropped_unsent = 0
            for _ in range(sent):
                unsent.popleft()
            self.delivered += sent
            if sent < len(batch):
                self._failed(TransportError("part of a batch was not delivered"))
                return

    def _send_messages(self) -> None:
        while self._messages:
            try:
                self._transport().send_message(self._messages[0])
            except TransportError as err:
                self._failed(err)
                return
            self._messages.popleft()

    def _failed(self, err: Exception) -> None:
        self.failures += 1
        warn_once("deliver", f"cannot deliver metrics for now ({err}); they are kept and retried")

    def pending_records(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._unsent)


def _coerce_step(step: Any) -> Optional[Any]:
    if isinstance(step, bool):
        return int(step)
    try:
        return operator.index(step)
    except TypeError:
        pass
    try:
        number = float(step)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number
