"""DataLoader's worker processes (``num_workers > 0``), with ``torch.utils.data``'s semantics.

Each worker is a process of the standard library's ``multiprocessing`` (``forkserver`` where
the platform has it, Linux and macOS, else ``spawn``: the same rules everywhere, and safe
in a process with threads, where ``fork`` is not). It receives the dataset, ``collate_fn`` and ``worker_init_fn`` pickled, seeds
its generators with ``base_seed + worker_id``, calls ``worker_init_fn(worker_id)`` once, then
turns tasks into batches. The main process hands out tasks round-robin, at most
``prefetch_factor`` per worker ahead, and yields the results in task order, so a map-style
dataset gives the batches of ``num_workers=0``. Each process of an iterable-style dataset
iterates its own copy (``get_worker_info`` tells it which part to keep).

An error in a worker is raised again in the main process with the worker's id and
traceback; the workers stop at the end of a pass (unless ``persistent_workers``), when the
iterator is garbage collected, on an error and on Ctrl-C.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import pickle
import queue
import random
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from tinynet._random import manual_seed

__all__ = ["WorkerInfo", "WorkerPool", "get_worker_info", "pickled_for_workers"]

# How often a process waiting on a queue checks that the other side is still alive (s).
_CHECK_INTERVAL = 0.5
# How long the main process waits for a worker to finish its batch before terminating it (s).
_JOIN_TIMEOUT = 5.0


#: The start of each worker process's name (``multiprocessing.active_children()``).
WORKER_NAME = "tinynet DataLoader worker"


class WorkerInfo(NamedTuple):
    """What ``get_worker_info()`` returns inside a worker: its ``id`` (0 to
    ``num_workers - 1``), ``num_workers``, its ``seed`` and its copy of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, which worker this is (``WorkerInfo``); None in the
    main process. An iterable-style dataset uses it to iterate only its part of the data.

    >>> get_worker_info() is None
    True
    """
    return _worker_info


class _Exhausted(NamedTuple):
    """A worker's iterable-style dataset has no more batches this pass."""

    worker_id: int


class _Failure(NamedTuple):
    """An exception raised in a worker, as the main process raises it again."""

    worker_id: int
    error_type: type | None  # None when the class itself does not pickle
    type_name: str
    traceback: str

    def reraise(self):
        message = (
            f"Caught {self.type_name} in DataLoader worker process {self.worker_id}.\n"
            f"Original {self.traceback}"
        )
        error = None
        # A StopIteration raised from __next__ would end the caller's loop silently.
        if self.error_type is not None and not issubclass(self.error_type, StopIteration):
            try:
                error = self.error_type(message)
            except Exception:  # a constructor that wants other arguments
                pass
        raise error if isinstance(error, BaseException) else RuntimeError(message)


def _failure(worker_id: int, error: BaseException) -> _Failure:
    try:
        error_type: type | None = pickle.loads(pickle.dumps(type(error)))
    except Exception:
        error_type = None
    return _Failure(worker_id, error_type, type(error).__name__, traceback.format_exc())


def pickled_for_workers(start_method: str, payload: dict, parts: dict) -> bytes:
    """``payload`` pickled for worker processes; if it does not pickle, a ``TypeError``
    naming which of ``parts`` (name -> value) fails, and the fix."""
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        culprits = [name for name, value in parts.items() if not _pickles(value)] or ["data"]
        raise TypeError(
            f"DataLoader(num_workers > 0) sends the {' and the '.join(culprits)} to worker "
            f"processes (start method {start_method!r}), so they must pickle: {error}. "
            "Define them (and what they hold) at the top level of a module, not as lambdas "
            "or local functions or classes, and guard the script's entry point with "
            "`if __name__ == '__main__':`; or load in the main process with num_workers=0."
        ) from error


def _pickles(value) -> bool:
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False
    return True


def _seed_worker(seed: int) -> None:
    """Seed what a dataset may draw from: tinynet's global generator, ``random`` and NumPy's
    legacy global state (as PyTorch seeds torch, ``random`` and NumPy in its workers)."""
    manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence(seed).generate_state(4))


def _worker_loop(
    worker_id, num_workers, base_seed, payload, index_queue, result_queue, current_pass
) -> None:
    """A worker's life: seed, unpickle, ``worker_init_fn``, then one result per task until
    the main process sends None (or is gone)."""
    global _worker_info
    main_process = multiprocessing.parent_process()  # the forkserver is the OS parent
    try:
        seed = base_seed + worker_id
        _seed_worker(seed)
        setup_error = None
        try:
            values = pickle.loads(payload)
            fetcher = values["fetcher"]
            _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
            if values["worker_init_fn"] is not None:
                values["worker_init_fn"](worker_id)
        except Exception as error:
            setup_error = _failure(worker_id, error)
        pass_started = None
        while True:
            try:
                task = index_queue.get(timeout=_CHECK_INTERVAL)
            except queue.Empty:
                if main_process is not None and not main_process.is_alive():
                    break  # the main process is gone
                continue
            if task is None:
                break
            pass_number, number, indices = task
            if pass_number != current_pass.value:
                continue  # a task of a pass the main process gave up
            if setup_error is not None:
                result: Any = setup_error
            else:
                if pass_started != pass_number:
                    fetcher.start()
                    pass_started = pass_number
                try:
                    result = fetcher(indices)
                except StopIteration as error:  # the end of an iterable-style pass
                    result = (
                        _Exhausted(worker_id) if fetcher.iterable else _failure(worker_id, error)
                    )
                except Exception as error:
                    result = _failure(worker_id, error)
            result_queue.put((pass_number, number, result))
    except KeyboardInterrupt:
        pass  # Ctrl-C reached the whole process group: the main process raises it
    result_queue.cancel_join_thread()  # exit even if the main process reads no more


def default_context(context=None):
    """The multiprocessing context: ``context`` (a start method's name or a context), else
    ``forkserver`` where the platform has it and ``spawn`` elsewhere."""
    if context is None:
        methods = multiprocessing.get_all_start_methods()
        context = "forkserver" if "forkserver" in methods else "spawn"
    if isinstance(context, str):
        if context not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"multiprocessing_context should specify a valid start method in "
                f"{multiprocessing.get_all_start_methods()!r}, but got {context!r}"
            )
        context = multiprocessing.get_context(context)
        if context.get_start_method() == "forkserver":
            # Workers forked from a server that already imported tinynet start fast; the
            # modules it preloads already ('__main__' by default) stay.
            server = getattr(multiprocessing.forkserver, "_forkserver", None)
            preload = list(getattr(server, "_preload_modules", None) or ["__main__"])
            if "tinynet.data" not in preload:
                context.set_forkserver_preload([*preload, "tinynet.data"])
    return context


class WorkerPool:
    """``num_workers`` processes running ``fetcher`` (see ``tinynet.data``), and one pass of
    tasks at a time over them: an iterator of batches, reset for the next pass when the
    workers are persistent."""

    def __init__(
        self, fetcher, num_workers: int, *, worker_init_fn: Callable | None, context,
        prefetch_factor: int, timeout: float, persistent: bool, base_seed: int,
    ) -> None:  # fmt: skip
        self.context = default_context(context)
        payload = pickled_for_workers(
            self.context.get_start_method(),
            {"fetcher": fetcher, "worker_init_fn": worker_init_fn},
            {
                "dataset": fetcher.dataset,
                "collate_fn": fetcher.collate_fn,
                "worker_init_fn": worker_init_fn,
            },
        )
        self.num_workers, self.prefetch = num_workers, prefetch_factor * num_workers
        self.timeout, self.persistent = timeout, persistent
        self.closed = False
        self.result_queue = self.context.Queue()
        self.current_pass = self.context.Value("q", 0, lock=False)
        self.index_queues: list = []
        self.workers: list = []
        try:
            for worker_id in range(num_workers):
                index_queue = self.context.Queue()
                worker = self.context.Process(
                    target=_worker_loop,
                    args=(
                        worker_id,
                        num_workers,
                        base_seed,
                        payload,
                        index_queue,
                        self.result_queue,
                        self.current_pass,
                    ),  # fmt: skip
                    name=f"{WORKER_NAME} {worker_id}",
                    daemon=True,
                )
                worker.start()
                self.index_queues.append(index_queue)
                self.workers.append(worker)
        except BaseException:
            self.close()
            raise

    # -- one pass ----------------------------------------------------------------------------
    def start_pass(self, tasks: Iterable) -> WorkerPool:
        """Begin a pass over ``tasks`` (index arrays; Nones for an iterable-style dataset)."""
        if self.closed:
            raise RuntimeError("this DataLoader's workers were shut down; iterate it anew")
        self.current_pass.value += 1  # workers skip what is left of an earlier pass
        self.tasks = iter(tasks)
        self.results: dict = {}
        self.worker_of: dict = {}
        self.active = list(range(self.num_workers))
        self.sent = self.next_number = 0
        for _ in range(self.prefetch):
            self._send_task()
        return self

    def _send_task(self) -> None:
        if not self.active:
            return
        task = next(self.tasks, _END)
        if task is _END:
            return
        worker_id = self.active[self.sent % len(self.active)]
        self.index_queues[worker_id].put((self.current_pass.value, self.sent, task))
        self.worker_of[self.sent] = worker_id
        self.sent += 1

    def __iter__(self) -> WorkerPool:
        return self

    def __next__(self):
        try:
            return self._next()
        except StopIteration:
            if not self.persistent:
                self.close()
            raise
        except BaseException:  # a worker's error, a timeout, Ctrl-C: no worker outlives it
            self.close()
            raise

    def _next(self):
        while True:
            if self.closed or self.next_number == self.sent:
                raise StopIteration
            number = self.next_number
            if number not in self.results:
                self._receive()
                continue
            result = self.results.pop(number)
            self.next_number += 1
            if isinstance(result, _Exhausted):
                if result.worker_id in self.active:
                    self.active.remove(result.worker_id)
                self._send_task()
                continue
            if isinstance(result, _Failure):
                result.reraise()
            self._send_task()
            return result

    def _receive(self) -> None:
        """Wait for one result of this pass, checking the workers and the timeout."""
        started = time.monotonic()
        while True:
            wait = _CHECK_INTERVAL
            if self.timeout:
                wait = min(wait, max(self.timeout - (time.monotonic() - started), 0.0))
            try:
                pass_number, number, result = self.result_queue.get(timeout=wait)
            except queue.Empty:
                if self.timeout and time.monotonic() - started >= self.timeout:
                    raise RuntimeError(
                        f"DataLoader timed out after {self.timeout} seconds waiting for a batch "
                        "from its workers"
                    ) from None
                dead = [w for w in self.workers if not w.is_alive()]
                if dead:
                    described = ", ".join(f"{w.pid} (exit code {w.exitcode})" for w in dead)
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {described}) exited unexpectedly; its "
                        "error output says why (a script that starts workers needs its entry "
                        "point under `if __name__ == '__main__':`)"
                    ) from None
                continue
            if pass_number == self.current_pass.value:
                self.results[number] = result
                return

    # -- shutting down -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop the workers (they finish the batch in hand) and free the queues. Idempotent."""
        if self.closed:
            return
        self.closed = True
        for index_queue in self.index_queues:
            try:
                index_queue.put(None)
            except Exception:  # a queue already closed
                pass
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for worker in self.workers:
            worker.join(timeout=max(deadline - time.monotonic(), 0.0))
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for channel in (*self.index_queues, self.result_queue):
            channel.cancel_join_thread()
            channel.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # the interpreter is shutting down
            pass


_END = object()
